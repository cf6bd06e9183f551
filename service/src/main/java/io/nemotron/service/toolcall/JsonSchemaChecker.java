package io.nemotron.service.toolcall;

import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * The subset of JSON Schema that tool definitions use: type (JSON names and BFCL's: dict, float, tuple, any),
 * enum, properties, required, additionalProperties false, items. Each breach becomes one readable message that
 * names the argument; checking goes on, so a call gets every error at once.
 */
final class JsonSchemaChecker {
    private JsonSchemaChecker() {}

    /** Checks a call's arguments object against the tool's {@code parameters} schema. */
    static void checkArguments(JsonNode arguments, JsonNode parameters, List<String> errors) {
        check(arguments, parameters, "", errors);
    }

    private static void check(JsonNode value, JsonNode schema, String path, List<String> errors) {
        if (schema == null || !schema.isObject()) {
            return;
        }
        if (isDeclaredDefault(value, schema)) {
            // NOTE: BFCL's live tools declare optional strings as {"type":"string","default":null} (or a default
            // outside the enum, such as "N/A"); the model stating that default explicitly is what the tool would
            // get anyway, so it is no error
            return;
        }
        JsonNode type = schema.get("type");
        if (type != null && !typeMatches(value, type)) {
            errors.add(where(path) + "expected " + typeText(type) + ", got " + describe(value));
            return;
        }
        JsonNode allowed = schema.get("enum");
        if (allowed != null && allowed.isArray()) {
            checkEnum(value, allowed, path, errors);
        }
        if (value.isObject()) {
            checkObject(value, schema, path, errors);
        } else if (value.isArray() && schema.has("items")) {
            for (int i = 0; i < value.size(); i++) {
                check(value.get(i), schema.get("items"), path + "[" + i + "]", errors);
            }
        }
    }

    private static void checkObject(JsonNode value, JsonNode schema, String path, List<String> errors) {
        JsonNode properties = schema.get("properties");
        JsonNode required = schema.get("required");
        if (required != null && required.isArray()) {
            for (JsonNode name : required) {
                if (name.isString() && !value.has(name.asString())) {
                    errors.add("missing required argument '" + join(path, name.asString()) + "'");
                }
            }
        }
        JsonNode additional = schema.get("additionalProperties");
        boolean closed = additional != null && additional.isBoolean() && !additional.booleanValue();
        for (Map.Entry<String, JsonNode> field : value.properties()) {
            JsonNode propertySchema = properties != null ? properties.get(field.getKey()) : null;
            if (propertySchema != null) {
                check(field.getValue(), propertySchema, join(path, field.getKey()), errors);
            } else if (closed) {
                errors.add("unknown argument '" + join(path, field.getKey()) + "' (the schema allows no others)");
            } else if (additional != null && additional.isObject()) {
                check(field.getValue(), additional, join(path, field.getKey()), errors);
            }
        }
    }

    /**
     * An enum of scalars on an array schema lists the allowed items (how BFCL's and many OpenAI tools write a
     * multi-choice argument); otherwise the enum lists allowed values, as JSON Schema says.
     */
    private static void checkEnum(JsonNode value, JsonNode allowed, String path, List<String> errors) {
        boolean itemEnum = value.isArray() && !allowed.isEmpty() && !allowed.get(0).isContainer();
        if (!itemEnum) {
            if (!contains(allowed, value)) {
                errors.add(where(path) + describe(value) + " is not one of " + allowed);
            }
            return;
        }
        for (int i = 0; i < value.size(); i++) {
            if (!contains(allowed, value.get(i))) {
                errors.add(where(path + "[" + i + "]") + describe(value.get(i)) + " is not one of " + allowed);
            }
        }
    }

    private static boolean isDeclaredDefault(JsonNode value, JsonNode schema) {
        JsonNode nullable = schema.get("nullable");
        if (value.isNull() && nullable != null && nullable.isBoolean() && nullable.booleanValue()) {
            return true;
        }
        JsonNode defaultValue = schema.get("default");
        return defaultValue != null && defaultValue.equals(value);
    }

    private static boolean typeMatches(JsonNode value, JsonNode type) {
        if (type.isString()) {
            return typeMatches(value, type.asString());
        }
        if (type.isArray()) {
            for (JsonNode t : type) {
                if (t.isString() && typeMatches(value, t.asString())) {
                    return true;
                }
            }
            return false;
        }
        return true;
    }

    private static boolean typeMatches(JsonNode value, String type) {
        return switch (type) {
            case "string" -> value.isString();
            // NOTE: 5.0 is not an integer: the model wrote a float where the tool wants an int
            case "integer", "int" -> value.isIntegralNumber();
            case "number", "float", "double" -> value.isNumber();
            case "boolean", "bool" -> value.isBoolean();
            case "array", "tuple", "list" -> value.isArray();
            case "object", "dict" -> value.isObject();
            case "null" -> value.isNull();
            // "any", and names this checker does not know, accept everything rather than reject good calls
            default -> true;
        };
    }

    private static boolean contains(JsonNode allowed, JsonNode value) {
        for (JsonNode candidate : allowed) {
            if (candidate.equals(value)
                    || (candidate.isNumber() && value.isNumber()
                    && candidate.decimalValue().compareTo(value.decimalValue()) == 0)) {
                return true;
            }
        }
        return false;
    }

    private static String typeText(JsonNode type) {
        return type.isString() ? type.asString() : type.toString();
    }

    /** The value's JSON type and the value, e.g. "integer 5" or "float 5.0" or "string \"x\"". */
    private static String describe(JsonNode value) {
        String kind;
        if (value.isIntegralNumber()) {
            kind = "integer";
        } else if (value.isNumber()) {
            kind = "float";
        } else if (value.isString()) {
            kind = "string";
        } else if (value.isBoolean()) {
            kind = "boolean";
        } else if (value.isNull()) {
            return "null";
        } else if (value.isArray()) {
            kind = "array";
        } else {
            kind = "object";
        }
        String text = value.toString();
        return kind + " " + (text.length() > 60 ? text.substring(0, 57) + "..." : text);
    }

    private static String where(String path) {
        return path.isEmpty() ? "arguments: " : "argument '" + path + "': ";
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }
}
