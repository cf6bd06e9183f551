package io.nemotron.service.toolcall;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.node.ObjectNode;

/** Checks parsed calls against the request's tools and tool_choice. Plain state, one per request or shared. */
public final class ToolCallValidator {
    /** Null when the request named no tools: then any name is accepted (syntax-only parsing). */
    private final Map<String, ToolSpec> tools;
    private final ToolChoice choice;

    public ToolCallValidator(List<ToolSpec> tools, ToolChoice choice) {
        this.tools = new LinkedHashMap<>();
        for (ToolSpec tool : tools) {
            // a repeated name: the first definition wins, as the model saw it first in the prompt
            this.tools.putIfAbsent(tool.name(), tool);
        }
        this.choice = choice;
    }

    private ToolCallValidator(ToolChoice choice) {
        this.tools = null;
        this.choice = choice;
    }

    /** No tools to check against (e.g. {@code tools parse} without --tools): syntax only, tool_choice auto. */
    public static ToolCallValidator syntaxOnly() {
        return new ToolCallValidator(ToolChoice.AUTO);
    }

    public ToolChoice choice() {
        return choice;
    }

    /** Every reason the call does not fit; empty when it does. */
    public List<String> validate(String name, ObjectNode arguments) {
        List<String> errors = new ArrayList<>();
        if (choice.mode() == ToolChoice.Mode.NAMED && !choice.name().equals(name)) {
            errors.add("tool_choice names '" + choice.name() + "' but the model called '" + name + "'");
        }
        if (tools == null) {
            return errors;
        }
        ToolSpec tool = tools.get(name);
        if (tool == null) {
            errors.add("unknown function '" + name + "' (not among the request's tools)");
            return errors;
        }
        JsonSchemaChecker.checkArguments(arguments, tool.parameters(), errors);
        return errors;
    }

    /** The error for a finished answer with {@code callCount} calls, when tool_choice demanded one. */
    public Optional<String> missingCallError(int callCount) {
        if (callCount > 0) {
            return Optional.empty();
        }
        return switch (choice.mode()) {
            case REQUIRED -> Optional.of("tool_choice required but the model called no tool");
            case NAMED -> Optional.of("tool_choice named '" + choice.name() + "' but the model called no tool");
            default -> Optional.empty();
        };
    }
}
