package io.nemotron.service.toolcall;

/** Receives what {@link ToolCallStreamParser} makes of the model's text, in output order. */
public interface ToolCallListener {
    /** Answer text; never empty and never holds part of a well-formed block. */
    void content(String text);

    /** A block closed and parsed; its calls carry ids and validation errors. */
    void block(ToolCallBlock block);

    /** A block that did not parse (its raw text went to {@link #content} just before), or a tool_choice breach. */
    void error(String message);
}
