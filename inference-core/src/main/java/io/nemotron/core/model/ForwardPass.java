package io.nemotron.core.model;

import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;

/**
 * What the engine needs of a model: one batched forward step and its KV storage. A {@link Transformer} on one
 * backend, or a {@link io.nemotron.core.parallel.TensorParallelTransformer} over several ranks; the scheduler and
 * block tables do not know the difference.
 */
public interface ForwardPass {

    /** The whole model's configuration (not a rank's). */
    ModelConfig config();

    /** Most token rows one forward call may carry. */
    int maxRows();

    KvPool newKvPool(int numBlocks, int blockSize);

    /** Bytes one KV block takes, over all ranks. */
    long kvBytesPerBlock(int blockSize);

    /** One step for all rows of {@code batch}; the logits of its logit rows go to {@code logits} ([rows][vocab]). */
    void forward(StepBatch batch, KvPool kv, float[] logits);

    /**
     * One step whose logit rows are sampled by the backend's sampling op (on the device for CUDA): row i of
     * {@code sampling} holds the settings of the batch's i-th logit row, and its token lands in {@code out.ids[i]}.
     */
    void forward(StepBatch batch, KvPool kv, SamplingBatch sampling, SampledTokens out);
}
