package io.nemotron.core.weights;

import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigWriter;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes a complete random-weight checkpoint folder ({@code config.json}, {@code model.safetensors}, optionally the
 * tokenizer files of another checkpoint) for benchmarks and the demo model. Weights are N(0, 0.02) as HF's
 * {@code initializer_range} init, norms are 1.
 *
 * <p>Each value is a pure function of (seed, tensor name, element index) (a counter-based generator), so the output
 * does not depend on chunking or thread count, and a ~1B-parameter model is filled in parallel straight into
 * file mappings without ever being on the heap.
 */
public final class RandomCheckpoint {
    public static final double INIT_STD = 0.02;
    /** Tokenizer files copied from {@code tokenizerFrom} when present. */
    static final List<String> TOKENIZER_FILES =
            List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model");
    private static final long ELEMENTS_PER_TASK = 1L << 20;

    private RandomCheckpoint() {}

    /**
     * A Llama-shaped model by its llama2.c dimensions.
     *
     * @param dim       hidden size
     * @param hiddenDim FFN intermediate size
     */
    public record Spec(int dim, int layers, int heads, int kvHeads, int hiddenDim, int vocab, DType dtype, long seed) {

        /** A {@code LlamaForCausalLM} config: untied head, rope theta 500000, no rope scaling, bos 1, eos 2. */
        public ModelConfig config() {
            if (dim % heads != 0 || heads % kvHeads != 0) {
                throw new IllegalArgumentException("dim " + dim + ", heads " + heads + ", kv heads " + kvHeads
                        + ": heads must divide dim and kv heads must divide heads");
            }
            List<BlockConfig> blocks = Collections.nCopies(layers,
                    new BlockConfig(new AttentionKind.Full(kvHeads), new FfnKind.Mlp(hiddenDim)));
            return new ModelConfig("LlamaForCausalLM", "llama", dim, heads, dim / heads, vocab, 8192, 1e-5, 500000.0,
                    null, false, 1, List.of(2), torchDtype(dtype), blocks);
        }
    }

    /** Writes a Llama-shaped checkpoint; returns its config. */
    public static ModelConfig write(Path dir, Spec spec, Path tokenizerFrom) {
        ModelConfig config = spec.config();
        write(dir, config, spec.dtype(), spec.seed(), tokenizerFrom);
        return config;
    }

    /**
     * Writes a checkpoint for any config (Llama or nemotron-nas) with the tensors {@link CheckpointLayout} expects.
     *
     * @param tokenizerFrom a folder holding {@code tokenizer.json} (and friends) or a {@code tokenizer.json}; null for none
     */
    public static void write(Path dir, ModelConfig config, DType dtype, long seed, Path tokenizerFrom) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), ModelConfigWriter.toJson(config));
            if (tokenizerFrom != null) {
                copyTokenizer(tokenizerFrom, dir);
            }
        } catch (IOException e) {
            throw new WeightsException("cannot write checkpoint " + dir + ": " + e.getMessage(), e);
        }
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        // Our own pool: filling gigabytes must not occupy the common pool that the server also uses.
        try (ExecutorService pool = Executors.newFixedThreadPool(threads, Thread.ofPlatform().name("random-weights-", 0)
                .daemon(true).factory())) {
            List<PendingTensor> tensors = new ArrayList<>();
            for (TensorSpec spec : CheckpointLayout.of(config).tensors()) {
                if (spec.required()) {
                    tensors.add(new PendingTensor(spec.name(), dtype, spec.shape(), fill(spec.name(), dtype, seed, pool)));
                }
            }
            SafetensorsWriter.write(dir.resolve(SafetensorsReader.SINGLE_FILE), tensors);
        }
    }

    private static TensorFill fill(String name, DType dtype, long seed, ExecutorService pool) {
        if (name.endsWith("norm.weight")) {
            return (first, dst) -> parallel(pool, dst, dtype, (from, to) -> {
                for (long i = from; i < to; i++) {
                    DTypeCodec.set(dtype, dst, i, 1.0f);
                }
            });
        }
        long stream = seed * 0x9E3779B97F4A7C15L + mix(name.hashCode());
        return (first, dst) -> parallel(pool, dst, dtype, (from, to) -> {
            for (long i = from; i < to; i++) {
                DTypeCodec.set(dtype, dst, i, (float) (INIT_STD * gaussian(stream, first + i)));
            }
        });
    }

    private interface RangeBody {
        void run(long from, long to);
    }

    /** Splits {@code dst}'s elements into tasks on the pool and waits for all of them. */
    private static void parallel(ExecutorService pool, MemorySegment dst, DType dtype, RangeBody body) {
        long n = dst.byteSize() / dtype.bytes();
        List<Callable<Void>> tasks = new ArrayList<>();
        for (long from = 0; from < n; from += ELEMENTS_PER_TASK) {
            long start = from;
            long end = Math.min(n, from + ELEMENTS_PER_TASK);
            tasks.add(() -> {
                body.run(start, end);
                return null;
            });
        }
        try {
            for (Future<Void> f : pool.invokeAll(tasks)) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WeightsException("interrupted while writing random weights", e);
        } catch (ExecutionException e) {
            throw new WeightsException("writing random weights failed: " + e.getCause(), e.getCause());
        }
    }

    /**
     * An approximately standard normal value for element {@code index} of stream {@code stream}: the Irwin–Hall sum
     * of four uniforms (from one 64-bit hash), rescaled to unit variance. Its tails stop at ±3.46σ, like the
     * truncated-normal init many trainers use; for benchmark weights the shape matters, not the exact tail.
     */
    static double gaussian(long stream, long index) {
        long bits = mix(stream + index * 0xD1B54A32D192ED03L);
        double sum = 0;
        for (int k = 0; k < 4; k++) {
            sum += ((bits >>> (16 * k)) & 0xFFFF) + 0.5;
        }
        // each uniform is (u + 0.5) / 65536 in (0, 1): mean 2, variance 4/12 for the sum
        return (sum / 65536.0 - 2.0) * Math.sqrt(3.0);
    }

    /** SplitMix64's finaliser: a strong 64-bit bit mixer. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static void copyTokenizer(Path from, Path dir) throws IOException {
        if (Files.isRegularFile(from)) {
            Files.copy(from, dir.resolve(from.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
            return;
        }
        if (!Files.isRegularFile(from.resolve("tokenizer.json"))) {
            throw new WeightsException("no tokenizer.json in " + from);
        }
        for (String name : TOKENIZER_FILES) {
            Path src = from.resolve(name);
            if (Files.isRegularFile(src)) {
                Files.copy(src, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    static String torchDtype(DType dtype) {
        return switch (dtype) {
            case F32 -> "float32";
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            case F8_E4M3 -> "float8_e4m3fn";
        };
    }
}
