package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.Backend.Buf.ATT;
import static io.nemotron.core.backend.Backend.Buf.K;
import static io.nemotron.core.backend.Backend.Buf.Q;
import static io.nemotron.core.backend.Backend.Buf.V;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.backend.KvCacheFormat;
import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.BlockWeights;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.DTypeCodec;
import io.nemotron.core.weights.Fp8E4m3;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The FP8 KV cache on CUDA ({@code --kv-cache-dtype fp8}): kv_write_fp8 against its Java twin, bit for bit, and the
 * attention kernels over an FP8 cache against an independent float64 attention over the dequantized values
 * (code · scale, with the codes of the twin, which the first test ties to the kernel).
 */
@Tag("gpu")
class Fp8KvCacheGpuTest {
    private static final double U = 0x1p-8;
    private static final int MAX_ROWS = 32;

    @RegisterExtension
    static final CudaTestDevice gpu = new CudaTestDevice();

    /** Element offset of (slot, head, d) in the pool (paged_kv.cuh's layout, computed here independently). */
    private static long index(int slot, int head, int d, int kvHeads, int headDim, int blockSize) {
        int block = slot / blockSize;
        int offset = slot % blockSize;
        return (((long) block * kvHeads + head) * blockSize + offset) * headDim + d;
    }

    /**
     * Rows of K and V (BF16, U(±1.5): above the calibrated 1.0 they saturate) into a pool of 4 blocks of 8 at shuffled
     * slots, one row skipped (slot -1); head_dim 16 takes the packed path, 6 the element path. Every code must be the
     * twin's, and every slot not written must still be zero.
     */
    @ParameterizedTest
    @CsvSource({"16, 2", "6, 3"})
    void kvWriteFp8EqualsItsTwin(int headDim, int kvHeads) {
        int blockSize = 8;
        int slots = 4 * blockSize;
        int kvWidth = kvHeads * headDim;
        int[] slotMapping = {5, 30, -1, 0, 17, 8, 31, 12, 3};
        int rows = slotMapping.length;
        float kScale = 1f / 448;
        float vScale = 0.7f / 448;
        SplittableRandom r = new SplittableRandom(headDim);
        short[] k = new short[rows * kvWidth];
        short[] v = new short[rows * kvWidth];
        for (int i = 0; i < k.length; i++) {
            k[i] = DTypeCodec.floatToBf16((float) ((r.nextDouble() * 2 - 1) * 1.5));
            v[i] = DTypeCodec.floatToBf16((float) ((r.nextDouble() * 2 - 1) * 1.5));
        }
        long poolBytes = (long) slots * kvWidth;
        try (DeviceBuffer dk = gpu.upload(k, "k"); DeviceBuffer dv = gpu.upload(v, "v");
             DeviceBuffer dm = gpu.upload(slotMapping, "slots");
             DeviceBuffer kc = gpu.device().allocate(poolBytes, "k cache");
             DeviceBuffer vc = gpu.device().allocate(poolBytes, "v cache")) {
            kc.fill((byte) 0);
            vc.fill((byte) 0);
            gpu.device().synchronize("zeroing");
            new KvCacheKernels(gpu.kernels()).kvWriteFp8(kc.address(), vc.address(), dk.address(), dv.address(), kvWidth,
                    dm.address(), kvHeads, headDim, Integer.numberOfTrailingZeros(blockSize), kScale, vScale, rows);
            gpu.device().synchronize("kv_write_fp8");
            byte[] gotK = new byte[(int) poolBytes];
            byte[] gotV = new byte[(int) poolBytes];
            kc.download(gotK);
            vc.download(gotV);
            byte[] expectedK = new byte[gotK.length];
            byte[] expectedV = new byte[gotV.length];
            int saturated = 0;
            for (int row = 0; row < rows; row++) {
                if (slotMapping[row] < 0) {
                    continue;
                }
                for (int h = 0; h < kvHeads; h++) {
                    for (int d = 0; d < headDim; d++) {
                        int e = row * kvWidth + h * headDim + d;
                        int at = (int) index(slotMapping[row], h, d, kvHeads, headDim, blockSize);
                        expectedK[at] = Fp8Twins.kvEncode(k[e], kScale);
                        expectedV[at] = Fp8Twins.kvEncode(v[e], vScale);
                        saturated += (expectedK[at] & 0x7F) == 0x7E ? 1 : 0;
                    }
                }
            }
            for (int i = 0; i < gotK.length; i++) {
                assertEquals(expectedK[i], gotK[i], "K code at element " + i);
                assertEquals(expectedV[i], gotV[i], "V code at element " + i);
            }
            assertTrue(saturated > 0, "some K values saturate");
        }
    }

