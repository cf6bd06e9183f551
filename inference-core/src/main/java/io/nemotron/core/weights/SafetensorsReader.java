package io.nemotron.core.weights;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A Hugging Face safetensors checkpoint, single-file ({@code model.safetensors}) or sharded
 * ({@code model.safetensors.index.json} mapping each tensor to a shard). Every file is memory-mapped once into a
 * shared arena (tensors are zero-copy slices, readable from any thread) and every header is validated when the
 * reader opens, so a corrupt or truncated checkpoint fails at load time, not in the middle of a request.
 */
public final class SafetensorsReader implements WeightSource {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final String description;
    private final Arena arena;
    private final Map<String, SafetensorsFile> fileOfTensor; // insertion order = file order

    private SafetensorsReader(String description, Arena arena, Map<String, SafetensorsFile> fileOfTensor) {
        this.description = description;
        this.arena = arena;
        this.fileOfTensor = fileOfTensor;
    }

    /**
     * Opens a checkpoint folder (index preferred over a single file when both exist), an index file, or one
     * {@code .safetensors} file.
     */
    public static SafetensorsReader open(Path path) {
        if (Files.isDirectory(path)) {
            Path index = path.resolve(INDEX_FILE);
            Path single = path.resolve(SINGLE_FILE);
            if (Files.isRegularFile(index)) {
                return openIndex(index);
            }
            if (Files.isRegularFile(single)) {
                return openSingle(single);
            }
            throw new WeightsException("no " + SINGLE_FILE + " or " + INDEX_FILE + " in " + path);
        }
        if (!Files.isRegularFile(path)) {
            throw new WeightsException("no checkpoint at " + path);
        }
        return path.getFileName().toString().endsWith(".index.json") ? openIndex(path) : openSingle(path);
    }

    private static SafetensorsReader openSingle(Path file) {
        Arena arena = Arena.ofShared();
        try {
            SafetensorsFile st = SafetensorsFile.open(file, arena);
            Map<String, SafetensorsFile> map = new LinkedHashMap<>();
            for (String name : st.entries().keySet()) {
                map.put(name, st);
            }
            return new SafetensorsReader(file.toString(), arena, map);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static SafetensorsReader openIndex(Path index) {
        Map<String, String> weightMap = readWeightMap(index);
        Path dir = index.toAbsolutePath().getParent();
        Arena arena = Arena.ofShared();
        try {
            Map<String, SafetensorsFile> shards = new TreeMap<>(); // shard name -> mapped file
            Map<String, SafetensorsFile> map = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String tensor = e.getKey();
                String shardName = e.getValue();
                SafetensorsFile shard = shards.get(shardName);
                if (shard == null) {
                    Path shardPath = dir.resolve(shardName);
                    if (!Files.isRegularFile(shardPath)) {
                        throw new WeightsException(index + " maps tensor '" + tensor + "' to shard " + shardPath
                                + ", which does not exist");
                    }
                    shard = SafetensorsFile.open(shardPath, arena);
                    shards.put(shardName, shard);
                }
                if (!shard.entries().containsKey(tensor)) {
                    throw new WeightsException(index + " maps tensor '" + tensor + "' to " + shard.path()
                            + ", but that file has no such tensor");
                }
                map.put(tensor, shard);
            }
            // A tensor in a shard but not in the index would be silently ignored by every HF loader; a checkpoint
            // like that was assembled wrongly, so refuse it rather than guess which copy is meant.
            for (SafetensorsFile shard : shards.values()) {
                for (String tensor : shard.entries().keySet()) {
                    if (map.get(tensor) != shard) {
                        throw new WeightsException("tensor '" + tensor + "' in " + shard.path() + " is not mapped to that file by "
                                + index);
                    }
                }
            }
            return new SafetensorsReader(dir.toString(), arena, map);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, String> readWeightMap(Path index) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(index));
        } catch (IOException e) {
            throw new WeightsException("cannot read " + index + ": " + e.getMessage(), e);
        } catch (JacksonException e) {
            throw new WeightsException(index + " is not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode weightMap = root == null ? null : root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new WeightsException(index + " has no weight_map object");
        }
        Map<String, String> map = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            if (!e.getValue().isString() || e.getValue().asString().isEmpty()) {
                throw new WeightsException(index + ": weight_map entry for tensor '" + e.getKey() + "' must be a file name");
            }
            String shard = e.getValue().asString();
            if (shard.contains("/") || shard.contains("\\")) {
                // Shards live beside the index; a path would let a checkpoint reach outside its folder.
                throw new WeightsException(index + ": shard '" + shard + "' for tensor '" + e.getKey() + "' is not a plain file name");
            }
            map.put(e.getKey(), shard);
        }
        return map;
    }

    @Override
    public Tensor tensor(String name) {
        SafetensorsFile file = fileOfTensor.get(name);
        if (file == null) {
            throw new WeightsException("no tensor '" + name + "' in checkpoint " + description);
        }
        return file.tensor(name);
    }

    @Override
    public boolean contains(String name) {
        return fileOfTensor.containsKey(name);
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(fileOfTensor.keySet());
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public String locationOf(String name) {
        SafetensorsFile file = fileOfTensor.get(name);
        return file == null ? description : file.path().toString();
    }

    /** Unmaps every file; tensors handed out before become unusable. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) { // idempotent, as AutoCloseable users expect
            arena.close();
        }
    }
}
