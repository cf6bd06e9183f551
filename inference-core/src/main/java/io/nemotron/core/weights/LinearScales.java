package io.nemotron.core.weights;

/**
 * The two per-tensor scales of a ModelOpt FP8 linear (vLLM's {@code ModelOptFp8LinearMethod}): the layer computes
 * {@code x8 = saturate_e4m3(x / input)} and {@code y = (x8 · W8ᵀ) · (input · weight)}, the products accumulated in FP32.
 * Both are finite and positive (the loader checks, naming the tensor).
 */
public record LinearScales(float input, float weight) {

    public LinearScales {
        if (!(Float.isFinite(input) && input > 0f && Float.isFinite(weight) && weight > 0f)) {
            throw new IllegalArgumentException("FP8 scales must be finite and positive, got input_scale " + input
                    + ", weight_scale " + weight);
        }
    }

    /** The factor applied to the FP32 dot product of the codes' values: {@code input · weight}, rounded to float. */
    public float output() {
        return input * weight;
    }
}
