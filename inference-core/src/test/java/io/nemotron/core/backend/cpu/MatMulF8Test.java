package io.nemotron.core.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.LinearScales;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CPU FP8 linear (ModelOpt numerics: {@code x8 = saturate_e4m3(x / input_scale)}, {@code y = (x8 · W8ᵀ) ·
 * (input_scale · weight_scale)} accumulated in FP32) against oracles written here: E4M3 decoded by its definition
 * ({@link TestTensors#e4m3ToDouble}), saturate_e4m3 as a brute-force nearest search over the 127 finite magnitudes,
 * dot products in double. The vector kernel is held to its scalar twin bit for bit (the rule in {@link MatMulF8}'s
 * class comment), over shapes that are multiples of no vector length, split over row-block ranges as threads run them.
 */
class MatMulF8Test {

    private static final double EPS = 0x1p-24;   // float unit roundoff
    /** Every finite non-negative E4M3 value, by code (0x00 .. 0x7E). */
    private static final double[] MAGNITUDES = new double[0x7F];

    static {
        for (int code = 0; code < 0x7F; code++) {
            MAGNITUDES[code] = TestTensors.e4m3ToDouble(code);
        }
    }

    private static CpuThreadPool pool;

    @BeforeAll
    static void startPool() {
        pool = new CpuThreadPool(2);
    }

    @AfterAll
    static void stopPool() {
        pool.close();
    }

    /** saturate_e4m3 by search: clamp to 448, the nearest finite value, a tie to the even code; NaN stays NaN. */
    static double saturateE4m3(float v) {
        if (Float.isNaN(v)) {
            return Double.NaN;
        }
        double a = Math.min(Math.abs((double) v), 448.0);
        int best = 0;
        for (int code = 1; code < MAGNITUDES.length; code++) {
            double d = Math.abs(MAGNITUDES[code] - a);
            double bestD = Math.abs(MAGNITUDES[best] - a);
            if (d < bestD || (d == bestD && (code & 1) == 0)) {
                best = code;
            }
        }
        double m = MAGNITUDES[best];
        // the sign of v, zeros included: -0.0 stays -0.0 (encode keeps the sign bit)
        return (Float.floatToRawIntBits(v) < 0) ? -m : m;
    }

    // ---- the activation quantizer -------------------------------------------------------------------------------

    @Test
    void quantizerEqualsSaturateE4m3ForEveryKindOfFloat() {
        List<Float> values = new ArrayList<>();
        for (int code = 0; code < 0x7F; code++) {
            float v = (float) MAGNITUDES[code];
            values.add(v);
            values.add(Math.nextUp(v));
            values.add(Math.nextDown(v));
            if (code + 1 < 0x7F) {   // exactly halfway (5 significant bits, exact in float) and either side of it
                float mid = (float) ((MAGNITUDES[code] + MAGNITUDES[code + 1]) / 2);
                values.add(mid);
                values.add(Math.nextUp(mid));
                values.add(Math.nextDown(mid));
            }
        }
        for (float v : new float[] {464f, Math.nextUp(464f), 480f, 1e6f, Float.MAX_VALUE, Float.POSITIVE_INFINITY,
                Float.MIN_VALUE, Float.MIN_NORMAL, 0x1p-10f, 0x1p-11f, Float.NaN, Float.intBitsToFloat(0x7FFFFFFF),
                Float.intBitsToFloat(0x7F800001)}) {
            values.add(v);
        }
        SplittableRandom random = new SplittableRandom(17);
        for (int i = 0; i < 200_000; i++) {
            values.add(Float.intBitsToFloat(random.nextInt()));                   // any bit pattern at all
            values.add((float) (random.nextGaussian() * Math.scalb(1.0, random.nextInt(-14, 12))));
        }
        int n = values.size();
        float[] in = new float[2 * n];
        for (int i = 0; i < n; i++) {
            in[2 * i] = values.get(i);
            in[2 * i + 1] = -values.get(i);
        }
        float[] out = new float[in.length];
        MatVecF8Input.quantize(in, in.length - 3, 1f, out);   // the last three through the scalar tail
        float[] one = new float[1];
        for (int i = 0; i < in.length; i++) {
            double expected = saturateE4m3(in[i]);
            String what = "x = " + in[i] + " (bits 0x" + Integer.toHexString(Float.floatToRawIntBits(in[i])) + ")";
            float got = i < in.length - 3 ? out[i] : quantizeOne(in[i], 1f, one);
            assertSame(expected, got, what);
            if (i % 97 == 0) {   // the scalar form on its own too
                assertSame(expected, quantizeOne(in[i], 1f, one), what + " alone");
            }
        }
    }

    @Test
    void quantizerDividesByTheInputScaleInFloat() {
        SplittableRandom random = new SplittableRandom(3);
        float[] scales = {0.05f, 0.0123f, 3.7f, 1e-3f};   // 1e-3: most of N(0,1) saturates at 448
        for (float scale : scales) {
            float[] in = new float[1001];
            for (int i = 0; i < in.length; i++) {
                in[i] = (float) random.nextGaussian();
            }
            float[] out = new float[in.length];
            MatVecF8Input.quantize(in, in.length, scale, out);
            for (int i = 0; i < in.length; i++) {
                assertSame(saturateE4m3(in[i] / scale), out[i], "x = " + in[i] + ", input_scale " + scale);
            }
        }
    }

    private static float quantizeOne(float v, float scale, float[] scratch) {
        MatVecF8Input.quantize(new float[] {v}, 1, scale, scratch);
        return scratch[0];
    }

    private static void assertSame(double expected, float got, String what) {
        if (Double.isNaN(expected)) {
            assertTrue(Float.isNaN(got), what + ": NaN expected, got " + got);
        } else {
            assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(got), () -> what
                    + ": expected " + expected + ", got " + got);
        }
    }

    // ---- the kernel and its twin --------------------------------------------------------------------------------

    /** With 16-lane vectors: 1 to 9 row blocks, so groups of four blocks, pairs of blocks and single ones all run. */
    private static final int[] ROWS = {1, 2, 3, 5, 34, 70, 130};
    private static final int[] COLS = {1, 7, 15, 16, 17, 31, 32, 33, 47, 64, 173, 1000, 1037};

    @Test
    void vectorKernelEqualsScalarTwinBitForBit() {
        for (int rows : ROWS) {
            for (int cols : COLS) {
                for (int tokens = 1; tokens <= 17; tokens++) {
                    long seed = rows * 1_000_003L + cols * 101L + tokens;
                    TestTensors.Weights w = TestTensors.random(DType.F8_E4M3, rows, cols, seed);
                    float[] x8 = randomE4m3Values(tokens * cols, new SplittableRandom(seed + 1));
                    checkTwin(w.tensor().data(), rows, cols, x8, tokens, 0.37f, rows + "x" + cols + " t=" + tokens);
                }
            }
        }
    }

    /** Largest sums (448 · 448 · cols) and the smallest (subnormal weights and activations, sums subnormal once scaled). */
    @Test
    void twinIdentityHoldsAtBothEndsOfTheRange() {
        int rows = 6, cols = 1037, tokens = 3;
        SplittableRandom random = new SplittableRandom(5);
        MemorySegment big = Arena.ofAuto().allocate((long) rows * cols);
        MemorySegment tiny = Arena.ofAuto().allocate((long) rows * cols);
        for (long i = 0; i < (long) rows * cols; i++) {
            big.set(ValueLayout.JAVA_BYTE, i, (byte) (random.nextBoolean() ? 0x7E : 0xFE));          // ±448
            tiny.set(ValueLayout.JAVA_BYTE, i, (byte) (random.nextInt(8) | (random.nextBoolean() ? 0x80 : 0)));
        }
        float[] x448 = new float[tokens * cols];
        float[] xTiny = new float[tokens * cols];
        for (int i = 0; i < x448.length; i++) {
            x448[i] = random.nextBoolean() ? 448f : -448f;
            xTiny[i] = (float) TestTensors.e4m3ToDouble(random.nextInt(8) | (random.nextBoolean() ? 0x80 : 0));
        }
        float[] allSame = new float[tokens * cols];
        Arrays.fill(allSame, 448f);
        checkTwin(big, rows, cols, x448, tokens, 1f, "±448 weights and activations");
        checkTwin(big, rows, cols, allSame, tokens, 1f, "448 · 448 · cols, no cancellation");
        checkTwin(tiny, rows, cols, xTiny, tokens, 1f, "subnormal weights and activations");
        checkTwin(tiny, rows, cols, x448, tokens, 3e-3f, "subnormal weights, ±448 activations");
    }

    private static void checkTwin(MemorySegment w, int rows, int cols, float[] x8, int tokens, float outScale,
                                  String what) {
        float[] scalar = new float[tokens * rows];
        MatMulF8.rowsScalar(w, rows, cols, x8, scalar, tokens, 0, rows, outScale);
        float[] vector = vector(w, rows, cols, x8, tokens, outScale);
        for (int i = 0; i < scalar.length; i++) {
            int at = i;
            assertEquals(Float.floatToRawIntBits(scalar[i]), Float.floatToRawIntBits(vector[i]),
                    () -> what + ": token " + at / rows + " row " + at % rows + ": twin " + scalar[at] + ", vector "
                            + vector[at]);
        }
    }

    /** The packed kernel over row-major codes: packed here, x8 zero-padded to the quad, run as two block ranges. */
    private static float[] vector(MemorySegment w, int rows, int cols, float[] x8, int tokens, float outScale) {
        PackedF8 packed = PackedF8.of(new Tensor("test", DType.F8_E4M3, new long[] {rows, cols}, w,
                new LinearScales(1f, 1f)));
        int stride = packed.paddedCols();
        float[] padded = new float[tokens * stride];
        for (int t = 0; t < tokens; t++) {
            System.arraycopy(x8, t * cols, padded, t * stride, cols);
        }
        float[] vector = new float[tokens * rows];
        int split = packed.blocks / 2 + 1;   // two ranges, as two threads would run them (an odd first range)
        MatMulF8.rowBlocks(packed, padded, vector, tokens, 0, Math.min(split, packed.blocks), outScale);
        MatMulF8.rowBlocks(packed, padded, vector, tokens, Math.min(split, packed.blocks), packed.blocks, outScale);
        return vector;
    }

    @Test
    void scalarTwinAgreesWithDoubleWithinFloatAccumulationError() {
        for (int cols : new int[] {1, 33, 1000}) {
            int rows = 9, tokens = 4;
            TestTensors.Weights w = TestTensors.random(DType.F8_E4M3, rows, cols, cols);
            float[] x8 = randomE4m3Values(tokens * cols, new SplittableRandom(cols + 1));
            float outScale = 0.37f;
            float[] out = new float[tokens * rows];
            MatMulF8.rowsScalar(w.tensor().data(), rows, cols, x8, out, tokens, 0, rows, outScale);
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < rows; r++) {
                    double sum = 0, abs = 0;
                    for (int c = 0; c < cols; c++) {
                        double p = w.values()[r * cols + c] * x8[t * cols + c];
                        sum += p;
                        abs += Math.abs(p);
                    }
                    // products are exact (4 + 4 significant bits); any order of n float additions is within
                    // (n + 1) eps sum|p| of the exact sum; the multiply by outScale adds one rounding
                    double bound = ((cols + 1) * EPS * abs + EPS * Math.abs(sum)) * outScale + Float.MIN_VALUE;
                    assertEquals(sum * outScale, out[t * rows + r], bound, "row " + r + " token " + t);
                }
            }
        }
    }

    /** Documented, not wanted: the bit trick reads the NaN codes as ±480 (a checkpoint has no NaN weights). */
    @Test
    void nanCodesReadAs480InTheVectorKernel() {
        int cols = 53;   // codes in whole quads and in the zero-padded last one
        MemorySegment w = Arena.ofAuto().allocate(2L * cols);
        for (int c = 0; c < cols; c++) {
            w.set(ValueLayout.JAVA_BYTE, c, c == 2 || c == cols - 1 ? (byte) 0x7F : 0);
            w.set(ValueLayout.JAVA_BYTE, cols + c, c == 5 || c == cols - 2 ? (byte) 0xFF : 0);
        }
        float[] x8 = new float[cols];
        Arrays.fill(x8, 1f);
        assertArrayEquals(new float[] {960f, -960f}, vector(w, 2, cols, x8, 1, 1f));
    }

    private static float[] randomE4m3Values(int n, SplittableRandom random) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) TestTensors.e4m3ToDouble(TestTensors.randomE4m3Code(random));
        }
        return x;
    }

    // ---- Linear: the spec end to end ----------------------------------------------------------------------------

    @Test
    void linearMatchesTheModelOptNumericsComputedInDouble() {
        int[][] shapes = {{1, 1}, {3, 17}, {67, 173}, {34, 1037}, {301, 1000}};   // 301x1000: split over threads
        float[] inputScales = {TestTensors.F8_INPUT_SCALE, 0.004f};   // 0.004: |x| > 1.8 saturates at 448
        for (int[] shape : shapes) {
            int rows = shape[0], cols = shape[1];
            for (float inputScale : inputScales) {
                for (int tokens : new int[] {1, 2, 5, 16, 17}) {
                    TestTensors.Weights w = TestTensors.random(DType.F8_E4M3, rows, cols, rows * 7L + cols + tokens);
                    Tensor weight = w.tensor().withScales(new LinearScales(inputScale, TestTensors.F8_WEIGHT_SCALE));
                    float[] in = TestTensors.gaussian(tokens * cols, tokens * 3L + cols);
                    float[] out = new float[tokens * rows];
                    Linear.forward(pool, weight, in, out, tokens);
                    double scale = (double) inputScale * TestTensors.F8_WEIGHT_SCALE;
                    for (int t = 0; t < tokens; t++) {
                        double[] x8 = new double[cols];
                        for (int c = 0; c < cols; c++) {
                            x8[c] = saturateE4m3(in[t * cols + c] / inputScale);   // the division in float, as vLLM
                        }
                        for (int r = 0; r < rows; r++) {
                            double sum = 0, abs = 0;
                            for (int c = 0; c < cols; c++) {
                                double p = w.values()[r * cols + c] * x8[c];
                                sum += p;
                                abs += Math.abs(p);
                            }
                            // FP32 accumulation of exact products: (cols + 1) eps sum|p|; then the scales: their
                            // float product and the final multiply, one rounding each
                            double bound = ((cols + 1) * EPS * abs + 2 * EPS * Math.abs(sum)) * scale + Float.MIN_VALUE;
                            int at = t * rows + r;
                            assertEquals(sum * scale, out[at], bound,
                                    () -> rows + "x" + cols + " tokens " + tokens + " input_scale " + inputScale
                                            + ": row " + at % rows + " token " + at / rows);
                        }
                    }
                }
            }
        }
    }

    @Test
    void linearWithoutScalesNamesTheTensor() {
        TestTensors.Weights w = TestTensors.random(DType.F8_E4M3, 4, 8, 1);
        Tensor bare = new Tensor("model.layers.3.mlp.down_proj.weight", DType.F8_E4M3, new long[] {4, 8},
                w.tensor().data());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Linear.forward(pool, bare, new float[8], new float[4], 1));
        assertTrue(e.getMessage().contains("model.layers.3.mlp.down_proj.weight"), e.getMessage());
    }

    /** A tensor-parallel row slice (a view of some rows, scales kept) gives exactly those rows of the full output. */
    @Test
    void rowSliceGivesTheSameRowsBitForBit() {
        int rows = 40, cols = 300, tokens = 3, from = 10, to = 30;
        TestTensors.Weights w = TestTensors.random(DType.F8_E4M3, rows, cols, 8);
        float[] in = TestTensors.gaussian(tokens * cols, 9);
        float[] full = new float[tokens * rows];
        Linear.forward(pool, w.tensor(), in, full, tokens);
        Tensor slice = new Tensor("test[rows 10:30]", DType.F8_E4M3, new long[] {to - from, cols},
                w.tensor().data().asSlice((long) from * cols, (long) (to - from) * cols), w.tensor().scales());
        float[] part = new float[tokens * (to - from)];
        Linear.forward(pool, slice, in, part, tokens);
        for (int t = 0; t < tokens; t++) {
            for (int r = from; r < to; r++) {
                assertEquals(Float.floatToRawIntBits(full[t * rows + r]),
                        Float.floatToRawIntBits(part[t * (to - from) + r - from]), "row " + r + " token " + t);
            }
        }
    }
}
