package io.nemotron.service.grpc;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** google.protobuf.Struct to the plain maps and lists the chat templates take (JSON's shapes). */
public final class ProtoValues {
    private ProtoValues() {}

    public static Map<String, Object> toMap(Struct struct) {
        Map<String, Object> out = new LinkedHashMap<>();
        struct.getFieldsMap().forEach((k, v) -> out.put(k, toObject(v)));
        return out;
    }

    static Object toObject(Value v) {
        return switch (v.getKindCase()) {
            case NULL_VALUE, KIND_NOT_SET -> null;
            case BOOL_VALUE -> v.getBoolValue();
            // JSON has one number type; keep integers integral so templates print 3, not 3.0
            case NUMBER_VALUE -> integral(v.getNumberValue());
            case STRING_VALUE -> v.getStringValue();
            case STRUCT_VALUE -> toMap(v.getStructValue());
            case LIST_VALUE -> toList(v.getListValue());
        };
    }

    private static List<Object> toList(ListValue list) {
        List<Object> out = new ArrayList<>();
        list.getValuesList().forEach(v -> out.add(toObject(v)));
        return out;
    }

    private static Object integral(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? (Object) (long) d : (Object) d;
    }
}
