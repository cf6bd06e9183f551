package io.nemotron.core.backend;

import java.util.Arrays;

/**
 * How a backend stores K/V: the element type and, per layer, the K and V scales an FP8 cache divides by on write and
 * multiplies by on read (the checkpoint's {@code k_scale}/{@code v_scale}; 1.0 where it has none). Scales are ignored
 * for FP32 and BF16.
 */
public record KvCacheFormat(KvCacheDtype dtype, float[] kScales, float[] vScales) {

    public KvCacheFormat {
        if (kScales.length != vScales.length) {
            throw new IllegalArgumentException("k and v scales differ in length: " + kScales.length + " vs " + vScales.length);
        }
        for (int i = 0; i < kScales.length; i++) {
            if (!(kScales[i] > 0f && Float.isFinite(kScales[i]) && vScales[i] > 0f && Float.isFinite(vScales[i]))) {
                throw new IllegalArgumentException("layer " + i + ": KV scales must be finite and positive, got k "
                        + kScales[i] + ", v " + vScales[i]);
            }
        }
        kScales = kScales.clone();
        vScales = vScales.clone();
    }

    /** {@code dtype} with every scale 1.0, for {@code layers} layers. */
    public static KvCacheFormat of(KvCacheDtype dtype, int layers) {
        float[] ones = new float[layers];
        Arrays.fill(ones, 1f);
        return new KvCacheFormat(dtype, ones, ones);
    }

    public float kScale(int layer) {
        return kScales[layer];
    }

    public float vScale(int layer) {
        return vScales[layer];
    }

    @Override
    public float[] kScales() {
        return kScales.clone();
    }

    @Override
    public float[] vScales() {
        return vScales.clone();
    }
}
