package io.nemotron.service.toolcall;

import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * JSON nodes to google.protobuf.Struct, for ToolCall.arguments. NOTE: Struct has one number type (a double), so an
 * integer beyond 2^53 loses digits on the wire; clients read integral doubles back as integers.
 */
public final class JsonStructs {
    private JsonStructs() {}

    public static Struct toStruct(JsonNode object) {
        Struct.Builder struct = Struct.newBuilder();
        for (Map.Entry<String, JsonNode> field : object.properties()) {
            struct.putFields(field.getKey(), toValue(field.getValue()));
        }
        return struct.build();
    }

    public static Value toValue(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
        }
        if (node.isBoolean()) {
            return Value.newBuilder().setBoolValue(node.booleanValue()).build();
        }
        if (node.isNumber()) {
            return Value.newBuilder().setNumberValue(node.doubleValue()).build();
        }
        if (node.isString()) {
            return Value.newBuilder().setStringValue(node.asString()).build();
        }
        if (node.isArray()) {
            ListValue.Builder list = ListValue.newBuilder();
            for (JsonNode item : node) {
                list.addValues(toValue(item));
            }
            return Value.newBuilder().setListValue(list).build();
        }
        if (node.isObject()) {
            return Value.newBuilder().setStructValue(toStruct(node)).build();
        }
        // binary or POJO nodes never come out of the parsers; their text is the closest JSON value
        return Value.newBuilder().setStringValue(node.asString()).build();
    }
}
