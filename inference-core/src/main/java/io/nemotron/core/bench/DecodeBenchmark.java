package io.nemotron.core.bench;

import io.nemotron.core.backend.cpu.CpuThreadPool;
import io.nemotron.core.backend.cpu.MemoryBandwidth;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.engine.GenerationResult;
import io.nemotron.core.engine.Generator;
import io.nemotron.core.engine.SamplingParams;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.ModelOptConfig;
import io.nemotron.core.weights.RandomCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Batch-1 decode speed of random-weight Llama checkpoints (written once by {@link RandomCheckpoint} and cached),
 * set against the machine's streaming read bandwidth measured in the same process with the same thread count.
 * {@link DType#F8_E4M3} is a ModelOpt FP8 checkpoint of the same model (linears FP8, embedding and head BF16); its
 * weight bytes per token count one byte per FP8 weight.
 */
public final class DecodeBenchmark {
    private final Path workDir;
    private final int threads;
    private final int promptTokens;
    private final int genTokens;
    private final int repeats;

    public DecodeBenchmark(Path workDir, int threads, int promptTokens, int genTokens, int repeats) {
        if (threads < 1 || promptTokens < 1 || genTokens < 2 || repeats < 1) {
            throw new IllegalArgumentException("threads, prompt-len, repeats must be >= 1 and gen-len >= 2");
        }
        this.workDir = workDir;
        this.threads = threads;
        this.promptTokens = promptTokens;
        this.genTokens = genTokens;
        this.repeats = repeats;
    }

    /** Best-of-{@code repeats} streaming read bandwidth over {@code bytes}, with this benchmark's threads. */
    public double measureBandwidthGBps(long bytes) {
        try (CpuThreadPool pool = new CpuThreadPool(threads)) {
            return MemoryBandwidth.measureReadGBps(pool, bytes, 5);
        }
    }

    /** The cached checkpoint folder of a shape and dtype, written on first use. */
    public Path checkpoint(BenchShape shape, DType dtype) {
        Path dir = workDir.resolve(shape.label() + "-" + dtype.name().toLowerCase(Locale.ROOT));
        boolean complete = Files.isRegularFile(dir.resolve("config.json"))
                && Files.isRegularFile(dir.resolve("model.safetensors"))
                // an FP8 folder has the same config.json as a BF16 one; its quantization config tells them apart
                && Files.isRegularFile(dir.resolve(ModelOptConfig.HF_QUANT_CONFIG)) == (dtype == DType.F8_E4M3);
        if (complete) {
            try {
                // a cached folder from a different spec (edited shape) is rewritten, never silently reused
                if (ModelConfigLoader.load(dir).equals(shape.spec(dtype).config())) {
                    return dir;
                }
            } catch (RuntimeException stale) {
                // unreadable leftovers: rewrite below
            }
        }
        RandomCheckpoint.write(dir, shape.spec(dtype), null);
        return dir;
    }

    /** The dtype as the results name it: fp8 for the ModelOpt FP8 checkpoint, else the dtype in lower case. */
    static String label(DType dtype) {
        return dtype == DType.F8_E4M3 ? "fp8" : dtype.name().toLowerCase(Locale.ROOT);
    }

    public DecodeResult run(BenchShape shape, DType dtype, double bandwidthGBps) {
        return run(shape, List.of(dtype), bandwidthGBps).getFirst();
    }

    /**
     * The dtypes of one shape side by side: every model is loaded and warmed up, then each repeat runs every dtype
     * once in turn and each keeps its best. On a shared machine a busy spell then slows one repeat of all dtypes
     * instead of every repeat of one, so the ratios between dtypes stay fair.
     */
    public List<DecodeResult> run(BenchShape shape, List<DType> dtypes, double bandwidthGBps) {
        List<LoadedModel> models = new ArrayList<>();
        try {
            for (DType dtype : dtypes) {
                models.add(LoadedModel.openCpu(checkpoint(shape, dtype), threads));
            }
            SamplingParams params = SamplingParams.builder().temperature(0).maxTokens(genTokens).ignoreEos(true).build();
            List<Generator> generators = new ArrayList<>();
            List<int[]> prompts = new ArrayList<>();
            for (LoadedModel model : models) {
                int vocab = model.config().vocabSize();
                SplittableRandom random = new SplittableRandom(7);
                int[] prompt = new int[promptTokens];
                for (int i = 0; i < prompt.length; i++) {
                    prompt[i] = random.nextInt(3, vocab);
                }
                Generator generator = new Generator(model.transformer(), null);
                // one full untimed run: JIT-compiles the kernels and faults in every mapped weight page
                generator.generate(prompt, params, null);
                generators.add(generator);
                prompts.add(prompt);
            }
            GenerationResult[] best = new GenerationResult[models.size()];
            for (int r = 0; r < repeats; r++) {
                for (int d = 0; d < models.size(); d++) {
                    GenerationResult g = generators.get(d).generate(prompts.get(d), params, null);
                    if (best[d] == null || g.stats().decodeTokensPerSecond() > best[d].stats().decodeTokensPerSecond()) {
                        best[d] = g;
                    }
                }
            }
            List<DecodeResult> results = new ArrayList<>();
            for (int d = 0; d < models.size(); d++) {
                LoadedModel model = models.get(d);
                long bytes = model.decodeWeightBytes();
                double tps = best[d].stats().decodeTokensPerSecond();
                double gbps = bytes * tps / 1e9;
                results.add(new DecodeResult(shape.label(), label(dtypes.get(d)), threads, model.parameters(), bytes,
                        promptTokens, best[d].outputIds().length, best[d].stats().prefillTokensPerSecond(), tps, gbps,
                        bandwidthGBps > 0 ? gbps / bandwidthGBps : 0));
            }
            return results;
        } finally {
            for (LoadedModel model : models) {
                model.close();
            }
        }
    }
}
