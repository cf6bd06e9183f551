package io.nemotron.core.weights;

import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigWriter;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 *
 * <p>{@link DType#F8_E4M3} writes an NVIDIA ModelOpt FP8 checkpoint of the same model: each linear but {@code lm_head}
 * (q/k/v/o, gate/up/down, and nemotron-nas linear replacements) is F8_E4M3 codes of {@code W / weight_scale}, where W
 * is the BF16 weight the BF16 checkpoint of that seed holds and {@code weight_scale = amax(|W|) / 448} (ModelOpt's
 * max calibration), with the F32 scalars {@code <module>.weight_scale} and {@code <module>.input_scale} ({@link
 * #FP8_INPUT_SCALE}); the embedding, norms and {@code lm_head} are BF16; {@code hf_quant_config.json} says FP8 with
 * {@code exclude_modules: ["lm_head"]} and no KV cache quantization; config.json keeps {@code torch_dtype: bfloat16}
 * as ModelOpt exports do.
 */
public final class RandomCheckpoint {
    public static final double INIT_STD = 0.02;
    /** Tokenizer files copied from {@code tokenizerFrom} when present. */
    static final List<String> TOKENIZER_FILES =
            List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model");
    private static final long ELEMENTS_PER_TASK = 1L << 20;
    /**
     * The static activation scale of every FP8 linear: amax / 448 with amax = 8. The inputs of q/k/v and gate/up are
     * RMS-normed with unit norm weights, so their RMS is 1 and |x| <= 8 covers them with room to spare; o and down see
     * smaller inputs (averages of v rows, products of two ~N(0, 0.8) projections). Larger values saturate at ±448, as
     * a static scale does in vLLM.
     */
    public static final float FP8_INPUT_SCALE = 8f / Fp8E4m3.MAX;
    /** What an FP8 random checkpoint keeps in BF16: the head (the embedding and norms are never quantized). */
    static final List<String> FP8_EXCLUDED = List.of("lm_head");

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
        boolean fp8 = dtype == DType.F8_E4M3;
        ModelOptConfig quantization = fp8 ? new ModelOptConfig(true, false, FP8_EXCLUDED, "RandomCheckpoint")
                : ModelOptConfig.NONE;
        DType highPrecision = fp8 ? DType.BF16 : dtype;
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), ModelConfigWriter.toJson(config));
            Path quantConfig = dir.resolve(ModelOptConfig.HF_QUANT_CONFIG);
            if (fp8) {
                Files.writeString(quantConfig, ModelOptFp8Writer.quantConfigJson(false, FP8_EXCLUDED));
            } else {
                Files.deleteIfExists(quantConfig);   // a folder rewritten from FP8 to another dtype must not keep it
            }
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
                if (!spec.required()) {
                    continue;
                }
                boolean linear = spec.linear();
                if (linear && quantization.quantizes(spec.name())) {
                    tensors.addAll(fp8Linear(spec, seed, pool));
                } else {
                    tensors.add(new PendingTensor(spec.name(), highPrecision, spec.shape(),
                            fill(spec.name(), highPrecision, seed, pool)));
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
        long stream = stream(name, seed);
        return (first, dst) -> parallel(pool, dst, dtype, (from, to) -> {
            for (long i = from; i < to; i++) {
                DTypeCodec.set(dtype, dst, i, (float) (INIT_STD * gaussian(stream, first + i)));
            }
        });
    }

    /** The BF16 weight the BF16 checkpoint has at element {@code index} of the tensor whose stream is {@code stream}. */
    private static float bf16Weight(long stream, long index) {
        return DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16((float) (INIT_STD * gaussian(stream, index))));
    }

    private static long stream(String name, long seed) {
        return seed * 0x9E3779B97F4A7C15L + mix(name.hashCode());
    }

    /** An FP8 linear: its codes, then its weight_scale and input_scale scalars. */
    private static List<PendingTensor> fp8Linear(TensorSpec spec, long seed, ExecutorService pool) {
        long stream = stream(spec.name(), seed);
        long numel = 1;
        for (long d : spec.shape()) {
            numel *= d;
        }
        float weightScale = ModelOptFp8Writer.scaleOf(amax(stream, numel, pool));
        TensorFill codes = (first, dst) -> parallel(pool, dst, DType.F8_E4M3, (from, to) -> {
            for (long i = from; i < to; i++) {
                dst.set(ValueLayout.JAVA_BYTE, i, Fp8E4m3.encode(bf16Weight(stream, first + i) / weightScale));
            }
        });
        String module = ModelOptConfig.module(spec.name());
        return List.of(new PendingTensor(spec.name(), DType.F8_E4M3, spec.shape(), codes),
                ModelOptFp8Writer.scalar(module + ".weight_scale", weightScale),
                ModelOptFp8Writer.scalar(module + ".input_scale", FP8_INPUT_SCALE));
    }

    /** max |W| over the tensor's BF16 weights, in parallel (a first pass: the scale must be known before any code). */
    private static double amax(long stream, long numel, ExecutorService pool) {
        List<Callable<Float>> tasks = new ArrayList<>();
        for (long from = 0; from < numel; from += ELEMENTS_PER_TASK) {
            long start = from;
            long end = Math.min(numel, from + ELEMENTS_PER_TASK);
            tasks.add(() -> {
                float m = 0f;
                for (long i = start; i < end; i++) {
                    m = Math.max(m, Math.abs(bf16Weight(stream, i)));
                }
                return m;
            });
        }
        float max = 0f;
        try {
            for (Future<Float> f : pool.invokeAll(tasks)) {
                max = Math.max(max, f.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WeightsException("interrupted while writing random weights", e);
        } catch (ExecutionException e) {
            throw new WeightsException("writing random weights failed: " + e.getCause(), e.getCause());
        }
        return max > 0f ? max : Float.MIN_NORMAL * Fp8E4m3.MAX;   // an all-zero tensor: any positive scale maps it to 0
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
            case F8_E4M3 -> "bfloat16";   // a ModelOpt FP8 export keeps the dtype of its unquantized tensors
        };
    }
}
