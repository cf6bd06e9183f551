package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.Backend.Buf.ATT;
import static io.nemotron.core.backend.Backend.Buf.GATE;
import static io.nemotron.core.backend.Backend.Buf.K;
import static io.nemotron.core.backend.Backend.Buf.OUT;
import static io.nemotron.core.backend.Backend.Buf.Q;
import static io.nemotron.core.backend.Backend.Buf.UP;
import static io.nemotron.core.backend.Backend.Buf.V;
import static io.nemotron.core.backend.Backend.Buf.X;
import static io.nemotron.core.backend.Backend.Buf.XB;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.Backend.Buf;
import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.backend.cpu.CpuBackend;
import io.nemotron.core.backend.cpu.CpuBuffers;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.RopeScaling;
import io.nemotron.core.model.BlockWeights;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.DTypeCodec;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Op parity in the style of llama.cpp's {@code test-backend-ops}: every op of {@link Backend} on the CUDA backend
 * against the CPU backend (the semantic reference) on the same inputs, over tiny model shapes chosen to reach every
 * kernel path: widths that are and are not multiples of the 8-element BF16 pack (hidden 64 / 36 / 48, intermediate
 * 96 / 44 / 50 / 22 / 64), head dims 16 / 6 / 8, GQA groups 1 to 32 (kv heads 8 / 2 / 1 and 3 / 2 / 1), 1 / 3 / 17
 * rows, llama3 rope scaling, a tied head and tensor-parallel linear slices.
 *
 * <p>Inputs and weights are BF16-representable, so both backends start from identical values; the CUDA backend then
 * keeps BF16 activations (each written activation is rounded to BF16: at most {@link #U} = 2^-8 of itself) where the
 * CPU keeps FP32, and the two sum in different orders (FP32 unit roundoff {@link #U32} = 2^-24 per operation). Each op
 * states its bound from those two facts; the bounds are per element and assert nothing looser than the rounding the
 * GPU path is specified to do. Ops that copy or round once are checked bit for bit.
 */
@Tag("gpu")
class BackendOpParityGpuTest {
    /** BF16 unit roundoff: round to nearest with an 8-bit significand moves a value by at most 2^-8 of itself. */
    private static final double U = 0x1p-8;
    /** FP32 unit roundoff. */
    private static final double U32 = 0x1p-24;
    private static final int MAX_ROWS = 32;
    private static final int[] ROWS = {1, 3, 17};
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Worst |gpu - cpu| / bound seen per op (exact ops: worst |gpu - cpu|), printed at the end. */
    private static final Map<String, Double> WORST = new TreeMap<>();
    private static CudaDevice device;

    @BeforeAll
    static void open() {
        CudaAvailability.assumeDevice();
        device = CudaDevice.open(0);
    }

    @AfterAll
    static void close() {
        WORST.forEach((op, w) -> System.out.printf("op parity: %-28s worst |gpu-cpu|/bound = %.3f%n", op, w));
        if (device != null) {
            device.close();
        }
    }

    /** The model shapes: each a config whose blocks reach different kernel paths. */
    enum Shape {
        /** 8 heads of 16, kv heads 8 / 2 / 1 (groups 1, 4, 8), packed widths but an intermediate of 44. */
        GQA(new ModelConfig("DeciLMForCausalLM", "nemotron-nas", 64, 8, 16, 97, 512, 1e-5, 10000.0, null, false, 1,
                List.of(2), "bfloat16", List.of(
                        new BlockConfig(new AttentionKind.Full(8), new FfnKind.Mlp(96)),
                        new BlockConfig(new AttentionKind.Full(2), new FfnKind.Mlp(44)),
                        new BlockConfig(new AttentionKind.Full(1), new FfnKind.Linear()),
                        new BlockConfig(new AttentionKind.Linear(), new FfnKind.None()),
                        new BlockConfig(new AttentionKind.None(), new FfnKind.None()))),
                64, 24),
        /** Nothing a multiple of 8: hidden 36, 6 heads of 6 (kv 3 / 2 / 1: groups 2, 3, 6), llama3 rope, tied head. */
        ODD(new ModelConfig("DeciLMForCausalLM", "nemotron-nas", 36, 6, 6, 61, 300, 1e-6, 500000.0,
                new RopeScaling(8, 1, 4, 32), true, 1, List.of(2), "bfloat16", List.of(
                        new BlockConfig(new AttentionKind.Full(3), new FfnKind.Mlp(50)),
                        new BlockConfig(new AttentionKind.Full(2), new FfnKind.Linear()),
                        new BlockConfig(new AttentionKind.Full(1), new FfnKind.Mlp(22)),
                        new BlockConfig(new AttentionKind.Linear(), new FfnKind.Mlp(50)))),
                13, 36),
        /** 32 heads of 8, kv 8 / 2 / 1: groups 4, 16 and 32 (two 16-head chunks per CTA grid row). */
        WIDE_GROUP(new ModelConfig("DeciLMForCausalLM", "nemotron-nas", 48, 32, 8, 40, 256, 1e-5, 10000.0, null, false,
                1, List.of(2), "bfloat16", List.of(
                        new BlockConfig(new AttentionKind.Full(8), new FfnKind.Mlp(64)),
                        new BlockConfig(new AttentionKind.Full(2), new FfnKind.None()),
                        new BlockConfig(new AttentionKind.Full(1), new FfnKind.None()))),
                48, 48);

        final ModelConfig config;
        final int linearAttnRows;   // rows of linear_attn: < hidden is a tensor-parallel slice for linearSlice
        final int linearMlpRows;

        Shape(ModelConfig config, int linearAttnRows, int linearMlpRows) {
            this.config = config;
            this.linearAttnRows = linearAttnRows;
            this.linearMlpRows = linearMlpRows;
        }
    }

    /** One shape with seeded random BF16 weights, on both backends; host copies of every weight as floats. */
    private static final class Twins implements AutoCloseable {
        final Shape shape;
        final ModelConfig config;
        final Arena arena = Arena.ofShared();   // the CPU backend's pool threads read the weights
        final Map<Tensor, float[]> host = new IdentityHashMap<>();
        final ModelWeights weights;
        final CpuBackend cpu;
        final CudaBackend gpu;
        final SplittableRandom random;

        Twins(Shape shape, int maxRows, long seed) {
            this.shape = shape;
            this.config = shape.config;
            this.random = new SplittableRandom(seed);
            this.weights = build();
            // one thread: the machine is shared with the emulator's fibers, and spinning workers would steal from them
            this.cpu = new CpuBackend(config, weights.embedTokens(), 1, maxRows);
            this.gpu = new CudaBackend(config, weights, device, maxRows);
        }

        private ModelWeights build() {
            int hidden = config.hiddenSize();
            int qWidth = config.numAttentionHeads() * config.headDim();
            Tensor embed = linear("model.embed_tokens.weight", config.vocabSize(), hidden, 1.0);
            List<BlockWeights> blocks = new ArrayList<>();
            for (int i = 0; i < config.numLayers(); i++) {
                BlockConfig b = config.blocks().get(i);
                String p = "model.layers." + i + ".";
                Tensor inNorm = null, q = null, k = null, v = null, o = null, linearAttn = null;
                switch (b.attention()) {
                    case AttentionKind.Full f -> {
                        int kvWidth = f.kvHeads() * config.headDim();
                        inNorm = norm(p + "input_layernorm.weight");
                        q = linear(p + "self_attn.q_proj.weight", qWidth, hidden, 0);
                        k = linear(p + "self_attn.k_proj.weight", kvWidth, hidden, 0);
                        v = linear(p + "self_attn.v_proj.weight", kvWidth, hidden, 0);
                        o = linear(p + "self_attn.o_proj.weight", hidden, qWidth, 0);
                    }
                    case AttentionKind.Linear l -> {
                        inNorm = norm(p + "input_layernorm.weight");
                        linearAttn = linear(p + "self_attn.linear_attn.weight", shape.linearAttnRows, hidden, 0);
                    }
                    case AttentionKind.None n -> { }
                }
                Tensor postNorm = null, gate = null, up = null, down = null, linearMlp = null;
                switch (b.ffn()) {
                    case FfnKind.Mlp m -> {
                        postNorm = norm(p + "post_attention_layernorm.weight");
                        gate = linear(p + "mlp.gate_proj.weight", m.intermediateSize(), hidden, 0);
                        up = linear(p + "mlp.up_proj.weight", m.intermediateSize(), hidden, 0);
                        down = linear(p + "mlp.down_proj.weight", hidden, m.intermediateSize(), 0);
                    }
                    case FfnKind.Linear l -> {
                        postNorm = norm(p + "post_attention_layernorm.weight");
                        linearMlp = linear(p + "mlp.linear_mlp.weight", shape.linearMlpRows, hidden, 0);
                    }
                    case FfnKind.None n -> { }
                }
                blocks.add(new BlockWeights(b, inNorm, q, k, v, o, linearAttn, postNorm, gate, up, down, linearMlp));
            }
            Tensor lmHead = config.tieWordEmbeddings() ? embed : linear("lm_head.weight", config.vocabSize(), hidden, 0);
            return new ModelWeights(embed, blocks, norm("model.norm.weight"), lmHead);
        }

        /** Norm weights in ±[0.25, 2]: some negative, so a sign slip shows. */
        private Tensor norm(String name) {
            float[] v = new float[config.hiddenSize()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((0.25 + 1.75 * random.nextDouble()) * (random.nextInt(8) == 0 ? -1 : 1));
            }
            return tensor(name, v, config.hiddenSize());
        }

        /** U(±bound), bound 1.5/sqrt(in) unless given: outputs stay O(1) for O(1) inputs. */
        private Tensor linear(String name, int out, int in, double bound) {
            double b = bound > 0 ? bound : 1.5 / Math.sqrt(in);
            float[] v = new float[out * in];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((random.nextDouble() * 2 - 1) * b);
            }
            return tensor(name, v, out, in);
        }

        private Tensor tensor(String name, float[] values, long... shape) {
            MemorySegment seg = arena.allocate(2L * values.length, 16);
            float[] exact = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                short bits = DTypeCodec.floatToBf16(values[i]);
                seg.setAtIndex(U16, i, bits);
                exact[i] = DTypeCodec.bf16ToFloat(bits);
            }
            Tensor t = new Tensor(name, DType.BF16, shape, seg);
            host.put(t, exact);
            return t;
        }

        void write(Buf b, float[] values) {
            CpuBuffers.write(cpu, b, values);
            gpu.writeBuffer(b, values);
        }

        float[] cpuRead(Buf b, int n) {
            return CpuBuffers.read(cpu, b, n);
        }

        float[] gpuRead(Buf b, int n) {
            return gpu.readBuffer(b, n);
        }

        /** n BF16 values U(±scale), row r (of width) scaled by 2^(r % 5 - 2) so rows differ in magnitude. */
        float[] inputs(int n, int width, double scale) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = bf16((random.nextDouble() * 2 - 1) * scale * Math.scalb(1.0, (i / width) % 5 - 2));
            }
            return x;
        }

        /** n BF16 values U(±scale). */
        float[] uniform(int n, double scale) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = bf16((random.nextDouble() * 2 - 1) * scale);
            }
            return x;
        }

        List<BlockWeights> blocks() {
            return weights.blocks();
        }

        int hidden() {
            return config.hiddenSize();
        }

        int qWidth() {
            return config.numAttentionHeads() * config.headDim();
        }

        @Override
        public void close() {
            gpu.close();
            cpu.close();
            arena.close();
        }
    }

    static float bf16(double v) {
        return DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16((float) v));
    }

    /** The tolerance of element i given the CPU value. */
    @FunctionalInterface
    interface Bound {
        double at(int i, double cpu);
    }

    /** Asserts |gpu - cpu| <= bound element by element, naming the first failure by row and column of width. */
    private static void assertWithin(String op, String what, float[] cpu, float[] gpu, int width, Bound bound) {
        assertEquals(cpu.length, gpu.length, what);
        double worst = 0;
        for (int i = 0; i < cpu.length; i++) {
            double diff = Math.abs((double) gpu[i] - cpu[i]);
            double tol = bound.at(i, cpu[i]);
            if (!(diff <= tol)) {
                fail(op + " " + what + ": row " + i / width + " col " + i % width + ": cpu " + cpu[i] + ", gpu " + gpu[i]
                        + ", |diff| " + diff + " > bound " + tol);
            }
            if (tol > 0) {
                worst = Math.max(worst, diff / tol);
            }
        }
        WORST.merge(op, worst, Math::max);
    }

    /** The GPU's BF16 buffer must hold exactly the BF16 rounding of the CPU's FP32 value. */
    private static void assertRoundedExactly(String op, String what, float[] cpu, float[] gpu, int width) {
        for (int i = 0; i < cpu.length; i++) {
            if (Float.floatToIntBits(bf16(cpu[i])) != Float.floatToIntBits(gpu[i])) {
                fail(op + " " + what + ": row " + i / width + " col " + i % width + ": cpu " + cpu[i] + " rounds to "
                        + bf16(cpu[i]) + ", gpu " + gpu[i]);
            }
        }
        WORST.merge(op, 0.0, Math::max);
    }

    static Stream<Arguments> shapesAndBlockSizes() {
        return Stream.of(Shape.values()).flatMap(s -> Stream.of(Arguments.of(s, 16), Arguments.of(s, 8)));
    }

    // ---- embed ------------------------------------------------------------------------------------------------------

    /** A row copy of a BF16 table into BF16 (GPU) or FP32 (CPU): exact, so bit-identical. */
    @ParameterizedTest
    @EnumSource(Shape.class)
    void embedCopiesTheRowsExactly(Shape shape) {
        try (Twins t = new Twins(shape, MAX_ROWS, 1)) {
            int vocab = t.config.vocabSize();
            int hidden = t.hidden();
            int[][] cases = {{vocab - 1}, {0, 5, 0}, new int[17]};
            for (int i = 0; i < 17; i++) {
                cases[2][i] = t.random.nextInt(vocab);
            }
            for (int[] ids : cases) {
                t.cpu.embed(ids, ids.length);
                t.gpu.embed(ids, ids.length);
                assertRoundedExactly("embed", ids.length + " rows", t.cpuRead(X, ids.length * hidden),
                        t.gpuRead(X, ids.length * hidden), hidden);
            }
            for (Backend b : new Backend[] {t.cpu, t.gpu}) {
                assertThrows(IllegalArgumentException.class, () -> b.embed(new int[] {vocab}, 1), "id = vocab");
                assertThrows(IllegalArgumentException.class, () -> b.embed(new int[] {-1}, 1), "id -1");
            }
        }
    }

    // ---- rmsNorm ----------------------------------------------------------------------------------------------------

    /**
     * GPU: bf16(bf16(x · inv_rms) · w), HF's two roundings, so |gpu - exact| <= (2U + U²)|exact|. Both sides' FP32
     * (sum of n squares in another order, rsqrtf within 2 ulp, two products) differ by at most (n + 16)·U32 relative.
     */
    @ParameterizedTest
    @EnumSource(Shape.class)
    void rmsNormWithinTwoBf16Roundings(Shape shape) {
        try (Twins t = new Twins(shape, MAX_ROWS, 2)) {
            int hidden = t.hidden();
            double rel = 2 * U + U * U + (hidden + 16) * U32;
            List<Tensor> norms = new ArrayList<>();
            for (BlockWeights b : t.blocks()) {
                for (Tensor n : new Tensor[] {b.inputLayernorm(), b.postAttentionLayernorm()}) {
                    if (n != null) {
                        norms.add(n);
                    }
                }
            }
            norms.add(t.weights.norm());
            for (int rows : ROWS) {
                for (Tensor w : norms) {
                    float[] x = t.inputs(rows * hidden, hidden, 2);
                    t.write(X, x);
                    t.cpu.rmsNorm(X, XB, w, rows);
                    t.gpu.rmsNorm(X, XB, w, rows);
                    assertWithin("rmsNorm", w.name() + ", " + rows + " rows", t.cpuRead(XB, rows * hidden),
                            t.gpuRead(XB, rows * hidden), hidden, (i, c) -> rel * Math.abs(c));
                }
                // in place, as the kernels allow (out aliases x)
                Tensor w = norms.getFirst();
                t.write(X, t.inputs(rows * hidden, hidden, 2));
                t.cpu.rmsNorm(X, X, w, rows);
                t.gpu.rmsNorm(X, X, w, rows);
                assertWithin("rmsNorm", "in place, " + rows + " rows", t.cpuRead(X, rows * hidden),
                        t.gpuRead(X, rows * hidden), hidden, (i, c) -> rel * Math.abs(c));
            }
        }
    }

    // ---- linear / linearSlice -----------------------------------------------------------------------------------------

    /**
     * out = W · in with BF16 products (exact in FP32), FP32 accumulation on both sides in different orders (each within
     * n·U32·Σ|w·x| of the exact sum, Higham's γ_n), the GPU's sum then rounded to BF16 (U relative). Bound per element:
     * U·|cpu| + 3n·U32·Σ_c|w_c·x_c|, with Σ|w·x| computed here in double.
     */
    private static Bound linearBound(Twins t, Tensor w, float[] in, int outWidth, int offset) {
        float[] wv = t.host.get(w);
        int n = w.cols();
        return (i, c) -> {
            int r = i / outWidth;
            int o = i % outWidth - offset;
            if (o < 0 || o >= w.rows()) {
                return 0;   // outside a slice: zero on both sides, exactly
            }
            double s = 0;
            for (int k = 0; k < n; k++) {
                s += Math.abs((double) wv[o * n + k] * in[r * n + k]);
            }
            return U * Math.abs(c) + 3.0 * n * U32 * s;
        };
    }

    /** Every linear layer of the model between the buffers the forward pass uses it on. */
    @ParameterizedTest
    @EnumSource(Shape.class)
    void linearWithinOneBf16Rounding(Shape shape) {
        try (Twins t = new Twins(shape, MAX_ROWS, 3)) {
            record Layer(Buf in, Buf out, Tensor w) {}
            List<Layer> layers = new ArrayList<>();
            for (BlockWeights b : t.blocks()) {
                if (b.qProj() != null) {
                    layers.add(new Layer(XB, Q, b.qProj()));
                    layers.add(new Layer(XB, K, b.kProj()));
                    layers.add(new Layer(XB, V, b.vProj()));
                    layers.add(new Layer(ATT, OUT, b.oProj()));
                }
                if (b.gateProj() != null) {
                    layers.add(new Layer(XB, GATE, b.gateProj()));
                    layers.add(new Layer(XB, UP, b.upProj()));
                    layers.add(new Layer(GATE, OUT, b.downProj()));
                }
            }
            for (int rows : ROWS) {
                for (Layer l : layers) {
                    float[] in = t.inputs(rows * l.w.cols(), l.w.cols(), 1);
                    t.write(l.in, in);
                    t.cpu.linear(l.in, l.out, l.w, rows);
                    t.gpu.linear(l.in, l.out, l.w, rows);
                    int n = rows * l.w.rows();
                    assertWithin("linear", l.w.name() + " " + l.w.shapeString() + ", " + rows + " rows",
                            t.cpuRead(l.out, n), t.gpuRead(l.out, n), l.w.rows(), linearBound(t, l.w, in, l.w.rows(), 0));
                }
            }
        }
    }

    /**
     * Column slices at offsets 0, odd and flush with the end (and the whole layer, which is plain linear): the slice
     * within linear's bound, every other column exactly zero although OUT held garbage before.
     */
    @ParameterizedTest
    @EnumSource(Shape.class)
    void linearSliceWritesItsColumnsAndZerosTheRest(Shape shape) {
        try (Twins t = new Twins(shape, MAX_ROWS, 4)) {
            int hidden = t.hidden();
            List<Tensor> slices = new ArrayList<>();
            for (BlockWeights b : t.blocks()) {
                for (Tensor w : new Tensor[] {b.linearAttn(), b.linearMlp()}) {
                    if (w != null) {
                        slices.add(w);
                    }
                }
            }
            // a k_proj is a hidden-input layer narrower than hidden, too
            slices.add(t.blocks().stream().filter(b -> b.kProj() != null).reduce((a, b) -> b).orElseThrow().kProj());
            for (int rows : ROWS) {
                for (Tensor w : slices) {
                    int width = w.rows();
                    for (int offset : new int[] {0, Math.min(7, hidden - width), hidden - width}) {
                        float[] in = t.inputs(rows * hidden, hidden, 1);
                        t.write(XB, in);
                        t.write(OUT, t.inputs(rows * hidden, hidden, 100));
                        t.cpu.linearSlice(XB, OUT, w, offset, rows);
                        t.gpu.linearSlice(XB, OUT, w, offset, rows);
                        assertWithin("linearSlice", w.name() + " " + w.shapeString() + " at " + offset + ", " + rows
                                + " rows", t.cpuRead(OUT, rows * hidden), t.gpuRead(OUT, rows * hidden), hidden,
                                linearBound(t, w, in, hidden, offset));
                    }
                }
            }
        }
    }

    // ---- rope -------------------------------------------------------------------------------------------------------

    /**
     * Both compute the same float expression x0·cos - x1·sin from the same inv_freq (RopeFrequencies); the GPU's
     * cos/sin are the double sincos rounded to float, the CPU's (float) Math.cos, which may differ in the last float
     * bit (2^-23 relative, so 2^-23·(|x0| + |x1|) in the result, doubled for the result's own rounding). Then one BF16
     * rounding: bound U·|cpu| + 2^-22·(|x0| + |x1|).
     */
    @ParameterizedTest
    @EnumSource(Shape.class)
    void ropeWithinOneBf16Rounding(Shape shape) {
        try (Twins t = new Twins(shape, MAX_ROWS, 5)) {
            int maxPos = t.config.maxPositionEmbeddings();
            int headDim = t.config.headDim();
            int[][] positions = {{maxPos - 1}, {0, 1, maxPos / 2 + 1}, new int[17]};
            for (int i = 0; i < 17; i++) {
                positions[2][i] = t.random.nextInt(maxPos);
            }
            List<Integer> headCounts = new ArrayList<>(List.of(t.config.numAttentionHeads()));
            for (BlockConfig b : t.config.blocks()) {
                if (b.attention() instanceof AttentionKind.Full f) {
                    headCounts.add(f.kvHeads());
                }
            }
            for (int[] pos : positions) {
                int rows = pos.length;
                for (int heads : headCounts) {
                    Buf buf = heads == t.config.numAttentionHeads() ? Q : K;
                    int width = heads * headDim;
                    float[] x = t.inputs(rows * width, width, 2);
                    t.write(buf, x);
                    t.cpu.rope(buf, heads, pos, rows);
                    t.gpu.rope(buf, heads, pos, rows);
                    int half = headDim / 2;
                    assertWithin("rope", heads + " heads, " + rows + " rows", t.cpuRead(buf, rows * width),
                            t.gpuRead(buf, rows * width), width, (i, c) -> {
                                int d = i % headDim;
                                int pair = d < half ? i + half : i - half;
                                return U * Math.abs(c) + 0x1p-22 * (Math.abs(x[i]) + Math.abs(x[pair]));
                            });
                }
            }
            for (Backend b : new Backend[] {t.cpu, t.gpu}) {
                assertThrows(IndexOutOfBoundsException.class, () -> b.rope(Q, 1, new int[] {maxPos}, 1), "position");
            }
        }
    }

    // ---- siluMul ----------------------------------------------------------------------------------------------------

    /**
     * GPU: bf16(bf16(silu(g)) · u), HF's two roundings: (2U + U²) relative. silu in FP32 on both sides (expf and
     * VectorExp within 2 ulp, a divide, a multiply): 16·U32 relative between them. Gates include -90 (e^90 overflows:
     * silu = -0 on both) and ±20.
     */
    @ParameterizedTest
    @EnumSource(Shape.class)
    void siluMulWithinTwoBf16Roundings(Shape shape) {
        try (Twins t = new Twins(shape, MAX_ROWS, 6)) {
            double rel = 2 * U + U * U + 16 * U32;
            List<Integer> widths = new ArrayList<>();
            for (BlockConfig b : t.config.blocks()) {
                if (b.ffn() instanceof FfnKind.Mlp m && !widths.contains(m.intermediateSize())) {
                    widths.add(m.intermediateSize());
                }
            }
            for (int rows : ROWS) {
                for (int width : widths) {
                    float[] g = t.inputs(rows * width, width, 16);
                    g[0] = -90f;
                    g[g.length - 1] = 20f;
                    if (g.length > 2) {
                        g[1] = -20f;
                    }
                    t.write(GATE, g);
                    t.write(UP, t.inputs(rows * width, width, 2));
                    t.cpu.siluMul(width, rows);
                    t.gpu.siluMul(width, rows);
                    assertWithin("siluMul", "width " + width + ", " + rows + " rows", t.cpuRead(GATE, rows * width),
                            t.gpuRead(GATE, rows * width), width, (i, c) -> rel * Math.abs(c));
                }
            }
        }
    }

    // ---- add --------------------------------------------------------------------------------------------------------

    /** Both add the same two floats in FP32; the GPU stores the BF16 rounding of that sum: bit for bit. */
    @ParameterizedTest
    @EnumSource(Shape.class)
    void addIsTheBf16RoundingOfTheFp32Sum(Shape shape) {
        try (Twins t = new Twins(shape, MAX_ROWS, 7)) {
            int hidden = t.hidden();
            for (int rows : ROWS) {
                for (Buf delta : new Buf[] {OUT, XB}) {
                    t.write(X, t.inputs(rows * hidden, hidden, 8));
                    t.write(delta, t.inputs(rows * hidden, hidden, 0.1));   // smaller: the sums round
                    t.cpu.add(X, delta, rows);
                    t.gpu.add(X, delta, rows);
                    assertRoundedExactly("add", "X += " + delta + ", " + rows + " rows", t.cpuRead(X, rows * hidden),
                            t.gpuRead(X, rows * hidden), hidden);
                }
            }
        }
    }

    // ---- allReduce --------------------------------------------------------------------------------------------------

    /** One rank: nothing to sum, the hidden-wide buffers unchanged bit for bit; other buffers refused by both. */
    @ParameterizedTest
    @EnumSource(Shape.class)
    void allReduceOnOneRankLeavesTheBuffers(Shape shape) {
        try (Twins t = new Twins(shape, MAX_ROWS, 8)) {
            int hidden = t.hidden();
            for (Buf b : new Buf[] {X, OUT, XB}) {
                float[] x = t.inputs(17 * hidden, hidden, 3);
                t.write(b, x);
                t.cpu.allReduce(b, 17);
                t.gpu.allReduce(b, 17);
                assertArrayEquals(x, t.cpuRead(b, x.length), "cpu " + b);
                assertArrayEquals(x, t.gpuRead(b, x.length), "gpu " + b);
            }
            for (Backend be : new Backend[] {t.cpu, t.gpu}) {
                assertThrows(IllegalArgumentException.class, () -> be.allReduce(Q, 1));
            }
        }
    }

    // ---- attention --------------------------------------------------------------------------------------------------

    /** One step's rows: sequence index, first position, row count. */
    private record Part(int seq, int start, int n) {}

    /**
     * KV write + paged attention on every FULL layer (every GQA group of the shape), through a sequence of steps that
     * takes each kernel path: a mixed prefill (17 + 3 + 1 rows), a chunk continuing a sequence beside a decode row
     * (prefill kernel), a single-sequence chunk of 30, decode-only steps of 3 rows and 1 row (decode kernel), then the
     * same with split-KV on (32-token partitions, so 3 partitions for the 73-token context and 1 for the short ones).
     * Block tables are shuffled, blocks of 16 and 8 tokens.
     *
     * <p>Bound: Q, K, V are exact BF16 on both sides and P stays FP32 on the GPU, so the output is rounded once (U
     * relative). The FP32 difference: scores of at most d products with |q| <= 2, |k| <= 1 (|s| <= 2·sqrt(d) <= 8)
     * differ by (d + 3)·U32·8 <= 1e-5, which moves each softmax weight by a relative 2e-5 (both sides), plus the
     * exponentials (a few ulp) and the sums over <= 74 positions (74·U32 each side): < 6e-5 relative to the weights,
     * and |v| <= 1, so < 6e-5 absolute in the output. Bound: U·|cpu| + 2^-12 (2.4e-4, a 4x margin over that and a
     * sixteenth of a BF16 ulp at 1).
     */
    @ParameterizedTest
    @MethodSource("shapesAndBlockSizes")
    void attentionPrefillDecodeAndSplitKvDecode(Shape shape, int blockSize) {
        try (Twins t = new Twins(shape, MAX_ROWS, 9 + blockSize)) {
            int numBlocks = 16;
            KvPool cpuKv = t.cpu.newKvPool(numBlocks, blockSize);
            KvPool gpuKv = t.gpu.newKvPool(numBlocks, blockSize);
            int[] lengths = {74, 7, 3};
            int[][] tables = shuffledTables(t.random, numBlocks, blockSize, lengths);
            int[][] tokens = new int[3][];
            for (int s = 0; s < 3; s++) {
                tokens[s] = new int[lengths[s]];
            }
            StepBatch batch = new StepBatch(MAX_ROWS, 4);
            Part[][] steps = {
                    {new Part(0, 0, 17), new Part(1, 0, 3), new Part(2, 0, 1)},
                    {new Part(0, 17, 23), new Part(1, 3, 1)},
                    {new Part(0, 40, 30)},
                    {new Part(0, 70, 1), new Part(1, 4, 1), new Part(2, 1, 1)},
                    {new Part(0, 71, 1)},
                    {new Part(0, 72, 1), new Part(1, 5, 1), new Part(2, 2, 1)},   // split-KV from here on
                    {new Part(0, 73, 1)},
            };
            for (int i = 0; i < steps.length; i++) {
                if (i == 5) {
                    t.gpu.splitKv(32, 32);
                }
                batch.clear();
                StringBuilder what = new StringBuilder(i >= 5 ? "split-KV step " : "step ").append(i).append(" (");
                for (Part p : steps[i]) {
                    batch.addSequence(tokens[p.seq], p.start, p.n, tables[p.seq], blockSize);
                    what.append(" seq ").append(p.seq).append(" @").append(p.start).append("+").append(p.n);
                }
                what.append(" ), blocks of ").append(blockSize);
                attendBoth(t, cpuKv, gpuKv, batch, what.toString());
            }
        }
    }

    /** Every sequence's blocks, distinct and shuffled over the pool. */
    private static int[][] shuffledTables(SplittableRandom r, int numBlocks, int blockSize, int[] lengths) {
        int[] ids = new int[numBlocks];
        for (int i = 0; i < numBlocks; i++) {
            ids[i] = i;
        }
        for (int i = numBlocks - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int x = ids[i];
            ids[i] = ids[j];
            ids[j] = x;
        }
        int[][] tables = new int[lengths.length][];
        int next = 0;
        for (int s = 0; s < lengths.length; s++) {
            tables[s] = new int[(lengths[s] + blockSize - 1) / blockSize];
            for (int b = 0; b < tables[s].length; b++) {
                tables[s][b] = ids[next++];
            }
        }
        return tables;
    }

    /** One step on both backends: for each FULL layer, fresh Q/K/V rows, attention, ATT compared. */
    private static void attendBoth(Twins t, KvPool cpuKv, KvPool gpuKv, StepBatch batch, String what) {
        int rows = batch.rows;
        int qWidth = t.qWidth();
        t.cpu.beginStep(batch);
        t.gpu.beginStep(batch);
        try {
            for (int layer = 0; layer < t.config.numLayers(); layer++) {
                if (!(t.config.blocks().get(layer).attention() instanceof AttentionKind.Full f)) {
                    continue;
                }
                int kvWidth = f.kvHeads() * t.config.headDim();
                t.write(Q, t.uniform(rows * qWidth, 2));   // the bound below assumes |q| <= 2, |k| <= 1, |v| <= 1
                t.write(K, t.uniform(rows * kvWidth, 1));
                t.write(V, t.uniform(rows * kvWidth, 1));
                t.write(ATT, new float[rows * qWidth]);
                t.cpu.attention(layer, f.kvHeads(), cpuKv, batch);
                t.gpu.attention(layer, f.kvHeads(), gpuKv, batch);
                assertWithin("attention", what + ", layer " + layer + " (kv heads " + f.kvHeads() + ")",
                        t.cpuRead(ATT, rows * qWidth), t.gpuRead(ATT, rows * qWidth), qWidth,
                        (i, c) -> U * Math.abs(c) + 0x1p-12);
            }
        } finally {
            t.cpu.endStep();
            t.gpu.endStep();
        }
    }

    // ---- logits -----------------------------------------------------------------------------------------------------

    /**
     * logits = lm_head · rmsnorm(X[row]) · norm for the logit rows, in their order. The GPU's normed row carries HF's two
     * BF16 roundings ((2U + U²) relative per element) into an FP32 GEMM with FP32 output; both sides' FP32 (norm and
     * sum of n products) adds (n + 16)·U32 relative per product. Bound per logit: (2U + U² + 3(n + 16)·U32)·Σ_i
     * |w_i · xn_i|, with xn the normed row computed here in double.
     */
    private static void logitsBoth(Twins t, StepBatch batch, float[] x, String what) {
        int hidden = t.hidden();
        int vocab = t.config.vocabSize();
        int n = batch.numLogitRows;
        float[] lc = new float[n * vocab];
        float[] lg = new float[n * vocab];
        t.write(X, x);
        t.cpu.logits(batch, t.weights.norm(), t.weights.lmHead(), lc);
        t.gpu.logits(batch, t.weights.norm(), t.weights.lmHead(), lg);
        float[] w = t.host.get(t.weights.lmHead());
        float[] g = t.host.get(t.weights.norm());
        double eps = t.config.rmsNormEps();
        double rel = 2 * U + U * U + 3.0 * (hidden + 16) * U32;
        double[] sums = new double[n * vocab];
        for (int i = 0; i < n; i++) {
            int r = batch.logitRows[i];
            double ss = 0;
            for (int c = 0; c < hidden; c++) {
                ss += (double) x[r * hidden + c] * x[r * hidden + c];
            }
            double inv = 1 / Math.sqrt(ss / hidden + eps);
            for (int j = 0; j < vocab; j++) {
                double s = 0;
                for (int c = 0; c < hidden; c++) {
                    s += Math.abs((double) w[j * hidden + c] * x[r * hidden + c] * inv * g[c]);
                }
                sums[i * vocab + j] = s;
            }
        }
        assertWithin("logits", what, lc, lg, vocab, (i, c) -> rel * sums[i]);
    }

    /** 1, 3 and 17 rows; logit rows a subset, out of order, one asked twice. */
    @ParameterizedTest
    @EnumSource(Shape.class)
    void logitsOfTheLogitRowsInTheirOrder(Shape shape) {
        try (Twins t = new Twins(shape, MAX_ROWS, 20)) {
            int hidden = t.hidden();
            int[][] logitRows = {{0}, {2, 0}, {16, 3, 0, 9, 3}};
            StepBatch batch = new StepBatch(MAX_ROWS, 8);
            for (int k = 0; k < ROWS.length; k++) {
                int rows = ROWS[k];
                batch.clear();
                batch.addSequence(new int[rows], 0, rows, new int[] {0, 1}, 16);
                for (int r : logitRows[k]) {
                    batch.markLogits(r);
                }
                logitsBoth(t, batch, t.inputs(rows * hidden, hidden, 2), rows + " rows, logit rows "
                        + Arrays.toString(logitRows[k]));
            }
        }
    }

    /** More logit rows than one lm_head GEMM takes (CudaBackend.LOGIT_CHUNK), reversed: every chunk lands in place. */
    @Test
    void logitsAcrossGemmChunks() {
        int rows = CudaBackend.LOGIT_CHUNK + 21;
        try (Twins t = new Twins(Shape.ODD, rows, 21)) {
            StepBatch batch = new StepBatch(rows, rows);
            batch.addSequence(new int[rows], 0, rows, new int[(rows + 15) / 16], 16);
            for (int r = rows - 1; r >= 0; r--) {
                batch.markLogits(r);
            }
            logitsBoth(t, batch, t.inputs(rows * t.hidden(), t.hidden(), 2), rows + " logit rows");
        }
    }

    // ---- KV pool sizes ----------------------------------------------------------------------------------------------

    /** Σ over FULL layers of 2 · kvHeads · headDim · bytes per slot: BF16 on the GPU, FP32 on the CPU. */
    @ParameterizedTest
    @EnumSource(Shape.class)
    void kvPoolsHoldEveryFullLayerAtTheirDtype(Shape shape) {
        try (Twins t = new Twins(shape, MAX_ROWS, 22)) {
            long perSlot = 0;
            for (BlockConfig b : t.config.blocks()) {
                if (b.attention() instanceof AttentionKind.Full f) {
                    perSlot += 2L * f.kvHeads() * t.config.headDim();
                }
            }
            for (int blockSize : new int[] {1, 8, 16}) {
                assertEquals(perSlot * blockSize * 4, t.cpu.kvBytesPerBlock(blockSize), "cpu, blocks of " + blockSize);
                assertEquals(perSlot * blockSize * 2, t.gpu.kvBytesPerBlock(blockSize), "gpu, blocks of " + blockSize);
                for (Backend b : new Backend[] {t.cpu, t.gpu}) {
                    KvPool pool = b.newKvPool(5, blockSize);
                    assertEquals(5, pool.numBlocks());
                    assertEquals(blockSize, pool.blockSize());
                    assertEquals(5 * b.kvBytesPerBlock(blockSize), pool.bytes(), b.getClass().getSimpleName());
                }
            }
            for (Backend b : new Backend[] {t.cpu, t.gpu}) {
                assertThrows(IllegalArgumentException.class, () -> b.newKvPool(4, 12), "block size not a power of 2");
                assertThrows(IllegalArgumentException.class, () -> b.newKvPool(0, 16), "no blocks");
            }
            assertEquals(t.cpu.maxRows(), t.gpu.maxRows());
        }
    }

    // ---- beginStep / endStep ----------------------------------------------------------------------------------------

    /**
     * Inside a step the GPU reads ids and positions from the step's upload when the op is given the batch's own arrays,
     * and from a loose upload otherwise; outside a step (after endStep) the same StepBatch object, refilled, must be
     * read afresh: embed, rope, attention and logits all against the CPU.
     */
    @ParameterizedTest
    @EnumSource(Shape.class)
    void opsInsideAndOutsideAStepReadTheRightInputs(Shape shape) {
        try (Twins t = new Twins(shape, MAX_ROWS, 23)) {
            int hidden = t.hidden();
            int vocab = t.config.vocabSize();
            KvPool cpuKv = t.cpu.newKvPool(8, 16);
            KvPool gpuKv = t.gpu.newKvPool(8, 16);
            int[] tokens = new int[40];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = t.random.nextInt(vocab);
            }
            int[] table = {6, 1, 4};
            StepBatch batch = new StepBatch(MAX_ROWS, 4);
            batch.addSequence(tokens, 0, 17, table, 16);
            batch.markLogits(16);
            t.cpu.beginStep(batch);
            t.gpu.beginStep(batch);
            try {
                stepOps(t, batch, cpuKv, gpuKv, "in the step");
                int[] loose = {tokens[5], tokens[0], tokens[39]};
                t.cpu.embed(loose, 3);
                t.gpu.embed(loose, 3);
                assertRoundedExactly("embed", "loose ids in a step", t.cpuRead(X, 3 * hidden), t.gpuRead(X, 3 * hidden),
                        hidden);
            } finally {
                t.cpu.endStep();
                t.gpu.endStep();
            }
            // the same batch object, refilled for the next positions, used without beginStep
            batch.clear();
            batch.addSequence(tokens, 17, 20, table, 16);
            batch.markLogits(19);
            batch.markLogits(4);
            stepOps(t, batch, cpuKv, gpuKv, "outside a step, batch refilled");
        }
    }

    private static void stepOps(Twins t, StepBatch batch, KvPool cpuKv, KvPool gpuKv, String what) {
        int rows = batch.rows;
        int hidden = t.hidden();
        int heads = t.config.numAttentionHeads();
        int qWidth = t.qWidth();
        t.cpu.embed(batch.tokenIds, rows);
        t.gpu.embed(batch.tokenIds, rows);
        float[] x = t.cpuRead(X, rows * hidden);
        assertRoundedExactly("embed", what, x, t.gpuRead(X, rows * hidden), hidden);
        float[] q = t.inputs(rows * qWidth, qWidth, 2);
        t.write(Q, q);
        t.cpu.rope(Q, heads, batch.positions, rows);
        t.gpu.rope(Q, heads, batch.positions, rows);
        int headDim = t.config.headDim();
        int half = headDim / 2;
        assertWithin("rope", what, t.cpuRead(Q, rows * qWidth), t.gpuRead(Q, rows * qWidth), qWidth, (i, c) -> {
            int pair = i % headDim < half ? i + half : i - half;
            return U * Math.abs(c) + 0x1p-22 * (Math.abs(q[i]) + Math.abs(q[pair]));
        });
        int layer = 0;
        AttentionKind.Full f = (AttentionKind.Full) t.config.blocks().get(layer).attention();
        int kvWidth = f.kvHeads() * headDim;
        t.write(Q, t.uniform(rows * qWidth, 2));
        t.write(K, t.uniform(rows * kvWidth, 1));
        t.write(V, t.uniform(rows * kvWidth, 1));
        t.cpu.attention(layer, f.kvHeads(), cpuKv, batch);
        t.gpu.attention(layer, f.kvHeads(), gpuKv, batch);
        assertWithin("attention", what, t.cpuRead(ATT, rows * qWidth), t.gpuRead(ATT, rows * qWidth), qWidth,
                (i, c) -> U * Math.abs(c) + 0x1p-12);
        logitsBoth(t, batch, x, what);
    }
}
