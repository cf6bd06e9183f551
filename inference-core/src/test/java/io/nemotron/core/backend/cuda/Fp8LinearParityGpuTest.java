package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.Backend.Buf.ATT;
import static io.nemotron.core.backend.Backend.Buf.GATE;
import static io.nemotron.core.backend.Backend.Buf.K;
import static io.nemotron.core.backend.Backend.Buf.OUT;
import static io.nemotron.core.backend.Backend.Buf.Q;
import static io.nemotron.core.backend.Backend.Buf.UP;
import static io.nemotron.core.backend.Backend.Buf.V;
import static io.nemotron.core.backend.Backend.Buf.XB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.nemotron.core.backend.Backend.Buf;
import io.nemotron.core.backend.cpu.CpuBackend;
import io.nemotron.core.backend.cpu.CpuBuffers;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.BlockWeights;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.DTypeCodec;
import io.nemotron.core.weights.Fp8E4m3;
import io.nemotron.core.weights.LinearScales;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend's FP8 linear op (the dequantizing path: {@link Fp8Linear}) against an independent float64
 * evaluation of the spec, vLLM's ModelOpt FP8 linear: {@code y = (x8 · W8ᵀ) · (input_scale · weight_scale)} with
 * {@code x8 = saturate_e4m3(x / input_scale)} (float division, the codec {@link Fp8E4m3}). Every linear of a block of
 * each kind, between the buffers the forward pass uses, at 1, 3 and 17 rows; widths that are and are not multiples of
 * the 8-element pack; inputs that saturate (|x| above 448 · input_scale) and inputs that fall into E4M3's subnormals.
 *
 * <p>Bound per element, from what the path rounds: x8 is computed identically on both sides (the kernel is
 * bit-identical to the codec: Fp8KernelsGpuTest) and every product of two E4M3 values is exact in FP32, so the GPU's
 * sum differs from the exact one only by FP32 accumulation in an unknown order, at most n·U32·Σ|x8·w8| (Higham's γ_n,
 * U32 = 2^-24); alpha's product adds one FP32 rounding and the BF16 output one BF16 rounding (U = 2^-8 of the value).
 * So |gpu - ref| <= U·|ref| + (n + 2)·U32·alpha·Σ|x8·w8|, stated with a factor 2 of slack on the FP32 term for the
 * second-order products of those roundings.
 *
 * <p>And against the CPU backend's FP8 linear (MatMulF8, FP32 activations) on the same BF16 inputs, in the style of
 * BackendOpParityGpuTest: the CPU quantizes the same values by the same rule and sums the same exact products in FP32
 * in its own order (n·U32·Σ of the exact sum), then scales once; so |gpu - cpu| <= U·|cpu| +
 * 3(n + 2)·U32·alpha·Σ|x8·w8| (the two FP32 terms added, the BF16 rounding taken relative to the CPU's value).
 */
@Tag("gpu")
class Fp8LinearParityGpuTest {
    private static final double U = 0x1p-8;
    private static final double U32 = 0x1p-24;
    private static final int MAX_ROWS = 32;
    private static final int[] ROWS = {1, 3, 17};
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Activations above 1.5 in magnitude saturate (1.5 / input_scale = 448). */
    private static final float INPUT_SCALE = 1.5f / 448f;
    private static CudaDevice device;

    @BeforeAll
    static void open() {
        CudaAvailability.assumeDevice();
        device = CudaDevice.open(0);
    }

    @AfterAll
    static void close() {
        if (device != null) {
            device.close();
        }
    }

    /** Hidden 36 (no multiple of the pack), 6 heads of 6, 2 kv heads; a block of each FFN kind and a linear attention. */
    private static final ModelConfig CONFIG = new ModelConfig("DeciLMForCausalLM", "nemotron-nas", 36, 6, 6, 61, 300,
            1e-6, 500000.0, null, true, 1, List.of(2), "bfloat16", List.of(
                    new BlockConfig(new AttentionKind.Full(2), new FfnKind.Mlp(56)),
                    new BlockConfig(new AttentionKind.Linear(), new FfnKind.Linear())));
    private static final int LINEAR_ATTN_ROWS = 13;   // < hidden: a tensor-parallel slice, through linearSlice

    /** Random weights: norms and embedding BF16, every projection FP8 with its codes' values kept for the reference. */
    private static final class Fp8Model {
        final Arena arena = Arena.ofShared();
        final SplittableRandom random = new SplittableRandom(17);
        final Map<Tensor, double[]> values = new IdentityHashMap<>();   // decoded codes, for the reference
        final ModelWeights weights;

        Fp8Model() {
            int hidden = CONFIG.hiddenSize();
            int qWidth = CONFIG.numAttentionHeads() * CONFIG.headDim();
            int kvWidth = 2 * CONFIG.headDim();
            Tensor embed = bf16("model.embed_tokens.weight", CONFIG.vocabSize(), hidden);
            String p = "model.layers.0.";
            List<BlockWeights> blocks = new ArrayList<>();
            blocks.add(new BlockWeights(CONFIG.blocks().get(0), bf16(p + "input_layernorm.weight", hidden),
                    fp8(p + "self_attn.q_proj.weight", qWidth, hidden), fp8(p + "self_attn.k_proj.weight", kvWidth, hidden),
                    fp8(p + "self_attn.v_proj.weight", kvWidth, hidden), fp8(p + "self_attn.o_proj.weight", hidden, qWidth),
                    null, bf16(p + "post_attention_layernorm.weight", hidden), fp8(p + "mlp.gate_proj.weight", 56, hidden),
                    fp8(p + "mlp.up_proj.weight", 56, hidden), fp8(p + "mlp.down_proj.weight", hidden, 56), null));
            p = "model.layers.1.";
            blocks.add(new BlockWeights(CONFIG.blocks().get(1), bf16(p + "input_layernorm.weight", hidden), null, null,
                    null, null, fp8(p + "self_attn.linear_attn.weight", LINEAR_ATTN_ROWS, hidden),
                    bf16(p + "post_attention_layernorm.weight", hidden), null, null, null,
                    fp8(p + "mlp.linear_mlp.weight", hidden, hidden)));
            weights = new ModelWeights(embed, blocks, bf16("model.norm.weight", hidden), embed);
        }

        private Tensor bf16(String name, long... shape) {
            long n = shape.length == 1 ? shape[0] : shape[0] * shape[1];
            MemorySegment seg = arena.allocate(2 * n, 16);
            for (long i = 0; i < n; i++) {
                seg.setAtIndex(U16, i, DTypeCodec.floatToBf16((float) (random.nextDouble() * 2 - 1)));
            }
            return new Tensor(name, DType.BF16, shape, seg);
        }

        /**
         * Weights U(±1.5/sqrt(in)) quantized as ModelOpt does: weight_scale = amax / 448, codes of w / weight_scale.
         */
        private Tensor fp8(String name, int out, int in) {
            double bound = 1.5 / Math.sqrt(in);
            float[] w = new float[out * in];
            float amax = 0;
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
                amax = Math.max(amax, Math.abs(w[i]));
            }
            float weightScale = amax / 448f;
            MemorySegment seg = arena.allocate(w.length, 16);
            double[] decoded = new double[w.length];
            for (int i = 0; i < w.length; i++) {
                byte code = Fp8E4m3.encode(w[i] / weightScale);
                seg.set(ValueLayout.JAVA_BYTE, i, code);
                decoded[i] = Fp8E4m3.decode(code);
            }
            Tensor t = new Tensor(name, DType.F8_E4M3, new long[] {out, in}, seg)
                    .withScales(new LinearScales(INPUT_SCALE, weightScale));
            values.put(t, decoded);
            return t;
        }
    }

    /** rows × width BF16 inputs U(±2), row r scaled by 2^(r % 5 - 3): some saturate, some land in subnormals. */
    private static float[] inputs(SplittableRandom random, int rows, int width) {
        float[] x = new float[rows * width];
        for (int i = 0; i < x.length; i++) {
            x[i] = DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(
                    (float) ((random.nextDouble() * 2 - 1) * 2 * Math.scalb(1.0, (i / width) % 5 - 3))));
        }
        return x;
    }

    /** Checks the GPU's rows (at outWidth, the weight's outputs from column offset) against the float64 spec. */
    private static void assertMatchesSpec(Fp8Model m, Tensor w, float[] x, float[] got, int rows, int outWidth,
                                          int offset) {
        assertMatchesSpec(m, w, x, got, rows, outWidth, offset, U);
    }

    /** As above with the output's unit roundoff {@code u}: U for BF16 outputs, U32 for FP32 ones. */
    private static void assertMatchesSpec(Fp8Model m, Tensor w, float[] x, float[] got, int rows, int outWidth,
                                          int offset, double u) {
        double[] wv = m.values.get(w);
        int n = w.cols();
        LinearScales s = w.requireScales();
        double alpha = s.output();
        double[] x8 = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            x8[i] = Fp8E4m3.decode(Fp8E4m3.encode(x[i] / s.input()));
        }
        for (int r = 0; r < rows; r++) {
            for (int col = 0; col < outWidth; col++) {
                int o = col - offset;
                float g = got[r * outWidth + col];
                if (o < 0 || o >= w.rows()) {
                    assertEquals(0f, g, 0f, w.name() + " row " + r + " col " + col + ": outside the slice");
                    continue;
                }
                double sum = 0;
                double abs = 0;
                for (int c = 0; c < n; c++) {
                    double p = x8[r * n + c] * wv[o * n + c];
                    sum += p;
                    abs += Math.abs(p);
                }
                double ref = sum * alpha;
                double bound = u * Math.abs(ref) + 2 * (n + 2) * U32 * alpha * abs;
                if (!(Math.abs(g - ref) <= bound)) {
                    fail(w.name() + " " + rows + " rows: row " + r + " col " + col + ": float64 " + ref + ", gpu " + g
                            + ", |diff| " + Math.abs(g - ref) + " > " + bound);
                }
            }
        }
    }

    /** The GPU's rows against the CPU backend's on the same inputs (the bound in the class comment). */
    private static void assertMatchesCpu(Fp8Model m, Tensor w, float[] x, float[] got, float[] cpu, int rows,
                                         int outWidth, int offset) {
        double[] wv = m.values.get(w);
        int n = w.cols();
        LinearScales s = w.requireScales();
        double alpha = s.output();
        for (int r = 0; r < rows; r++) {
            for (int col = 0; col < outWidth; col++) {
                int o = col - offset;
                float g = got[r * outWidth + col];
                float c = cpu[r * outWidth + col];
                if (o < 0 || o >= w.rows()) {
                    assertEquals(0f, c, 0f, w.name() + " row " + r + " col " + col + ": outside the slice, cpu");
                    continue;
                }
                double abs = 0;
                for (int k = 0; k < n; k++) {
                    abs += Math.abs(Fp8E4m3.decode(Fp8E4m3.encode(x[r * n + k] / s.input())) * wv[o * n + k]);
                }
                double bound = U * Math.abs(c) + 3 * (n + 2) * U32 * alpha * abs;
                if (!(Math.abs(g - c) <= bound)) {
                    fail(w.name() + " " + rows + " rows: row " + r + " col " + col + ": cpu " + c + ", gpu " + g
                            + ", |diff| " + Math.abs(g - c) + " > " + bound);
                }
            }
        }
    }

    @Test
    void everyFp8LinearMatchesTheFloat64SpecAndTheCpuBackend() {
        Fp8Model m = new Fp8Model();
        try (CudaBackend gpu = new CudaBackend(CONFIG, m.weights, device, MAX_ROWS);
             CpuBackend cpu = new CpuBackend(CONFIG, m.weights.embedTokens(), 1, MAX_ROWS)) {
            record Layer(Buf in, Buf out, Tensor w) {}
            BlockWeights b0 = m.weights.blocks().get(0);
            BlockWeights b1 = m.weights.blocks().get(1);
            List<Layer> layers = List.of(new Layer(XB, Q, b0.qProj()), new Layer(XB, K, b0.kProj()),
                    new Layer(XB, V, b0.vProj()), new Layer(ATT, OUT, b0.oProj()), new Layer(XB, GATE, b0.gateProj()),
                    new Layer(XB, UP, b0.upProj()), new Layer(GATE, OUT, b0.downProj()),
                    new Layer(XB, OUT, b1.linearMlp()));
            SplittableRandom random = new SplittableRandom(5);
            int saturated = 0;
            for (int rows : ROWS) {
                for (Layer l : layers) {
                    float[] x = inputs(random, rows, l.w().cols());
                    for (float v : x) {
                        saturated += Math.abs(v / INPUT_SCALE) > 448 ? 1 : 0;
                    }
                    gpu.writeBuffer(l.in(), x);
                    gpu.linear(l.in(), l.out(), l.w(), rows);
                    float[] got = gpu.readBuffer(l.out(), rows * l.w().rows());
                    assertMatchesSpec(m, l.w(), x, got, rows, l.w().rows(), 0);
                    CpuBuffers.write(cpu, l.in(), x);
                    cpu.linear(l.in(), l.out(), l.w(), rows);
                    assertMatchesCpu(m, l.w(), x, got, CpuBuffers.read(cpu, l.out(), rows * l.w().rows()), rows,
                            l.w().rows(), 0);
                }
                // a tensor-parallel slice of linear_attn written at a column offset of the hidden rows
                Tensor slice = b1.linearAttn();
                float[] x = inputs(random, rows, slice.cols());
                gpu.writeBuffer(XB, x);
                gpu.linearSlice(XB, OUT, slice, 11, rows);
                float[] got = gpu.readBuffer(OUT, rows * CONFIG.hiddenSize());
                assertMatchesSpec(m, slice, x, got, rows, CONFIG.hiddenSize(), 11);
                CpuBuffers.write(cpu, XB, x);
                cpu.linearSlice(XB, OUT, slice, 11, rows);
                assertMatchesCpu(m, slice, x, got, CpuBuffers.read(cpu, OUT, rows * CONFIG.hiddenSize()), rows,
                        CONFIG.hiddenSize(), 11);
            }
            assertTrue(saturated > 0, "some inputs saturate");
        } finally {
            m.arena.close();
        }
    }

    /**
     * The chunked path: a weight scratch bound of 3 rows of gate_proj (56 x 36), so its GEMM runs in 19 chunks (the last
     * of 2 rows), each into its own columns of the output; in BF16 (the bound above) and in FP32 (as an FP8 lm_head's
     * logits: no BF16 rounding, the output's FP32 rounding U32 instead of U).
     */
    @Test
    void weightsLargerThanTheScratchBoundRunChunkByChunk() {
        Fp8Model m = new Fp8Model();
        Tensor w = m.weights.blocks().get(0).gateProj();
        int rows = 5;
        try (CudaModule module = device.loadKernels(); Cublas blas = Cublas.open();
             DeviceWeights uploaded = DeviceWeights.upload(device, m.weights);
             Fp8Linear fp8 = Fp8Linear.forModel(device, new Fp8Kernels(module), blas, m.weights, rows,
                     3L * w.cols() + 5);
             DeviceBuffer in = device.allocate(2L * rows * w.cols(), "x");
             DeviceBuffer out = device.allocate(4L * rows * w.rows(), "y")) {
            assertEquals(3, Fp8Linear.rowsPerChunk(w.rows(), w.cols(), 3L * w.cols() + 5));
            float[] x = inputs(new SplittableRandom(8), rows, w.cols());
            short[] bits = new short[x.length];
            for (int i = 0; i < x.length; i++) {
                bits[i] = DTypeCodec.floatToBf16(x[i]);
            }
            in.upload(bits);
            fp8.linear(w, uploaded.of(w).address(), in.address(), out.address(), w.rows(), Cublas.CUDA_R_16BF, rows,
                    w.name());
            device.synchronize("chunked FP8 linear, bf16");
            short[] y = new short[rows * w.rows()];
            out.download(y);
            float[] got = new float[y.length];
            for (int i = 0; i < y.length; i++) {
                got[i] = DTypeCodec.bf16ToFloat(y[i]);
            }
            assertMatchesSpec(m, w, x, got, rows, w.rows(), 0);
            fp8.linear(w, uploaded.of(w).address(), in.address(), out.address(), w.rows(), Cublas.CUDA_R_32F, rows,
                    w.name());
            device.synchronize("chunked FP8 linear, f32");
            float[] got32 = new float[rows * w.rows()];
            out.download(got32);
            assertMatchesSpec(m, w, x, got32, rows, w.rows(), 0, U32);
        } finally {
            m.arena.close();
        }
    }

    @Test
    void fp8TensorsWithoutScalesOrOfAnotherShapeAreRefusedNamingThem() {
        Fp8Model m = new Fp8Model();
        try {
            BlockWeights b0 = m.weights.blocks().get(0);
            Tensor q = b0.qProj();
            Tensor bare = new Tensor(q.name(), DType.F8_E4M3, q.shape(), q.data());
            BlockWeights noScales = new BlockWeights(b0.config(), b0.inputLayernorm(), bare, b0.kProj(), b0.vProj(),
                    b0.oProj(), null, b0.postAttentionLayernorm(), b0.gateProj(), b0.upProj(), b0.downProj(), null);
            ModelWeights w = new ModelWeights(m.weights.embedTokens(), List.of(noScales, m.weights.blocks().get(1)),
                    m.weights.norm(), m.weights.lmHead());
            RuntimeException e = assertThrows(RuntimeException.class, () -> new CudaBackend(CONFIG, w, device, MAX_ROWS));
            assertTrue(e.getMessage().contains(q.name()), e.getMessage());

            Tensor embed = m.weights.embedTokens();
            Tensor fp8Embed = new Tensor(embed.name(), DType.F8_E4M3, embed.shape(), embed.data())
                    .withScales(new LinearScales(1f, 1f));
            ModelWeights e8 = new ModelWeights(fp8Embed, m.weights.blocks(), m.weights.norm(), fp8Embed);
            IllegalArgumentException ee = assertThrows(IllegalArgumentException.class,
                    () -> new CudaBackend(CONFIG, e8, device, MAX_ROWS));
            assertTrue(ee.getMessage().contains(embed.name()), ee.getMessage());
        } finally {
            m.arena.close();
        }
    }
}
