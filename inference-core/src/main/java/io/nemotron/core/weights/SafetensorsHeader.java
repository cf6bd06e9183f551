package io.nemotron.core.weights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Parses and validates the JSON header of one safetensors file: every entry's dtype, shape and byte range,
 * checked against each other and against the size of the data section before any tensor is handed out.
 * Each message names the tensor and the file, because a bad shard in a 50-file checkpoint is otherwise a hunt.
 */
final class SafetensorsHeader {
    /** The reference implementation's limit; a larger "header" means a corrupt length prefix. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private SafetensorsHeader() {}

    /**
     * @param headerJson the header text (may end with the spaces that pad it to a multiple of 8)
     * @param dataStart  file offset of the data section (8 + header length)
     * @param fileSize   size of the whole file
     * @return entries in file order (sorted by begin offset)
     */
    static Map<String, SafetensorsEntry> parse(String headerJson, long dataStart, long fileSize, String file) {
        JsonNode root;
        try {
            root = JSON.readTree(headerJson);
        } catch (JacksonException e) {
            throw new WeightsException(file + ": header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new WeightsException(file + ": header must be a JSON object");
        }
        List<SafetensorsEntry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (field.getKey().equals("__metadata__")) {
                continue; // free-form string map ({"format":"pt"}); nothing in it changes how bytes are read
            }
            entries.add(entry(field.getKey(), field.getValue(), dataStart, fileSize, file));
        }
        entries.sort(Comparator.comparingLong(SafetensorsEntry::begin).thenComparingLong(SafetensorsEntry::end));
        checkNoOverlap(entries, file);
        Map<String, SafetensorsEntry> byName = new LinkedHashMap<>();
        for (SafetensorsEntry e : entries) {
            byName.put(e.name(), e);
        }
        return byName;
    }

    private static SafetensorsEntry entry(String name, JsonNode node, long dataStart, long fileSize, String file) {
        String where = "tensor '" + name + "' in " + file;
        if (!node.isObject()) {
            throw new WeightsException(where + ": header entry must be an object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isString()) {
            throw new WeightsException(where + ": header entry has no dtype");
        }
        DType dtype = DType.fromSafetensors(dtypeNode.asString());
        if (dtype == null) {
            throw new WeightsException("unknown/unsupported dtype '" + dtypeNode.asString() + "' for " + where
                    + " (supported: F32, BF16, F16, F8_E4M3)");
        }
        long[] shape = shape(node.get("shape"), where);
        long[] offsets = offsets(node.get("data_offsets"), where);
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new WeightsException(where + ": data_offsets [" + begin + ", " + end + "] are out of order");
        }
        long numel = 1;
        try {
            for (long d : shape) {
                numel = Math.multiplyExact(numel, d);
            }
            long expectedBytes = Math.multiplyExact(numel, dtype.bytes());
            if (end - begin != expectedBytes) {
                throw new WeightsException(where + ": data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                        + " bytes but shape " + Arrays.toString(shape) + " of " + dtype + " needs " + expectedBytes);
            }
        } catch (ArithmeticException overflow) {
            throw new WeightsException(where + ": shape " + Arrays.toString(shape) + " overflows a 64-bit size");
        }
        if (end > fileSize - dataStart) {
            // The header promised more bytes than the file holds: a partial download or copy.
            throw new WeightsException(file + " is truncated: tensor '" + name + "' ends at byte " + (dataStart + end)
                    + " but the file has " + fileSize);
        }
        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    private static long[] shape(JsonNode node, String where) {
        if (node == null || !node.isArray()) {
            throw new WeightsException(where + ": header entry has no shape array");
        }
        long[] shape = new long[node.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = node.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new WeightsException(where + ": shape " + node + " must hold non-negative integers");
            }
            shape[i] = d.asLong();
        }
        return shape;
    }

    private static long[] offsets(JsonNode node, String where) {
        if (node == null || !node.isArray() || node.size() != 2) {
            throw new WeightsException(where + ": data_offsets must be [begin, end], got " + node);
        }
        long[] offsets = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode d = node.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new WeightsException(where + ": data_offsets " + node + " must be non-negative integers");
            }
            offsets[i] = d.asLong();
        }
        return offsets;
    }

    /** Sorted by begin, so any overlap shows between neighbours. Gaps are tolerated: they cannot corrupt a tensor. */
    private static void checkNoOverlap(List<SafetensorsEntry> sorted, String file) {
        for (int i = 1; i < sorted.size(); i++) {
            SafetensorsEntry prev = sorted.get(i - 1);
            SafetensorsEntry cur = sorted.get(i);
            if (cur.begin() < prev.end() && cur.byteSize() > 0 && prev.byteSize() > 0) {
                throw new WeightsException(file + ": tensor '" + cur.name() + "' bytes [" + cur.begin() + ", " + cur.end()
                        + ") overlap tensor '" + prev.name() + "' bytes [" + prev.begin() + ", " + prev.end() + ")");
            }
        }
    }
}
