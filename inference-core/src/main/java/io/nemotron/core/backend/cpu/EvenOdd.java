package io.nemotron.core.backend.cpu;

/**
 * Splits activations into even and odd columns once per Linear call, so that the F16 kernel can load weight
 * pairs as ints and widen each half in place ({@link MatVecF16}) without shuffles.
 */
public final class EvenOdd {

    private EvenOdd() {}

    /** Pairs per activation row; an odd last column is read from the interleaved input directly. */
    public static int pairs(int cols) {
        return cols / 2;
    }

    /** in: [tokens][cols] -> even, odd: [tokens][cols/2] with even[t][j] = in[t][2j], odd[t][j] = in[t][2j+1]. */
    public static void split(float[] in, int cols, int tokens, float[] even, float[] odd) {
        int pairs = pairs(cols);
        for (int t = 0; t < tokens; t++) {
            int src = t * cols;
            int dst = t * pairs;
            for (int j = 0; j < pairs; j++) {
                even[dst + j] = in[src + 2 * j];
                odd[dst + j] = in[src + 2 * j + 1];
            }
        }
    }
}
