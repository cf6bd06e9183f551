package io.nemotron.core.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nemotron.core.weights.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A token's output row does not depend on how many other tokens share the call (the engine batches many sequences
 * per step; greedy output must not change with the batch). Oracle: the same token run alone, bit for bit.
 */
class BatchInvarianceTest {
    private static final CpuThreadPool POOL = new CpuThreadPool(2);

    @AfterAll
    static void close() {
        POOL.close();
    }

    @Test
    void everyTokenOfABatchEqualsItselfRunAlone() {
        for (DType dtype : DType.values()) {
            for (int[] shape : new int[][] {{7, 33}, {16, 64}, {37, 173}, {64, 1000}, {130, 512}}) {
                int rows = shape[0], cols = shape[1];
                TestTensors.Weights w = TestTensors.random(dtype, rows, cols, rows * 31L + cols);
                for (int tokens : new int[] {2, 3, 5, 8, 13, 16}) {
                    float[] in = TestTensors.gaussian(tokens * cols, tokens * 7L + cols);
                    float[] batched = new float[tokens * rows];
                    Linear.forward(POOL, w.tensor(), in, batched, tokens);
                    for (int t = 0; t < tokens; t++) {
                        float[] one = new float[cols];
                        System.arraycopy(in, t * cols, one, 0, cols);
                        float[] alone = new float[rows];
                        Linear.forward(POOL, w.tensor(), one, alone, 1);
                        for (int r = 0; r < rows; r++) {
                            assertEquals(Float.floatToRawIntBits(alone[r]), Float.floatToRawIntBits(batched[t * rows + r]),
                                    () -> dtype + " " + rows + "x" + cols + " tokens=" + tokens);
                        }
                    }
                }
            }
        }
    }
}
