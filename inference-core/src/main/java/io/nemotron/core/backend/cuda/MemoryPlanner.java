package io.nemotron.core.backend.cuda;

import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelStats;
import io.nemotron.core.weights.CheckpointLayout;
import io.nemotron.core.weights.TensorSpec;
import java.util.Locale;

/**
 * Start-up memory planning for the CUDA backend, per GPU (vLLM's {@code determine_num_available_blocks}, computed
 * from the config instead of a profiling run): of {@code floor(total · gpu-memory-utilization)} bytes, the rank's
 * weight shards come first, then the workspace of the largest step ({@code maxRows} rows, {@code maxSeqs}
 * sequences), then a reserve for what the CUDA runtime itself takes; the KV pool gets whole blocks of what is left.
 * A model that does not fit, or whose pool cannot hold one sequence of {@code maxModelLen} tokens, is refused with
 * a {@link MemoryPlanException} naming the numbers, before anything is allocated.
 *
 * <p>Pure arithmetic over {@link ModelConfig} (no CUDA), so it is tested without a GPU and {@code nemotron inspect}
 * can print the same plan. Weights follow {@link ModelStats#perRankWeightBytes} (the tensor-parallel split rule
 * lives there, once).
 */
public final class MemoryPlanner {
    /** Positions per split-KV partition of the decode attention kernel (paged_attention_decode_bf16). */
    public static final int SPLIT_KV_PARTITION_TOKENS = 512;
    /** cuBLASLt's recommended workspace on Hopper (NVIDIA's cuBLAS docs: 32 MiB for sm_90). */
    public static final long GEMM_WORKSPACE_BYTES = 32L << 20;
    /**
     * Default for what the process uses outside our allocations: the CUDA context (300-500 MiB on H100), the loaded
     * module, NCCL's channel buffers. An estimate; the backend can pass what it measures instead.
     */
    public static final long DEFAULT_RUNTIME_RESERVE_BYTES = 1L << 30;
    /**
     * Per sequence per step, besides its block table: logit row index and sampled id (int32), temperature, top-p,
     * min-p, repetition / presence / frequency penalties (float), top-k (int32), seed and step (uint64) = 52 bytes,
     * plus the penalty CSR offset; rounded up to 64.
     */
    static final long PER_SEQUENCE_STEP_BYTES = 64;
    private static final int ROW_INPUT_INTS = 4;   // token id, position, slot, sequence of the row

    private final ModelConfig config;
    private int tensorParallel = 1;
    private int weightBytes = 2;
    private int kvBytes = 2;
    private int activationBytes = 2;
    private long deviceBytes = -1;
    private double utilization = 0.9;
    private int maxRows = 2048;
    private int maxSeqs = 256;
    private int blockSize = 16;
    private int maxModelLen;
    private long runtimeReserveBytes = DEFAULT_RUNTIME_RESERVE_BYTES;

    private MemoryPlanner(ModelConfig config) {
        this.config = config;
        this.maxModelLen = config.maxPositionEmbeddings();
    }

    /** A planner with the defaults: tp 1, BF16 weights, KV and activations, utilization 0.9, 2048 rows, 256 sequences, blocks of 16, the model's full context. */
    public static MemoryPlanner forModel(ModelConfig config) {
        return new MemoryPlanner(config);
    }

    public MemoryPlanner tensorParallel(int v) { tensorParallel = v; return this; }
    public MemoryPlanner weightBytes(int v) { weightBytes = v; return this; }
    public MemoryPlanner kvBytes(int v) { kvBytes = v; return this; }
    public MemoryPlanner activationBytes(int v) { activationBytes = v; return this; }
    public MemoryPlanner deviceMemory(long bytes) { deviceBytes = bytes; return this; }
    public MemoryPlanner utilization(double v) { utilization = v; return this; }
    public MemoryPlanner maxRows(int v) { maxRows = v; return this; }
    public MemoryPlanner maxSeqs(int v) { maxSeqs = v; return this; }
    public MemoryPlanner blockSize(int v) { blockSize = v; return this; }
    public MemoryPlanner maxModelLen(int v) { maxModelLen = v; return this; }
    public MemoryPlanner runtimeReserve(long bytes) { runtimeReserveBytes = bytes; return this; }

