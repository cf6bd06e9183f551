package io.nemotron.service.toolcall;

import java.util.List;
import tools.jackson.databind.node.ObjectNode;

/**
 * A call the model made, as the client sees it.
 *
 * @param id        "call_" + its position among this request's calls, so reruns give the same ids
 * @param arguments keyword arguments with exact JSON types (a Python int stays integral, 1.0 stays a double)
 * @param errors    why the call does not fit the request's tools; empty when it does. The call is returned anyway
 *                  so the client can show or repair it.
 */
public record ParsedToolCall(String id, String name, ObjectNode arguments, List<String> errors) {
    public ParsedToolCall {
        errors = List.copyOf(errors);
    }
}
