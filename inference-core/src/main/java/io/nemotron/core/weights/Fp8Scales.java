package io.nemotron.core.weights;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The scale tensors of a ModelOpt FP8 checkpoint: names, checks and values. A linear {@code <m>.weight} has the F32
 * scalars {@code <m>.weight_scale} and {@code <m>.input_scale}; a FULL attention layer may have K/V cache scales
 * {@code self_attn.k_proj.k_scale} / {@code self_attn.v_proj.v_scale} (or {@code ...output_scale}). A scalar is
 * shaped {@code []} or {@code [1]}; it must be finite and positive, because the linear divides by its input scale and
 * a zero, negative or NaN scale would turn every output into NaN or garbage without an error.
 */
public final class Fp8Scales {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Fp8Scales() {}

    /** {@code <m>.weight_scale} and {@code <m>.input_scale} of the linear weight {@code <m>.weight}. */
    public static List<String> scaleNames(String weightName) {
        String m = ModelOptConfig.module(weightName);
        return List.of(m + ".weight_scale", m + ".input_scale");
    }

    /** Every accepted spelling of layer {@code layer}'s K and V cache scales. */
    static List<String> kvScaleNames(int layer) {
        String p = "model.layers." + layer + ".self_attn.";
        return List.of(p + "k_proj.k_scale", p + "v_proj.v_scale", p + "k_proj.output_scale", p + "v_proj.output_scale");
    }

    /** Layer {@code layer}'s K (which = 'k') or V ('v') cache scale, or NaN when the checkpoint has none. */
    public static float kvScale(WeightSource weights, int layer, char which) {
        String p = "model.layers." + layer + ".self_attn." + which + "_proj.";
        for (String name : List.of(p + which + "_scale", p + "output_scale")) {
            if (weights.contains(name)) {
                return value(weights.tensor(name));
            }
        }
        return Float.NaN;
    }

    /** Adds to {@code problems} what is wrong with the scalar scale {@code name} (dtype, shape, value), naming it. */
    static void checkScalar(WeightSource weights, String name, List<String> problems) {
        Tensor t = weights.tensor(name);
        String where = "FP8 scale '" + name + "' in " + weights.locationOf(name);
        if (t.dtype() != DType.F32) {
            problems.add(where + " is " + t.dtype() + ", expected F32");
        } else if (!(t.shape().length == 0 || (t.shape().length == 1 && t.shape()[0] == 1))) {
            problems.add(where + " has shape " + t.shapeString() + ", expected [] or [1] (one per-tensor scale)");
        } else {
            float v = value(t);
            if (!(Float.isFinite(v) && v > 0f)) {
                problems.add(where + " is " + v + ", must be finite and positive");
            }
        }
    }

    /** The value of a scalar F32 scale tensor (validated by {@link CheckpointLayout#validate}). */
    static float value(Tensor t) {
        return t.data().get(F32, 0);
    }

    /** {@code weight} with the scales read from beside it (the checkpoint was validated against its layout). */
    public static Tensor attach(Tensor weight, WeightSource weights) {
        List<String> names = scaleNames(weight.name());
        float weightScale = value(weights.tensor(names.get(0)));
        float inputScale = value(weights.tensor(names.get(1)));
        return weight.withScales(new LinearScales(inputScale, weightScale));
    }
}