    /** A config of FULL layers only (kv heads 8 / 2 / 1 of 8 heads, or 3 / 2 / 1 of 6), no FFN. */
    private static ModelConfig config(int heads, int headDim, int... kvHeads) {
        List<BlockConfig> blocks = new ArrayList<>();
        for (int kv : kvHeads) {
            blocks.add(new BlockConfig(new AttentionKind.Full(kv), new FfnKind.None()));
        }
        return new ModelConfig("DeciLMForCausalLM", "nemotron-nas", heads * headDim, heads, headDim, 50, 256, 1e-5,
                10000.0, null, true, 1, List.of(2), "bfloat16", blocks);
    }

    private static ModelWeights weights(ModelConfig c, Arena arena) {
        int hidden = c.hiddenSize();
        List<BlockWeights> blocks = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            int kvWidth = ((AttentionKind.Full) c.blocks().get(i).attention()).kvHeads() * c.headDim();
            String p = "model.layers." + i + ".";
            blocks.add(new BlockWeights(c.blocks().get(i), zeros(arena, p + "input_layernorm.weight", hidden),
                    zeros(arena, p + "self_attn.q_proj.weight", hidden, hidden),
                    zeros(arena, p + "self_attn.k_proj.weight", kvWidth, hidden),
                    zeros(arena, p + "self_attn.v_proj.weight", kvWidth, hidden),
                    zeros(arena, p + "self_attn.o_proj.weight", hidden, hidden), null, null, null, null, null, null));
        }
        Tensor embed = zeros(arena, "model.embed_tokens.weight", c.vocabSize(), hidden);
        return new ModelWeights(embed, blocks, zeros(arena, "model.norm.weight", hidden), embed);
    }

    /** The attention op does not read the weights: zeros of the right shapes. */
    private static Tensor zeros(Arena arena, String name, long... shape) {
        long n = shape.length == 1 ? shape[0] : shape[0] * shape[1];
        return new Tensor(name, DType.BF16, shape, arena.allocate(2 * n, 16));
    }

    private record Part(int seq, int start, int n) {}

    /**
     * KV write + paged attention over an FP8 cache through the step sequence of the BF16 parity test (a mixed prefill,
     * a chunk beside a decode row, a long chunk, decode-only steps, then split-KV decode), every layer with its own k
     * and v scales, against float64 attention over the dequantized cache (decode(code) · scale, exact in double) and
     * the same BF16 queries.
     *
     * <p>Bound, as for the BF16 cache (BackendOpParityGpuTest): the cached values are exactly the reference's; the
     * kernel folds k_scale into the staged query and v_scale into the normalization (two more FP32 roundings, U32
     * each, against the scores' (d + 3)·U32·8 and the sums' 74·U32); with |q| <= 2 and |code · scale| <= 1 the FP32
     * differences stay below 1e-4 absolute in the output, which is rounded once to BF16 (U relative). Bound:
     * U·|ref| + 2^-12.
     */
    @ParameterizedTest
    @CsvSource({"8, 16, 16", "8, 16, 8", "6, 6, 16"})
    void attentionOverAnFp8CacheMatchesFloat64OverTheDequantizedValues(int heads, int headDim, int blockSize) {
        ModelConfig c = heads == 8 ? config(8, 16, 8, 2, 1) : config(6, 6, 3, 2, 1);
        int layers = c.numLayers();
        float[] kScales = new float[layers];
        float[] vScales = new float[layers];
        for (int l = 0; l < layers; l++) {
            kScales[l] = (0.8f + 0.1f * l) / 448;   // |k| <= 1: layer 0 saturates above 0.8, layer 1 above 0.9
            vScales[l] = (1.0f - 0.15f * l) / 448;
        }
        KvCacheFormat format = new KvCacheFormat(KvCacheDtype.FP8, kScales, vScales);
        SplittableRandom random = new SplittableRandom(heads * 100 + blockSize);
        int numBlocks = 16;
        int[] lengths = {74, 7, 3};
        try (Arena arena = Arena.ofShared();
             CudaBackend backend = new CudaBackend(c, weights(c, arena), gpu.device(), MAX_ROWS, null, 0,
                     CudaGraphs.OFF, format)) {
            assertEquals(CudaKvPool.bytesPerBlock(c, blockSize, KvCacheDtype.FP8), backend.kvBytesPerBlock(blockSize));
            KvPool pool = backend.newKvPool(numBlocks, blockSize);
            int[][] tables = new int[3][];
            int next = 0;
            int[] ids = {9, 2, 14, 0, 7, 11, 3, 15, 5, 1, 12, 8, 4, 13, 6, 10};
            for (int s = 0; s < 3; s++) {
                tables[s] = new int[(lengths[s] + blockSize - 1) / blockSize];
                for (int b = 0; b < tables[s].length; b++) {
                    tables[s][b] = ids[next++];
                }
            }
            // the dequantized cache, as the reference sees it: [layer][seq][position][kv element]
            double[][][][] kRef = new double[layers][3][][];
            double[][][][] vRef = new double[layers][3][][];
            for (int l = 0; l < layers; l++) {
                for (int s = 0; s < 3; s++) {
                    kRef[l][s] = new double[lengths[s]][];
                    vRef[l][s] = new double[lengths[s]][];
                }
            }
            Part[][] steps = {
                    {new Part(0, 0, 17), new Part(1, 0, 3), new Part(2, 0, 1)},
                    {new Part(0, 17, 23), new Part(1, 3, 1)},
                    {new Part(0, 40, 30)},
                    {new Part(0, 70, 1), new Part(1, 4, 1), new Part(2, 1, 1)},
                    {new Part(0, 71, 1)},
                    {new Part(0, 72, 1), new Part(1, 5, 1), new Part(2, 2, 1)},   // split-KV from here on
                    {new Part(0, 73, 1)},
            };
            StepBatch batch = new StepBatch(MAX_ROWS, 4);
            int qWidth = heads * headDim;
            double scale = 1 / Math.sqrt(headDim);
            double worst = 0;
            for (int i = 0; i < steps.length; i++) {
                if (i == 5) {
                    backend.splitKv(32, 32);
                }
                batch.clear();
                for (Part p : steps[i]) {
                    batch.addSequence(new int[lengths[p.seq]], p.start, p.n, tables[p.seq], blockSize);
                }
                int rows = batch.rows;
                backend.beginStep(batch);
                try {
                    for (int l = 0; l < layers; l++) {
                        int kvHeads = ((AttentionKind.Full) c.blocks().get(l).attention()).kvHeads();
                        int kvWidth = kvHeads * headDim;
                        float[] q = uniform(random, rows * qWidth, 2);
                        float[] k = uniform(random, rows * kvWidth, 1);
                        float[] v = uniform(random, rows * kvWidth, 1);
                        backend.writeBuffer(Q, q);
                        backend.writeBuffer(K, k);
                        backend.writeBuffer(V, v);
                        backend.writeBuffer(ATT, new float[rows * qWidth]);
                        backend.attention(l, kvHeads, pool, batch);
                        float[] got = backend.readBuffer(ATT, rows * qWidth);
                        // the rows' K/V into the reference cache, dequantized, then the float64 attention
                        int row = 0;
                        for (Part p : steps[i]) {
                            for (int j = 0; j < p.n; j++, row++) {
                                double[] kd = new double[kvWidth];
                                double[] vd = new double[kvWidth];
                                for (int e = 0; e < kvWidth; e++) {
                                    short kb = DTypeCodec.floatToBf16(k[row * kvWidth + e]);
                                    short vb = DTypeCodec.floatToBf16(v[row * kvWidth + e]);
                                    kd[e] = Fp8E4m3.decode(Fp8Twins.kvEncode(kb, kScales[l])) * (double) kScales[l];
                                    vd[e] = Fp8E4m3.decode(Fp8Twins.kvEncode(vb, vScales[l])) * (double) vScales[l];
                                }
                                kRef[l][p.seq][p.start + j] = kd;
                                vRef[l][p.seq][p.start + j] = vd;
                            }
                        }
                        row = 0;
                        for (Part p : steps[i]) {
                            for (int j = 0; j < p.n; j++, row++) {
                                int pos = p.start + j;
                                for (int h = 0; h < heads; h++) {
                                    int kvh = h / (heads / kvHeads);
                                    double[] w = new double[pos + 1];
                                    double max = Double.NEGATIVE_INFINITY;
                                    for (int t = 0; t <= pos; t++) {
                                        double sc = 0;
                                        for (int d = 0; d < headDim; d++) {
                                            sc += q[row * qWidth + h * headDim + d] * kRef[l][p.seq][t][kvh * headDim + d];
                                        }
                                        w[t] = sc * scale;
                                        max = Math.max(max, w[t]);
                                    }
                                    double sum = 0;
                                    for (int t = 0; t <= pos; t++) {
                                        w[t] = Math.exp(w[t] - max);
                                        sum += w[t];
                                    }
                                    for (int d = 0; d < headDim; d++) {
                                        double o = 0;
                                        for (int t = 0; t <= pos; t++) {
                                            o += w[t] * vRef[l][p.seq][t][kvh * headDim + d];
                                        }
                                        o /= sum;
                                        float g = got[row * qWidth + h * headDim + d];
                                        double bound = U * Math.abs(o) + 0x1p-12;
                                        worst = Math.max(worst, Math.abs(g - o) / bound);
                                        if (!(Math.abs(g - o) <= bound)) {
                                            fail("step " + i + " layer " + l + " row " + row + " (seq " + p.seq + " @"
                                                    + pos + ") head " + h + " dim " + d + ": float64 " + o + ", gpu "
                                                    + g + ", |diff| " + Math.abs(g - o) + " > " + bound);
                                        }
                                    }
                                }
                            }
                        }
                    }
                } finally {
                    backend.endStep();
                }
            }
            System.out.printf("FP8 KV attention, heads %d of %d, blocks of %d: worst |gpu - float64| / bound = %.3f%n",
                    heads, headDim, blockSize, worst);
        }
    }

    /** n BF16 values U(±scale). */
    private static float[] uniform(SplittableRandom r, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16((float) ((r.nextDouble() * 2 - 1) * scale)));
        }
        return x;
    }
}
