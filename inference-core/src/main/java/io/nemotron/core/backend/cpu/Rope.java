package io.nemotron.core.backend.cpu;

import io.nemotron.core.config.RopeScaling;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * NeoX/HF rotate-half RoPE: for each head, element i pairs with i + headDim/2.
 *
 * <p>Tables: a full cos/sin table for Llama-3.1 (131072 positions x 128) would be 64 MiB, mostly for positions
 * never reached, so it is built lazily in pages of {@value #PAGE} positions on first use (a one-time cost of
 * ~{@value #PAGE} x headDim transcendental calls per page); a steady-state call allocates and computes nothing
 * but the rotation. Pages are published through an {@link AtomicReferenceArray}, so concurrent callers are safe
 * (at worst two build the same page).
 *
 * <p>Angles follow HF: {@code pos * inv_freq} is a float32 product, cos/sin of that float angle rounded to
 * float, so long-context positions carry the same rounding as the reference model.
 */
public final class Rope {

    static final int PAGE = 256;

    private final int headDim;
    private final int half;
    private final int maxPositions;
    private final float[] invFreq;                       // [headDim/2]
    private final AtomicReferenceArray<float[]> pages;   // page p: [PAGE][cos (half) | sin (half)]

    public Rope(int headDim, double theta, RopeScaling scaling /* nullable */, int maxPositions) {
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("RoPE head dim must be positive and even, got " + headDim);
        }
        if (maxPositions <= 0) {
            throw new IllegalArgumentException("maxPositions must be positive, got " + maxPositions);
        }
        this.headDim = headDim;
        this.half = headDim / 2;
        this.maxPositions = maxPositions;
        this.invFreq = RopeFrequencies.inverse(headDim, theta, scaling);
        this.pages = new AtomicReferenceArray<>((maxPositions + PAGE - 1) / PAGE);
    }

    public int headDim() {
        return headDim;
    }

    /** A copy of the (scaled) inverse frequencies, [headDim/2]. */
    public float[] inverseFrequencies() {
        return invFreq.clone();
    }

    /** Rotates nHeads consecutive heads of size headDim starting at x[off], in place, for position pos. */
    public void apply(float[] x, int off, int nHeads, int pos) {
        if (pos < 0 || pos >= maxPositions) {
            throw new IndexOutOfBoundsException("RoPE position " + pos + " outside [0, " + maxPositions + ")");
        }
        float[] page = page(pos / PAGE);
        int cosOff = (pos % PAGE) * headDim;
        int sinOff = cosOff + half;
        for (int h = 0; h < nHeads; h++) {
            int base = off + h * headDim;
            for (int i = 0; i < half; i++) {
                float c = page[cosOff + i];
                float s = page[sinOff + i];
                float x0 = x[base + i];
                float x1 = x[base + half + i];
                // HF: x * cos + rotate_half(x) * sin, rotate_half(x) = [-x1, x0]
                x[base + i] = x0 * c - x1 * s;
                x[base + half + i] = x1 * c + x0 * s;
            }
        }
    }

    private float[] page(int p) {
        float[] page = pages.get(p);
        if (page == null) {
            page = buildPage(p);
            if (!pages.compareAndSet(p, null, page)) {
                page = pages.get(p);
            }
        }
        return page;
    }

    private float[] buildPage(int p) {
        float[] page = new float[PAGE * headDim];
        for (int k = 0; k < PAGE; k++) {
            float pos = (float) (p * PAGE + k);
            for (int i = 0; i < half; i++) {
                float angle = invFreq[i] * pos;
                page[k * headDim + i] = (float) Math.cos(angle);
                page[k * headDim + half + i] = (float) Math.sin(angle);
            }
        }
        return page;
    }
}