    /** The plan; throws {@link MemoryPlanException} when the model does not fit and IllegalArgumentException on bad settings. */
    public MemoryPlan plan() {
        validate();
        ModelStats stats = ModelStats.of(config);
        long budget = (long) Math.floor(deviceBytes * utilization);
        long weights = stats.perRankWeightBytes(tensorParallel, weightBytes);
        MemoryPlan.Workspace workspace = workspace();
        long fixed = Math.addExact(Math.addExact(weights, workspace.total()), runtimeReserveBytes);
        if (fixed > budget) {
            throw new MemoryPlanException(String.format(Locale.ROOT,
                    "model does not fit on %d GPU(s) of %s: per-GPU weights %s + workspace %s (%d rows, %d sequences)"
                            + " + runtime reserve %s = %s, but the budget is %s (%.2f x %s); need %s more per GPU"
                            + " (more GPUs, a narrower weight dtype, or fewer rows)",
                    tensorParallel, bytes(deviceBytes), bytes(weights), bytes(workspace.total()), maxRows, maxSeqs,
                    bytes(runtimeReserveBytes), bytes(fixed), bytes(budget), utilization, bytes(deviceBytes),
                    bytes(fixed - budget)));
        }
        long free = budget - fixed;
        long perBlock = (long) blockSize * stats.kvBytesPerTokenPerRank(tensorParallel, kvBytes);
        long blocksPerSeq = ceilDiv(maxModelLen, blockSize);
        long blocks;
        if (perBlock == 0) {
            // No FULL-attention layer: blocks are bookkeeping only and cost nothing; enough for every sequence.
            blocks = Math.min(Integer.MAX_VALUE, blocksPerSeq * maxSeqs);
        } else {
            blocks = Math.min(Integer.MAX_VALUE, free / perBlock);
            if (blocks < blocksPerSeq) {
                throw new MemoryPlanException(String.format(Locale.ROOT,
                        "KV cache too small: %s left per GPU after weights %s, workspace %s and reserve %s holds %d blocks"
                                + " of %d tokens (%s each), %d tokens, but one sequence of max-model-len %d needs %d blocks;"
                                + " lower max-model-len or raise gpu-memory-utilization (%.2f of %s)",
                        bytes(free), bytes(weights), bytes(workspace.total()), bytes(runtimeReserveBytes), blocks,
                        blockSize, bytes(perBlock), blocks * blockSize, maxModelLen, blocksPerSeq, utilization,
                        bytes(deviceBytes)));
            }
        }
        return new MemoryPlan(deviceBytes, utilization, budget, weights, workspace, runtimeReserveBytes, blockSize,
                perBlock, (int) blocks, blocks * blockSize, free - blocks * perBlock);
    }

    /** The workspace of the largest step on one rank (see {@link MemoryPlan.Workspace} for the parts). */
    MemoryPlan.Workspace workspace() {
        int tp = tensorParallel;
        long hidden = config.hiddenSize();
        long headDim = config.headDim();
        long qWidth = (long) config.numAttentionHeads() / tp * headDim;
        long kvWidth = 0;
        long inter = 0;
        for (BlockConfig b : config.blocks()) {
            if (b.attention() instanceof AttentionKind.Full full) {
                kvWidth = Math.max(kvWidth, Math.max(1, ceilDiv(full.kvHeads(), tp)) * headDim);
            }
            if (b.ffn() instanceof FfnKind.Mlp mlp) {
                inter = Math.max(inter, ceilDiv(mlp.intermediateSize(), tp));
            }
        }
        long activations = (long) maxRows * activationBytes * (3 * hidden + 2 * qWidth + 2 * kvWidth + 2 * inter);
        long vocab = config.vocabSize();
        // what CudaBackend allocates: logits come back LOGIT_CHUNK rows at a time, and only steps of at most
        // SPLIT_MAX_ROWS rows use split-KV decode
        long logitRows = Math.min(maxSeqs, CudaBackend.LOGIT_CHUNK);
        long logits = logitRows * Float.BYTES * (ceilDiv(vocab, tp) + (tp > 1 ? vocab : 0));
        long partitions = ceilDiv(maxModelLen, SPLIT_KV_PARTITION_TOKENS);
        long splitRows = Math.min(maxSeqs, CudaBackend.SPLIT_MAX_ROWS);
        long splitKv = hasFullAttention()
                ? splitRows * (config.numAttentionHeads() / tp) * partitions * (headDim + 2) * Float.BYTES
                : 0;
        long stepInputs = (long) maxRows * ROW_INPUT_INTS * Integer.BYTES
                + (long) maxSeqs * (ceilDiv(maxModelLen, blockSize) * Integer.BYTES + PER_SEQUENCE_STEP_BYTES);
        return new MemoryPlan.Workspace(activations, logits, splitKv, stepInputs, GEMM_WORKSPACE_BYTES, fp8Scratch());
    }

