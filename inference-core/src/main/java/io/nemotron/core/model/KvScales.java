package io.nemotron.core.model;

import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.backend.KvCacheFormat;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.weights.Fp8Scales;
import io.nemotron.core.weights.WeightSource;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-layer K and V cache scales of a checkpoint (ModelOpt's {@code k_proj.k_scale} / {@code v_proj.v_scale}),
 * 1.0 for a layer without them. An FP8 cache divides by them on write; without calibrated scales 1.0 is what vLLM
 * uses too, and values beyond ±448 then saturate, so that case is logged once when an FP8 cache is made.
 *
 * @param missing the FULL-attention layers that have no scales in the checkpoint
 */
public record KvScales(float[] k, float[] v, List<Integer> missing) {
    private static final Logger LOG = LoggerFactory.getLogger(KvScales.class);

    public KvScales {
        k = k.clone();
        v = v.clone();
        missing = List.copyOf(missing);
    }

    /** The scales of every layer of {@code config} in {@code weights} (validated: finite and positive where present). */
    public static KvScales read(ModelConfig config, WeightSource weights) {
        int layers = config.numLayers();
        float[] k = new float[layers];
        float[] v = new float[layers];
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            k[i] = Fp8Scales.kvScale(weights, i, 'k');
            v[i] = Fp8Scales.kvScale(weights, i, 'v');
            boolean full = config.blocks().get(i).attention() instanceof AttentionKind.Full;
            if (full && (Float.isNaN(k[i]) || Float.isNaN(v[i]))) {
                missing.add(i);
            }
            k[i] = Float.isNaN(k[i]) ? 1f : k[i];
            v[i] = Float.isNaN(v[i]) ? 1f : v[i];
        }
        return new KvScales(k, v, missing);
    }

    /** The cache format of {@code dtype} with these scales; warns when an FP8 cache runs on layers without scales. */
    public KvCacheFormat format(KvCacheDtype dtype) {
        if (dtype == KvCacheDtype.FP8 && !missing.isEmpty()) {
            LOG.warn("FP8 KV cache: the checkpoint has no k_scale/v_scale for {} attention layer(s) (first: layer {});"
                    + " using 1.0, so cached K/V beyond ±448 saturate", missing.size(), missing.get(0));
        }
        return new KvCacheFormat(dtype, k, v);
    }

    @Override
    public float[] k() {
        return k.clone();
    }

    @Override
    public float[] v() {
        return v.clone();
    }
}
