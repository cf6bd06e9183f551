package io.nemotron.core.weights;

import java.util.Set;

/** Where a model's tensors come from (a safetensors checkpoint, or random weights written on the fly). */
public interface WeightSource extends AutoCloseable {

    /** The tensor with this Hugging Face name; throws {@link WeightsException} naming the tensor when absent. */
    Tensor tensor(String name);

    boolean contains(String name);

    Set<String> names();

    /** The source as a whole, for error messages (a checkpoint folder, a file). */
    default String description() {
        return getClass().getSimpleName();
    }

    /** Where one tensor lives (its shard file), for error messages; the whole source when unknown. */
    default String locationOf(String name) {
        return description();
    }

    @Override
    void close();
}