    /**
     * With 1-byte (FP8) weights, what {@code Fp8Linear} allocates per rank: one chunk of output rows of its largest
     * projection (this rank's shard, by {@link ModelStats}' split rule; at most {@code MAX_WEIGHT_SCRATCH_ELEMENTS})
     * dequantized to BF16, and maxRows rows of its widest projection input as BF16.
     * Embedding and lm_head stay BF16 in FP8 checkpoints (ModelStats counts them so), so they need no scratch.
     */
    long fp8Scratch() {
        if (weightBytes != 1) {
            return 0;
        }
        int tp = tensorParallel;
        long largest = 0;
        long widest = 0;
        for (TensorSpec t : CheckpointLayout.of(config).required()) {
            long[] s = t.shape();
            long rows;
            long cols;
            switch (t.split()) {
                case OUT_FEATURES -> { rows = ceilDiv(s[0], tp); cols = s[1]; }
                case KV_HEADS -> { rows = Math.max(1, ceilDiv(s[0] / config.headDim(), tp)) * config.headDim(); cols = s[1]; }
                case IN_FEATURES -> { rows = s[0]; cols = ceilDiv(s[1], tp); }
                default -> { continue; }   // norms, embedding, lm_head: not FP8
            }
            largest = Math.max(largest, Fp8Linear.rowsPerChunk(rows, cols, Fp8Linear.MAX_WEIGHT_SCRATCH_ELEMENTS) * cols);
            widest = Math.max(widest, cols);
        }
        return 2 * largest + 2L * maxRows * widest;
    }

    private boolean hasFullAttention() {
        return config.blocks().stream().anyMatch(b -> b.attention() instanceof AttentionKind.Full);
    }

    private void validate() {
        if (deviceBytes <= 0) {
            throw new IllegalArgumentException("device memory must be set and positive, got " + deviceBytes);
        }
        if (!(utilization > 0 && utilization <= 1)) {
            throw new IllegalArgumentException("gpu-memory-utilization must be in (0, 1], got " + utilization);
        }
        if (tensorParallel < 1 || config.numAttentionHeads() % tensorParallel != 0) {
            throw new IllegalArgumentException("tensor parallel size " + tensorParallel
                    + " must be >= 1 and divide num_attention_heads " + config.numAttentionHeads());
        }
        if (weightBytes < 1 || kvBytes < 1 || activationBytes < 1) {
            throw new IllegalArgumentException("dtype widths must be >= 1 byte, got weights " + weightBytes + ", kv "
                    + kvBytes + ", activations " + activationBytes);
        }
        if (blockSize < 1 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size must be a power of two, got " + blockSize);
        }
        if (maxRows < 1 || maxSeqs < 1 || maxSeqs > maxRows) {
            throw new IllegalArgumentException("need 1 <= max sequences <= max rows, got " + maxSeqs + " sequences, "
                    + maxRows + " rows");
        }
        if (maxModelLen < 1 || maxModelLen > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("max-model-len must be in [1, " + config.maxPositionEmbeddings()
                    + "], got " + maxModelLen);
        }
        if (runtimeReserveBytes < 0) {
            throw new IllegalArgumentException("runtime reserve must be >= 0, got " + runtimeReserveBytes);
        }
    }

    /** "63.35 GB (63351319552 bytes)": decimal units for reading, the exact count for checking. */
    static String bytes(long b) {
        return String.format(Locale.ROOT, "%.2f GB (%d bytes)", b / 1e9, b);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
