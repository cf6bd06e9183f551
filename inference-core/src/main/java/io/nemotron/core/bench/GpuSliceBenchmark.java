package io.nemotron.core.bench;

import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.backend.cuda.CudaBackend;
import io.nemotron.core.backend.cuda.CudaDevice;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelStats;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.model.ForwardPass;
import io.nemotron.core.model.Transformer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.IntStream;
import java.util.SplittableRandom;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The GPU benchmark of issue 6: decode and prefill step times of a slice of Ultra ({@link GpuSlice},
 * {@code scripts/gpu-slice.json}) on GPU 0 through the production path ({@link CudaBackend} under {@link Transformer}),
 * with random BF16 weights made on the device. Decode: batch 1, 8, 64 with {@code context} tokens already in the KV
 * cache (each sequence prefilled first, in the engine's chunks); prefill: one sequence of {@code tokens} in chunks.
 * No logit rows, so no lm_head: the slice measures its blocks. Each case: warm-up, then ≥ 20 repeats, each timed as
 * cuCtxSynchronize, System.nanoTime, the step(s), cuCtxSynchronize, System.nanoTime (so the per-step host work of
 * the backend, launches and the step-input copy, is in the time, as in the engine).
 *
 * <pre>java ... io.nemotron.core.bench.GpuSliceBenchmark --spec scripts/gpu-slice.json --ultra-config FILE --output FILE</pre>
 *
 * Without a usable GPU it writes {@code "status": "skipped"} with the reason and exits 0 (gpu-run.sh only runs it where
 * nvidia-smi sees a GPU, and counts a skip there as a failure).
 */
public final class GpuSliceBenchmark {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private GpuSliceBenchmark() {}

    public static void main(String[] args) throws IOException {
        Path spec = Path.of("scripts/gpu-slice.json");
        Path ultraConfig = Path.of(System.getProperty("nemotron.reference.dir", "../shared/reference"))
                .resolve("nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.config.json");
        Path output = Path.of("gpu-slice-nemotron.json");
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--spec" -> spec = Path.of(args[i + 1]);
                case "--ultra-config" -> ultraConfig = Path.of(args[i + 1]);
                case "--output" -> output = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (have --spec, --ultra-config, --output)");
            }
        }
        GpuSlice slice = GpuSlice.read(spec);
        ModelConfig config = slice.config(ModelConfigLoader.load(ultraConfig));
        ObjectNode out = header(slice, config);
        Optional<String> missing = CudaDevice.unavailableReason();
        if (missing.isPresent()) {
            out.put("status", "skipped");
            out.put("reason", "no usable GPU: " + missing.get());
        } else {
            run(slice, config, out);
            out.put("status", "ok");
        }
        Files.writeString(output, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(out) + "\n");
        System.out.println("gpu-slice: " + out.get("status").asString() + ", written to " + output);
    }

    static ObjectNode header(GpuSlice slice, ModelConfig config) {
        ObjectNode out = JSON.createObjectNode();
        out.put("implementation", "nemotron-cuda");
        out.put("status", "");
        ObjectNode s = out.putObject("slice");
        ArrayNode layers = s.putArray("layers");
        slice.layers().forEach(layers::add);
        s.put("linear_params", GpuSlice.linearParams(config));
        s.put("block_weight_bytes", GpuSlice.blockWeightBytes(config));
        s.put("kv_bytes_per_token", ModelStats.of(config).kvBytesPerToken(2));
        s.put("lm_head", "not run (no logit rows): the slice measures its blocks");
        return out;
    }

    private static void run(GpuSlice slice, ModelConfig config, ObjectNode out) {
        try (CudaDevice gpu = CudaDevice.open(0);
             CudaBackend backend = CudaBackend.withRandomWeights(config, gpu, slice.prefillChunk(), slice.seed())) {
            double peak = GpuSlice.peakBandwidth(gpu.memoryClockKHz(), gpu.memoryBusWidthBits());
            ObjectNode d = out.putObject("device");
            d.put("name", gpu.name());
            d.put("compute_capability", gpu.computeCapability());
            d.put("memory_clock_khz", gpu.memoryClockKHz());
            d.put("memory_bus_width_bits", gpu.memoryBusWidthBits());
            d.put("peak_bandwidth_bytes_per_s", peak);
            d.put("weights_on_device_bytes", backend.weightBytes());
            System.out.printf("gpu-slice: %s, peak HBM %.1f GB/s (clock %d kHz x 2 x %d bits / 8), slice weights %.2f GB%n",
                    gpu.name(), peak / 1e9, gpu.memoryClockKHz(), gpu.memoryBusWidthBits(), backend.weightBytes() / 1e9);
            out.set("cases", measure(slice, new Transformer(config, backend.model(), backend),
                    () -> gpu.synchronize("benchmark step"), peak));
        }
    }

    /**
     * The cases on {@code model} (whose maxRows is the prefill chunk): the KV of every decode sequence filled by
     * prefill, decode at each batch size, then the chunked prefill. {@code sync} waits for the device.
     */
    static ArrayNode measure(GpuSlice slice, ForwardPass model, Runnable sync, double peak) {
        ModelConfig config = model.config();
        int ctx = slice.decodeContext();
        int chunk = slice.prefillChunk();
        int bs = slice.blockSize();
        int maxBatch = slice.decodeBatches().stream().mapToInt(Integer::intValue).max().orElseThrow();
        int decodeBlocks = (ctx + 1 + bs - 1) / bs;
        int prefillBlocks = (slice.prefillTokens() + bs - 1) / bs;
        KvPool kv = model.newKvPool(maxBatch * decodeBlocks + prefillBlocks, bs);
        SplittableRandom random = new SplittableRandom(slice.seed());
        int[][] tokens = new int[maxBatch + 1][];   // [maxBatch]: the prefill case's sequence
        int[][] tables = new int[maxBatch + 1][];
        for (int s = 0; s <= maxBatch; s++) {
            int len = s < maxBatch ? ctx + 1 : slice.prefillTokens();
            tokens[s] = random.ints(len, 0, config.vocabSize()).toArray();
            int first = s * decodeBlocks;
            tables[s] = IntStream.range(first, first + (len + bs - 1) / bs).toArray();
        }
        StepBatch batch = new StepBatch(chunk, maxBatch);
        float[] noLogits = new float[0];
        long t0 = System.nanoTime();
        for (int s = 0; s < maxBatch; s++) {   // the context of every decode sequence, prefilled as the engine would
            prefill(model, kv, batch, tokens[s], ctx, tables[s], chunk, bs, noLogits);
        }
        sync.run();
        System.out.printf("gpu-slice: KV of %d x %d tokens filled by prefill in %.1f s%n", maxBatch, ctx,
                (System.nanoTime() - t0) / 1e9);
        ArrayNode cases = JSON.createArrayNode();
        for (int b : slice.decodeBatches()) {
            batch.clear();
            for (int s = 0; s < b; s++) {
                batch.addSequence(tokens[s], ctx, 1, tables[s], bs);   // the token at position ctx, same each repeat
            }
            double[] ms = time(sync, slice, () -> model.forward(batch, kv, noLogits));
            cases.add(result("decode_b" + b, "decode", b, ctx, b, ms, GpuSlice.decodeBytes(config, b, ctx),
                    GpuSlice.decodeFlops(config, b, ctx), peak));
        }
        int[] p = tokens[maxBatch];
        int[] table = tables[maxBatch];
        double[] ms = time(sync, slice, () -> prefill(model, kv, batch, p, p.length, table, chunk, bs, noLogits));
        cases.add(result("prefill_" + p.length, "prefill", 1, 0, p.length, ms,
                GpuSlice.prefillBytes(config, p.length, chunk), GpuSlice.prefillFlops(config, p.length), peak));
        return cases;
    }

    private static void prefill(ForwardPass model, KvPool kv, StepBatch batch, int[] tokens, int n, int[] table, int chunk,
                                int bs, float[] noLogits) {
        for (int start = 0; start < n; start += chunk) {
            batch.clear();
            batch.addSequence(tokens, start, Math.min(chunk, n - start), table, bs);
            model.forward(batch, kv, noLogits);
        }
    }

    private static double[] time(Runnable sync, GpuSlice slice, Runnable step) {
        for (int i = 0; i < slice.warmup(); i++) {
            step.run();
        }
        double[] ms = new double[slice.repeats()];
        for (int i = 0; i < ms.length; i++) {
            sync.run();
            long t0 = System.nanoTime();
            step.run();
            sync.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        return ms;
    }

    static ObjectNode result(String name, String kind, int batch, int context, int tokens, double[] ms, long bytes,
                             long flops, double peak) {
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        double seconds = median / 1e3;
        ObjectNode r = JSON.createObjectNode();
        r.put("name", name);
        r.put("kind", kind);
        r.put("batch", batch);
        r.put("context", context);
        r.put("tokens", tokens);
        r.put("repeats", ms.length);
        r.put("median_ms", median);
        r.put("mean_ms", Arrays.stream(ms).average().orElseThrow());
        r.put("min_ms", sorted[0]);
        r.put("bytes", bytes);
        r.put("flops", flops);
        r.put("bandwidth_bytes_per_s", bytes / seconds);
        r.put("bandwidth_fraction_of_peak", bytes / seconds / peak);
        r.put("tflops", flops / seconds / 1e12);
        r.put("tokens_per_s", tokens / seconds);
        System.out.printf("gpu-slice: %-12s median %9.3f ms  %7.1f GB/s (%5.1f %% of peak)  %7.1f TFLOP/s%n", name, median,
                bytes / seconds / 1e9, 100 * bytes / seconds / peak, flops / seconds / 1e12);
        return r;
    }
}
