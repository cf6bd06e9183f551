package io.nemotron.service.toolcall;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Python form BFCL prompts Nemotron for: {@code [f(a=1, b="x"), pkg.g()]}. Keyword arguments only (BFCL's
 * checker ignores positional ones, so a positional argument is an error here rather than silently dropped).
 */
final class PythonCallListParser {
    private final PythonLiteralParser source;

    private PythonCallListParser(String text) {
        this.source = new PythonLiteralParser(text);
    }

    /** {@code text} is the whole list, brackets included. */
    static List<FunctionCall> parse(String text) {
        return new PythonCallListParser(text).callList();
    }

    private List<FunctionCall> callList() {
        source.expect('[', "to open the call list");
        List<FunctionCall> calls = new ArrayList<>();
        while (!source.tryConsume(']')) {
            calls.add(call());
            if (!source.tryConsume(',')) {
                source.expect(']', "to close the call list");
                break;
            }
        }
        if (!source.atEnd()) {
            throw source.error("text after the call list");
        }
        return calls;
    }

    private FunctionCall call() {
        String name = dottedName();
        source.expect('(', "after the function name " + name);
        ObjectNode arguments = JsonNodeFactory.instance.objectNode();
        while (!source.tryConsume(')')) {
            String keyword = source.identifier();
            if (keyword == null || source.peek() != '=') {
                throw source.error("expected keyword=value in the call of " + name
                        + " (positional arguments are not supported)");
            }
            source.expect('=', "after " + keyword);
            if (arguments.has(keyword)) {
                throw source.error("keyword argument " + keyword + " repeated in the call of " + name);
            }
            arguments.set(keyword, source.value());
            if (!source.tryConsume(',')) {
                source.expect(')', "to close the call of " + name);
                break;
            }
        }
        return new FunctionCall(name, arguments);
    }

    private String dottedName() {
        String part = source.identifier();
        if (part == null) {
            throw source.error("expected a function name");
        }
        StringBuilder name = new StringBuilder(part);
        while (source.tryConsume('.')) {
            String next = source.identifier();
            if (next == null) {
                throw source.error("expected a name after '.'");
            }
            name.append('.').append(next);
        }
        return name.toString();
    }
}
