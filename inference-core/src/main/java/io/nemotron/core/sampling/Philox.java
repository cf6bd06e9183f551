package io.nemotron.core.sampling;

/**
 * Philox4x32-10 (Salmon et al., SC'11), the Java twin of {@code cuda-kernels/src/main/cuda/philox.cuh}: a counter-based
 * generator, so the uniform of (seed, step, token) is a pure function of those three values. The host {@link Sampler}
 * and the device sampling kernel draw from the same numbers, which is what makes the same per-request seed give the
 * same tokens on the CPU and on the GPU. Bit-identity rule: every operation is 32-bit unsigned arithmetic and one
 * exact conversion to double, so both sides agree bit for bit (checked against the Random123 known-answer vectors).
 */
public final class Philox {
    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;   // golden ratio
    private static final int W1 = 0xBB67AE85;   // sqrt(3) - 1

    private Philox() {}

    /** Ten rounds over the counter {@code c0..c3} with the key {@code (k0, k1)}; returns the four output words. */
    public static int[] philox4x32x10(int c0, int c1, int c2, int c3, int k0, int k1) {
        int[] out = new int[4];
        rounds(c0, c1, c2, c3, k0, k1, out);
        return out;
    }

    private static void rounds(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int round = 0; round < 10; round++) {
            long p0 = (M0 & 0xffffffffL) * (c0 & 0xffffffffL);
            long p1 = (M1 & 0xffffffffL) * (c2 & 0xffffffffL);
            int hi0 = (int) (p0 >>> 32);
            int lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32);
            int lo1 = (int) p1;
            int n0 = hi1 ^ c1 ^ k0;
            int n2 = hi0 ^ c3 ^ k1;
            c0 = n0;
            c1 = lo1;
            c2 = n2;
            c3 = lo0;
            k0 += W0;
            k1 += W1;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    /**
     * The uniform of token {@code index} at sampling step {@code step} of the request seeded {@code seed}: key = seed,
     * counter = (index, 0, step low, step high); 52 random bits as (n + 0.5) / 2^52, exact in a double and never 0 or
     * 1, so {@code -log(-log(u))} is finite.
     */
    public static double tokenUniform(long seed, long step, int index) {
        long p0;
        long p1;
        int c0 = index;
        int c1 = 0;
        int c2 = (int) step;
        int c3 = (int) (step >>> 32);
        int k0 = (int) seed;
        int k1 = (int) (seed >>> 32);
        // the rounds inlined (no array): this runs once per candidate token on the host's sampling path
        for (int round = 0; round < 10; round++) {
            p0 = (M0 & 0xffffffffL) * (c0 & 0xffffffffL);
            p1 = (M1 & 0xffffffffL) * (c2 & 0xffffffffL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            c1 = (int) p1;
            c3 = (int) p0;
            c0 = n0;
            c2 = n2;
            k0 += W0;
            k1 += W1;
        }
        long bits = (((c0 & 0xffffffffL) << 20) ^ ((c1 & 0xffffffffL) >>> 12)) & ((1L << 52) - 1);
        return (bits + 0.5) * 0x1.0p-52;
    }

    /** The Gumbel noise the exponential race adds to a token's logit: -ln(-ln(u)), rounded to float as the kernel does. */
    public static float gumbel(long seed, long step, int index) {
        double u = tokenUniform(seed, step, index);
        return (float) -Math.log(-Math.log(u));
    }
}
