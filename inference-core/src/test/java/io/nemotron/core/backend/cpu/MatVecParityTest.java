package io.nemotron.core.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each dtype's scalar twin against a double-precision sum written here, each Vector kernel against its twin,
 * and {@link Linear} (threaded, dispatching) against the Vector kernel, for sizes that are not multiples of
 * any vector length and for token counts that exercise the single-token and multi-token paths.
 */
class MatVecParityTest {

    private static final int[] COLS = {1, 7, 33, 173, 1000};
    private static final int[] TOKENS = {1, 2, 5, 13};   // 13: the 8- and 4-token blocks and one left over
    private static final double EPS = 0x1p-24;   // float unit roundoff

    private static CpuThreadPool pool;

    @BeforeAll
    static void startPool() {
        pool = new CpuThreadPool(2);
    }

    @AfterAll
    static void stopPool() {
        pool.close();
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (DType dtype : DType.values()) {
            if (dtype == DType.F8_E4M3) {
                continue;   // quantizes its input and scales its output: MatMulF8Test checks it against its own spec
            }
            for (int cols : COLS) {
                for (int tokens : TOKENS) {
                    cases.add(Arguments.of(dtype, 67, cols, tokens));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} rows={1} cols={2} tokens={3}")
    @MethodSource("cases")
    void scalarTwinMatchesDoubleAndVectorMatchesTwin(DType dtype, int rows, int cols, int tokens) {
        TestTensors.Weights weights = TestTensors.random(dtype, rows, cols, 31L * cols + tokens);
        float[] in = TestTensors.gaussian(tokens * cols, 7L * cols + tokens);
        double[] exact = new double[tokens * rows];
        double[] bound = new double[tokens * rows];
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double sum = 0;
                double abs = 0;
                for (int c = 0; c < cols; c++) {
                    double p = weights.values()[r * cols + c] * in[t * cols + c];
                    sum += p;
                    abs += Math.abs(p);
                }
                exact[t * rows + r] = sum;
                // any float summation order of n products is within ~(n+1)*eps*sum|p| of the exact sum
                bound[t * rows + r] = (cols + 1) * EPS * abs + 1e-30;
            }
        }

        float[] scalar = new float[tokens * rows];
        scalar(weights.tensor(), in, scalar, tokens);
        for (int i = 0; i < scalar.length; i++) {
            assertEquals(exact[i], scalar[i], bound[i], "scalar twin vs double at " + i);
        }

        float[] vector = new float[tokens * rows];
        vector(weights.tensor(), in, vector, tokens);
        for (int i = 0; i < vector.length; i++) {
            assertEquals(scalar[i], vector[i], 2 * bound[i], "vector vs scalar twin at " + i);
        }

        float[] linear = new float[tokens * rows];
        Linear.forward(pool, weights.tensor(), in, linear, tokens);
        assertArrayEquals(vector, linear, "Linear (split over threads) must equal the vector kernel bit for bit");
    }

    @Test
    void linearParallelPathCoversEveryRowAndToken() {
        // 301 x 1000 x 5 is far above the inline threshold, so rows are split across both threads.
        int rows = 301, cols = 1000, tokens = 5;
        assertTrue((long) rows * cols * tokens >= Linear.PARALLEL_MIN_MACS);
        TestTensors.Weights weights = TestTensors.random(DType.BF16, rows, cols, 99);
        float[] in = TestTensors.gaussian(tokens * cols, 98);
        float[] out = new float[tokens * rows];
        Arrays.fill(out, Float.NaN);
        Linear.forward(pool, weights.tensor(), in, out, tokens);
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double sum = 0, abs = 0;
                for (int c = 0; c < cols; c++) {
                    double p = weights.values()[r * cols + c] * in[t * cols + c];
                    sum += p;
                    abs += Math.abs(p);
                }
                assertEquals(sum, out[t * rows + r], 2 * (cols + 1) * EPS * abs, "row " + r + " token " + t);
            }
        }
    }

    @Test
    void linearResultDoesNotDependOnTheThreadCount() {
        for (DType dtype : DType.values()) {
            TestTensors.Weights weights = TestTensors.random(dtype, 67, 1000, 5);
            float[] in = TestTensors.gaussian(5 * 1000, 6);
            float[] expected = null;
            for (int threads = 1; threads <= 3; threads++) {
                float[] out = new float[5 * 67];
                try (CpuThreadPool p = new CpuThreadPool(threads)) {
                    Linear.forward(p, weights.tensor(), in, out, 5);
                }
                if (expected == null) {
                    expected = out;
                } else {
                    assertArrayEquals(expected, out, dtype + " with " + threads + " threads");
                }
            }
        }
    }

    @Test
    void f16WidenMatchesFloat16ToFloatForEveryBitPattern() {
        VectorSpecies<Integer> species = VectorSpecies.of(int.class, FloatVector.SPECIES_PREFERRED.vectorShape());
        int lanes = species.length();
        int[] bits = new int[lanes];
        float[] got = new float[lanes];
        for (int start = 0; start < 1 << 16; start += lanes) {
            for (int k = 0; k < lanes; k++) {
                bits[k] = (start + k) & 0xFFFF;
            }
            MatVecF16.widen(IntVector.fromArray(species, bits, 0)).intoArray(got, 0);
            for (int k = 0; k < lanes; k++) {
                String what = "half bits 0x" + Integer.toHexString(bits[k]);
                float expected = Float.float16ToFloat((short) bits[k]);
                if (Float.isNaN(expected)) {   // the quiet bit of a NaN is not specified; NaN-ness is
                    assertTrue(Float.isNaN(got[k]), what);
                    continue;
                }
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got[k]), what);
                if (!Float.isInfinite(expected)) {   // the independent decoder covers finite values
                    assertEquals(TestTensors.halfToDouble(bits[k]), got[k], 0.0, what);
                }
            }
        }
    }

    @Test
    void rejectsMismatchedShapes() {
        TestTensors.Weights weights = TestTensors.random(DType.F32, 4, 8, 1);
        assertThrows(IllegalArgumentException.class,
                () -> Linear.forward(pool, weights.tensor(), new float[8], new float[4], 2));
    }

    private static void scalar(Tensor w, float[] in, float[] out, int tokens) {
        MemorySegment s = w.data();
        switch (w.dtype()) {
            case F32 -> MatVecF32.rowsScalar(s, w.rows(), w.cols(), in, out, tokens, 0, w.rows());
            case BF16 -> MatMulBF16.rowsScalar(s, w.rows(), w.cols(), in, out, tokens, 0, w.rows());
            case F16 -> MatVecF16.rowsScalar(s, w.rows(), w.cols(), in, out, tokens, 0, w.rows());
        }
    }

    private static void vector(Tensor w, float[] in, float[] out, int tokens) {
        MemorySegment s = w.data();
        int cols = w.cols();
        float[] even = new float[tokens * EvenOdd.pairs(cols)];
        float[] odd = new float[tokens * EvenOdd.pairs(cols)];
        EvenOdd.split(in, cols, tokens, even, odd);
        switch (w.dtype()) {
            case F32 -> MatVecF32.rowsVector(s, w.rows(), cols, in, out, tokens, 0, w.rows());
            case BF16 -> {
                PackedBF16 packed = PackedBF16.of(w);
                MatMulBF16.rowBlocks(packed, in, out, tokens, 0, packed.blocks);
            }
            case F16 -> MatVecF16.rowsVector(s, w.rows(), cols, in, even, odd, out, tokens, 0, w.rows());
        }
    }
}
