package io.nemotron.service.cli;

import io.nemotron.core.config.BlockCounts;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.backend.cuda.MemoryPlan;
import io.nemotron.core.backend.cuda.MemoryPlanException;
import io.nemotron.core.backend.cuda.MemoryPlanner;
import io.nemotron.core.config.ModelStats;
import io.nemotron.core.runtime.RankMemoryPlans;
import io.nemotron.core.weights.ModelOptConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code nemotron inspect}: what a config costs to serve (parameters, KV bytes per token, block census, per-GPU
 * weights and KV capacity under tensor parallelism), from config.json alone, without weights.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Sizes of a model from its config.json: parameters, KV cache per token, blocks, per-GPU memory.")
final class InspectCommand implements Callable<Integer> {
    private static final long GIB = 1L << 30;

    @Spec
    CommandSpec spec;

    @Option(names = "--config", required = true, paramLabel = "FILE|DIR", description = "config.json or a checkpoint folder")
    Path config;

    @Option(names = "--tensor-parallel", defaultValue = "1", paramLabel = "N", description = "GPUs per replica (default 1)")
    int tensorParallel;

    @Option(names = "--weights-dtype", paramLabel = "bf16|fp8",
            description = "linear weight width (default: fp8 for a ModelOpt FP8 checkpoint folder, else bf16)")
    String weightsDtype;

    @Option(names = {"--kv-dtype", "--kv-cache-dtype"}, paramLabel = "bf16|fp8",
            description = "KV cache width (default: fp8 when the checkpoint's kv_cache_quant_algo is FP8, else bf16)")
    String kvDtype;

    @Option(names = "--gpu-memory-gib", defaultValue = "80", paramLabel = "G", description = "memory per GPU in GiB (default 80)")
    double gpuMemoryGib;

    @Option(names = "--gpu-memory-utilization", defaultValue = "0.9", paramLabel = "F",
            description = "fraction of each GPU's memory the server may use (default 0.9)")
    double utilization;

    @Option(names = "--max-num-batched-tokens", defaultValue = "2048", paramLabel = "N",
            description = "rows of the largest step: sizes the activation workspace (default 2048)")
    int maxRows;

    @Option(names = "--max-num-seqs", defaultValue = "256", paramLabel = "N",
            description = "sequences of the largest step (default 256)")
    int maxSeqs;

    @Option(names = "--backend", paramLabel = "cuda",
            description = "cuda: plan each of the --tensor-parallel ranks against the memory its GPU (0..N-1) reports,"
                    + " with the planner serve --backend cuda logs at start-up, instead of --gpu-memory-gib GPUs")
    String backend;

    @Mixin
    OutputFormat format;

    private String quantization = "none";   // what the checkpoint folder declares

