package io.nemotron.core.engine;

import io.nemotron.core.sampling.Sampler;
import io.nemotron.core.sampling.SamplingBatch;

/**
 * Drives the host {@link Sampler} as the engine does: one sequence's {@link SamplingState} as the single row of a
 * {@link SamplingBatch} (reused, so steady-state sampling allocates nothing here either).
 */
final class SamplerDriver {
    final Sampler sampler = new Sampler();
    private final SamplingBatch batch = new SamplingBatch(1);

    int sample(float[] logits, int vocab, SamplingState state) {
        return sample(logits, 0, vocab, state);
    }

    int sample(float[] logits, int offset, int vocab, SamplingState state) {
        return sampler.sample(logits, offset, vocab, row(state), 0);
    }

    /** The state's next draw as the one row of the batch. */
    SamplingBatch row(SamplingState state) {
        batch.clear();
        state.addRow(batch);
        return batch;
    }
}
