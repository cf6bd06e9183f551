package io.nemotron.core.demo;

import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigWriter;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.RandomCheckpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The {@code demo} model: a small nemotron-nas checkpoint with RANDOM weights and a generated tokenizer, written
 * on first use so that the whole API works on a fresh machine within seconds, without a download. Its output is
 * noise; it exists to exercise the serving path (every block variant, GQA groups, llama3 RoPE, the chat format,
 * streaming, stop ids), not to answer.
 *
 * <p>The folder holds {@code config.json} (marked {@code "nemotron_demo": true}), {@code model.safetensors}
 * (BF16, fixed seed: the same bytes on every machine), {@code tokenizer.json}, {@code tokenizer_config.json} and,
 * written last, {@code DEMO.md}: it says the weights are random and carries the format version, so a folder that
 * lacks it (a crash mid-write) or has another version is rewritten.
 */
public final class DemoModel {
    /** Bump when the shape, seed or tokenizer changes, so existing caches are rewritten. */
    static final int FORMAT_VERSION = 1;
    static final long SEED = 20250501L;
    static final String MARKER = "DEMO.md";
    static final String CONFIG_FLAG = "nemotron_demo";
    /** The checkpoint's folder inside the cache dir; temporary folders are written beside it. */
    static final String FOLDER = "checkpoint";
    private static final String VERSION_LINE = "demo-format-version: ";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private DemoModel() {}

    /** Returns the demo checkpoint folder inside {@code cacheDir}, writing it unless a complete, current copy exists. */
    public static Path ensure(Path cacheDir) {
        try {
            return AtomicFolder.publish(cacheDir.resolve(FOLDER), DemoModel::isComplete, DemoModel::writeInto);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the demo model into " + cacheDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * System property {@code nemotron.cache.dir} (tests set it; a process cannot change its own environment), else
     * {@code $NEMOTRON_CACHE_DIR}, else {@code ~/.cache/nemotron-serve/demo}.
     */
    public static Path defaultCacheDir() {
        String prop = System.getProperty("nemotron.cache.dir");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String env = System.getenv("NEMOTRON_CACHE_DIR");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "nemotron-serve", "demo");
    }

    /** True when {@code dir} is a demo checkpoint (random weights): its DEMO.md or its config's demo flag. */
    public static boolean isDemo(Path dir) {
        if (Files.isRegularFile(dir.resolve(MARKER))) {
            return true;
        }
        Path config = dir.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            return false;
        }
        try {
            return JSON.readTree(config.toFile()).path(CONFIG_FLAG).asBoolean(false);
        } catch (JacksonException e) {
            return false; // not JSON: certainly not a demo config we wrote
        }
    }

    /** The config written into config.json (without the demo flag, which the config record has no field for). */
    public static ModelConfig config() {
        return DemoShape.config();
    }

    /** Complete and current: the marker, written last, names this format version and the config is this one. */
    static boolean isComplete(Path dir) {
        try {
            Path marker = dir.resolve(MARKER);
            Path config = dir.resolve("config.json");
            return Files.isRegularFile(marker) && Files.isRegularFile(config)
                    && Files.readString(marker).contains(VERSION_LINE + FORMAT_VERSION + "\n")
                    && Files.readString(config).equals(configJson());
        } catch (IOException e) {
            return false; // unreadable counts as incomplete: it is rewritten
        }
    }

    private static void writeInto(Path dir) throws IOException {
        RandomCheckpoint.write(dir, DemoShape.config(), DType.BF16, SEED, null);
        Files.writeString(dir.resolve("config.json"), configJson()); // replaces the unflagged one
        DemoTokenizer.write(dir);
        Files.writeString(dir.resolve(MARKER), markerText()); // last: its presence means the rest is complete
    }

    static String configJson() {
        ObjectNode root = (ObjectNode) JSON.readTree(ModelConfigWriter.toJson(DemoShape.config()));
        root.put(CONFIG_FLAG, true);
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    }

    private static String markerText() {
        return """
                # Nemotron Serve demo model

                THE WEIGHTS OF THIS MODEL ARE RANDOM. It produces meaningless text.

                Nemotron Serve writes this folder on first use of `--model demo` so that the server and its API can be
                tried on a fresh machine without downloading a checkpoint. The architecture is a small nemotron-nas
                (DeciLMForCausalLM) model with every block variant; the tokenizer is a byte-level BPE generated by
                Nemotron Serve itself. Deleting this folder is safe: it is rewritten when needed.

                """ + VERSION_LINE + FORMAT_VERSION + "\n";
    }
}
