package io.nemotron.service.http;

import io.nemotron.core.engine.InvalidRequestException;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Typed reads of an OpenAI request's JSON fields. A field of the wrong type is an {@link InvalidRequestException}
 * whose message starts with its path ({@code messages[2].role: ...}), which becomes the error's {@code param}. An
 * absent field and an explicit {@code null} both read as absent, as OpenAI's own API treats them.
 */
final class JsonFields {
    static final JsonMapper MAPPER = JsonMapper.builder().build();

    private final JsonNode node;
    private final String path;

    private JsonFields(JsonNode node, String path) {
        this.node = node;
        this.path = path;
    }

    /** The request body, which must be one JSON object. */
    static JsonFields body(String json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json == null ? "" : json);
        } catch (JacksonException e) {
            throw new InvalidRequestException("body: not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw new InvalidRequestException("body: must be a JSON object");
        }
        return new JsonFields(root, "");
    }

    static JsonFields of(JsonNode object, String path) {
        if (!object.isObject()) {
            throw new InvalidRequestException(path + ": must be an object");
        }
        return new JsonFields(object, path + ".");
    }

    String path(String field) {
        return path + field;
    }

    boolean has(String field) {
        JsonNode v = node.get(field);
        return v != null && !v.isNull();
    }

    JsonNode raw(String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v;
    }

    String string(String field) {
        JsonNode v = raw(field);
        if (v == null) {
            return null;
        }
        if (!v.isString()) {
            throw new InvalidRequestException(path(field) + ": must be a string");
        }
        return v.asString();
    }

    String requiredString(String field) {
        String s = string(field);
        if (s == null) {
            throw new InvalidRequestException(path(field) + ": is required");
        }
        return s;
    }

    Boolean bool(String field) {
        JsonNode v = raw(field);
        if (v == null) {
            return null;
        }
        if (!v.isBoolean()) {
            throw new InvalidRequestException(path(field) + ": must be true or false");
        }
        return v.booleanValue();
    }

    boolean bool(String field, boolean otherwise) {
        Boolean b = bool(field);
        return b == null ? otherwise : b;
    }

    Double number(String field) {
        JsonNode v = raw(field);
        if (v == null) {
            return null;
        }
        if (!v.isNumber() || !Double.isFinite(v.doubleValue())) {
            throw new InvalidRequestException(path(field) + ": must be a number");
        }
        return v.doubleValue();
    }

    Long integer(String field) {
        JsonNode v = raw(field);
        if (v == null) {
            return null;
        }
        // 2.0 is an integer to JSON; 2.5 is not
        if (!v.isNumber() || v.doubleValue() != Math.rint(v.doubleValue()) || !v.canConvertToLong()) {
            throw new InvalidRequestException(path(field) + ": must be an integer");
        }
        return v.longValue();
    }

    /** An integer field within [min, max], or null when absent. */
    Integer integer(String field, long min, long max) {
        Long v = integer(field);
        if (v == null) {
            return null;
        }
        if (v < min || v > max) {
            throw new InvalidRequestException(path(field) + ": must be between " + min + " and " + max + ", got " + v);
        }
        return (int) (long) v;
    }

    /** The array's items (empty when absent). */
    List<JsonNode> array(String field) {
        JsonNode v = raw(field);
        if (v == null) {
            return List.of();
        }
        if (!v.isArray()) {
            throw new InvalidRequestException(path(field) + ": must be an array");
        }
        List<JsonNode> items = new ArrayList<>();
        v.forEach(items::add);
        return items;
    }

    /** A nested object's fields, or null when absent. */
    JsonFields object(String field) {
        JsonNode v = raw(field);
        return v == null ? null : of(v, path(field));
    }
}
