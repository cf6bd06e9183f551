package io.nemotron.core.weights;

import java.util.Set;

/** Where a model's tensors come from (a safetensors checkpoint, or random weights written on the fly). */
public interface WeightSource extends AutoCloseable {

    /** The tensor with this Hugging Face name; throws {@link WeightsException} naming the tensor when absent. */
    Tensor tensor(String name);

    boolean contains(String name);

    Set<String> names();

    @Override
    void close();
}