    @Override
    public Integer call() {
        // a checkpoint folder says its own quantization (hf_quant_config.json or quantization_config); flags override it
        ModelOptConfig quant = Files.isDirectory(config) ? ModelOptConfig.load(config) : ModelOptConfig.NONE;
        if (weightsDtype == null) {
            weightsDtype = quant.fp8() ? "fp8" : "bf16";
        }
        if (kvDtype == null) {
            kvDtype = quant.kvCacheFp8() ? "fp8" : "bf16";
        }
        quantization = quant.fp8() ? "modelopt fp8" + (quant.exclude().isEmpty() ? ""
                : " (excluded: " + String.join(", ", quant.exclude()) + ")") : "none";
        int weightBytes = widthOf(weightsDtype, "--weights-dtype");
        int kvBytes = widthOf(kvDtype, "--kv-dtype");
        if (!(gpuMemoryGib > 0)) {
            throw new IllegalArgumentException("--gpu-memory-gib must be positive, got " + gpuMemoryGib);
        }
        if (tensorParallel < 1) {
            throw new IllegalArgumentException("--tensor-parallel must be at least 1, got " + tensorParallel);
        }
        boolean asJson = format.json();
        ModelConfig model = ModelConfigLoader.load(config);
        ModelStats stats = ModelStats.of(model);
        long gpuBytes = (long) (gpuMemoryGib * GIB);
        // the CUDA backend's own start-up plan: what the server would reserve, or why it would refuse to start
        MemoryPlanner planner = MemoryPlanner.forModel(model).tensorParallel(tensorParallel).weightBytes(weightBytes)
                .kvBytes(kvBytes).utilization(utilization).maxRows(maxRows).maxSeqs(maxSeqs);
        MemoryPlan plan = null;
        String refusal = null;
        List<RankMemoryPlans.RankPlan> ranks = List.of();
        if (backend != null) {
            if (!"cuda".equals(backend.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("--backend '" + backend + "': only cuda has a device memory plan"
                        + " (omit --backend to plan for --gpu-memory-gib GPUs)");
            }
            ranks = RankMemoryPlans.onDevices(planner, tensorParallel);
            // every rank holds a pool of the same block count, so the smallest plan is the server's
            RankMemoryPlans.RankPlan smallest = ranks.stream().min(Comparator.comparingLong(
                    p -> p.plan() == null ? -1 : p.plan().kvBlocks())).orElseThrow();
            plan = smallest.plan();
            refusal = smallest.refusal();
        } else {
            try {
                plan = planner.deviceMemory(gpuBytes).plan();
            } catch (MemoryPlanException e) {
                refusal = e.getMessage();
            }
        }
        Report r = new Report(model, stats.parameters(), stats.kvBytesPerToken(kvBytes), stats.blockCounts(),
                stats.perRankWeightBytes(tensorParallel, weightBytes), plan == null ? 0 : plan.kvTokens(), plan,
                refusal, ranks);
        PrintWriter out = spec.commandLine().getOut();
        out.println(asJson ? json(r) : text(r));
        out.flush();
        return 0;
    }

    private record Report(ModelConfig model, long parameters, long kvBytesPerToken, BlockCounts blocks,
                          long perRankWeightBytes, long kvCapacityTokens, MemoryPlan plan, String refusal,
                          List<RankMemoryPlans.RankPlan> ranks) {}

    private String json(Report r) {
        JsonMapper json = JsonMapper.builder().build();
        ObjectNode root = json.createObjectNode();
        root.put("parameters", r.parameters());
        root.put("kv_bytes_per_token", r.kvBytesPerToken());
        ObjectNode blocks = root.putObject("blocks");
        blocks.putObject("attention").put("full", r.blocks().attentionFull()).put("linear", r.blocks().attentionLinear())
                .put("none", r.blocks().attentionNone());
        blocks.putObject("ffn").put("mlp", r.blocks().ffnMlp()).put("linear", r.blocks().ffnLinear())
                .put("none", r.blocks().ffnNone());
        root.put("per_rank_weight_bytes", r.perRankWeightBytes());
        root.put("kv_capacity_tokens", r.kvCapacityTokens());
        if (r.plan() != null) {
            root.put("kv_blocks", r.plan().kvBlocks());
            root.put("workspace_bytes", r.plan().workspace().total());
        } else {
            root.put("does_not_fit", r.refusal());
        }
        root.put("layers", r.model().numLayers());
        root.put("tensor_parallel", tensorParallel);
        root.put("quantization", quantization);
        root.put("weights_dtype", weightsDtype.toLowerCase(Locale.ROOT));
        root.put("kv_dtype", kvDtype.toLowerCase(Locale.ROOT));
        if (r.ranks().isEmpty()) {
            root.put("gpu_memory_gib", gpuMemoryGib);
        } else {
            root.put("backend", "cuda");
            var ranks = root.putArray("ranks");
            for (RankMemoryPlans.RankPlan p : r.ranks()) {
                ObjectNode n = ranks.addObject().put("rank", p.rank()).put("device", p.ordinal())
                        .put("device_name", p.device()).put("total_bytes", p.totalBytes())
                        .put("free_bytes", p.freeBytes());
                if (p.plan() == null) {
                    n.put("does_not_fit", p.refusal());
                    continue;
                }
                MemoryPlan q = p.plan();
                n.put("budget_bytes", q.budgetBytes()).put("weight_bytes", q.weightBytes())
                        .put("workspace_bytes", q.workspace().total())
                        .put("activation_bytes", q.workspace().activationBytes())
                        .put("runtime_reserve_bytes", q.runtimeReserveBytes()).put("kv_blocks", q.kvBlocks())
                        .put("kv_bytes_per_block", q.kvBytesPerBlock()).put("kv_bytes", q.kvBytes())
                        .put("kv_tokens", q.kvTokens());
            }
        }
        return json.writeValueAsString(root);
    }

    private String text(Report r) {
        BlockCounts b = r.blocks();
        ModelConfig m = r.model();
        String capacity = r.plan() == null ? "0 tokens: " + r.refusal()
                : String.format(Locale.ROOT, "%,d tokens in %,d blocks (%s GiB GPUs, %.0f%% utilisation; workspace %.2f GiB"
                                + " for %d rows / %d sequences, %.0f GiB runtime reserve)", r.kvCapacityTokens(),
                        r.plan().kvBlocks(), r.ranks().isEmpty() ? fmt(gpuMemoryGib) : fmt(r.plan().deviceBytes() / (double) GIB), utilization * 100,
                        r.plan().workspace().total() / (double) GIB, maxRows, maxSeqs,
                        MemoryPlanner.DEFAULT_RUNTIME_RESERVE_BYTES / (double) GIB);
        return String.join("\n",
                String.format(Locale.ROOT, "model               %s (%s), %d layers, hidden %d, %d heads x %d, vocab %d",
                        m.modelType(), m.architecture(), m.numLayers(), m.hiddenSize(), m.numAttentionHeads(), m.headDim(),
                        m.vocabSize()),
                String.format(Locale.ROOT, "parameters          %,d", r.parameters()),
                String.format(Locale.ROOT, "attention blocks    full %d, linear %d, none %d",
                        b.attentionFull(), b.attentionLinear(), b.attentionNone()),
                String.format(Locale.ROOT, "ffn blocks          mlp %d, linear %d, none %d", b.ffnMlp(), b.ffnLinear(), b.ffnNone()),
                "quantization        " + quantization,
                String.format(Locale.ROOT, "kv bytes per token  %,d (%s)", r.kvBytesPerToken(), kvDtype),
                String.format(Locale.ROOT, "weights per GPU     %,d bytes (%.2f GiB; tensor parallel %d, %s)",
                        r.perRankWeightBytes(), r.perRankWeightBytes() / (double) GIB, tensorParallel, weightsDtype),
                "kv capacity         " + capacity)
                + r.ranks().stream().map(p -> "\n" + p.line()).collect(Collectors.joining());
    }

    private static String fmt(double gib) {
        return gib == Math.rint(gib) ? Long.toString((long) gib) : Double.toString(gib);
    }

    private static int widthOf(String dtype, String flag) {
        return switch (dtype.toLowerCase(Locale.ROOT)) {
            case "bf16", "bfloat16", "f16", "fp16", "float16" -> 2;
            case "fp8", "f8", "f8_e4m3", "fp8_e4m3" -> 1;
            case "f32", "fp32", "float32" -> 4;
            default -> throw new IllegalArgumentException(flag + " '" + dtype + "' is not supported (bf16, fp8)");
        };
    }
}
