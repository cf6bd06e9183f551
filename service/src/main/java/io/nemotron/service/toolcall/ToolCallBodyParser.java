package io.nemotron.service.toolcall;

import java.util.List;

/**
 * What is between {@code <TOOLCALL>} and {@code </TOOLCALL>}: a JSON list when the first thing inside the bracket
 * is an object, a Python call list otherwise. Like BFCL's decoder, surrounding whitespace and backticks are ignored
 * and a single call without brackets is read as a list of one.
 */
final class ToolCallBodyParser {
    private ToolCallBodyParser() {}

    static List<FunctionCall> parse(String body) {
        String list = strip(body);
        if (list.isEmpty()) {
            throw new ToolCallSyntaxException("the block is empty");
        }
        if (list.charAt(0) != '[') {
            list = "[" + list + "]";
        }
        return firstItemIsObject(list) ? JsonCallListParser.parse(list) : PythonCallListParser.parse(list);
    }

    private static boolean firstItemIsObject(String list) {
        for (int i = 1; i < list.length(); i++) {
            if (!Character.isWhitespace(list.charAt(i))) {
                return list.charAt(i) == '{';
            }
        }
        return false;
    }

    private static String strip(String body) {
        int start = 0;
        int end = body.length();
        while (start < end && isPadding(body.charAt(start))) {
            start++;
        }
        while (end > start && isPadding(body.charAt(end - 1))) {
            end--;
        }
        return body.substring(start, end);
    }

    private static boolean isPadding(char c) {
        return c == '`' || Character.isWhitespace(c);
    }
}
