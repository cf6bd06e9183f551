package io.nemotron.core.model;

import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.Fp8Scales;
import io.nemotron.core.weights.Tensor;
import io.nemotron.core.weights.WeightSource;
import java.util.Set;

/** A checkpoint whose F8_E4M3 tensors come with the scales stored beside them, so no caller can forget them. */
final class ScaledLinears implements WeightSource {
    private final WeightSource checkpoint;

    ScaledLinears(WeightSource checkpoint) {
        this.checkpoint = checkpoint;
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = checkpoint.tensor(name);
        return t.dtype() == DType.F8_E4M3 && t.scales() == null ? Fp8Scales.attach(t, checkpoint) : t;
    }

    @Override
    public boolean contains(String name) {
        return checkpoint.contains(name);
    }

    @Override
    public Set<String> names() {
        return checkpoint.names();
    }

    @Override
    public String description() {
        return checkpoint.description();
    }

    @Override
    public String locationOf(String name) {
        return checkpoint.locationOf(name);
    }

    @Override
    public void close() {
        // the checkpoint belongs to the caller
    }
}
