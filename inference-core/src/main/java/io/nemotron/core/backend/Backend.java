package io.nemotron.core.backend;

import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;
import io.nemotron.core.weights.Tensor;

/**
 * The coarse, batched compute interface the forward pass is written against (STYLE point 2): one call per op
 * for all rows of a step. Activations live in backend-owned buffers named by {@link Buf}, each holding
 * {@code rows × width} values, so a device backend keeps them on the device and the model never sees memory.
 */
public interface Backend extends AutoCloseable {

    /** Activation buffers; widths are fixed by the model shape when the backend is built. */
    enum Buf {
        X,    // [rows][hidden]         residual stream
        XB,   // [rows][hidden]         normed input of a sub-block
        Q,    // [rows][heads·headDim]
        K,    // [rows][kvHeads·headDim] (widest FULL layer)
        V,    // [rows][kvHeads·headDim]
        ATT,  // [rows][heads·headDim]  attention output before o_proj
        OUT,  // [rows][hidden]         sub-block output before the residual add
        GATE, // [rows][intermediate]   (widest MLP)
        UP    // [rows][intermediate]
    }

    /** Most rows one call may carry (the prefill chunk size). */
    int maxRows();

    /**
     * Called by the forward pass once per step, before any op, with the step's batch: a device backend copies the
     * step's ids, positions, slot mapping and block tables down in one transfer here (the ops of the step then find
     * them by the batch's arrays). Ops called outside a step still work. Nothing to do on the CPU.
     */
    default void beginStep(StepBatch batch) {
    }

    /**
     * Called by the forward pass once per step after its last op, also when the step failed: what follows on the
     * calling thread (sampling, streaming the tokens out, scheduling the next step) is serial, so a backend with
     * spinning workers lets them sleep now.
     */
    default void endStep() {
    }

    /**
     * Runs the step's layers, from the embedding through the last block, which {@code layers} issues op by op (after
     * {@link #beginStep}, before the logits). A backend may run a recording of those ops instead: the CUDA backend
     * replays the graph it captured for a decode step's batch-size bucket, running {@code layers} once to capture it.
     * The default runs {@code layers}.
     */
    default void layers(StepBatch batch, KvPool kv, Runnable layers) {
        layers.run();
    }

    /** X[r] = embed_tokens[tokenIds[r]] for r in [0, rows). */
    void embed(int[] tokenIds, int rows);

    /** out[r] = rmsnorm(in[r]) · weight. */
    void rmsNorm(Buf in, Buf out, Tensor weight, int rows);

    /** out[r] = W · in[r] for a [outFeatures, inFeatures] weight. */
    void linear(Buf in, Buf out, Tensor weight, int rows);

    /**
     * A column-parallel slice of a hidden → hidden linear: {@code out[r][offset, offset + W.rows) = W · in[r]} and the
     * rest of {@code out[r]} zero, so that an all-reduce of {@code out} over the ranks assembles the full product
     * (each element computed by exactly one rank). With one rank, offset 0 and the whole W, it is {@link #linear}.
     */
    void linearSlice(Buf in, Buf out, Tensor weight, int offset, int rows);

    /** Rotary embedding on {@code heads} heads of each row of buf (Q or K), row r at positions[r]. */
    void rope(Buf buf, int heads, int[] positions, int rows);

    /**
     * Writes the K/V rows of one FULL-attention layer into the pool at the batch's slot mapping, then computes causal
     * GQA attention of each Q row over its own sequence's positions [0, position] (read through the sequence's
     * block table) into ATT.
     */
    void attention(int layer, int kvHeads, KvPool kv, StepBatch batch);

    /** GATE = silu(GATE) · UP, elementwise over the first {@code width} columns. */
    void siluMul(int width, int rows);

    /**
     * Sums {@code buf}'s rows over the tensor-parallel ranks (after a row-parallel matmul and the vocab-parallel
     * embedding); nothing to do on a single rank.
     */
    void allReduce(Buf buf, int rows);

    /** acc[r] += delta[r]. */
    void add(Buf acc, Buf delta, int rows);

    /**
     * Final norm and lm_head for the batch's logit rows: {@code logits[i·vocab ..]} = lm_head · rmsnorm(X[logitRows[i]]).
     */
    void logits(StepBatch batch, Tensor norm, Tensor lmHead, float[] logits);

    /**
     * The sampling op: final norm, lm_head and one token per logit row of the batch, under row i's settings in
     * {@code sampling}, into {@code out.ids[i]} (and {@code out.logprobs[i]} where asked for: the raw log-softmax,
     * before penalties). The host default computes the logits with {@link #logits} into {@code out}'s host scratch and
     * runs the host {@link io.nemotron.core.sampling.Sampler}; a device backend samples where the logits are, so only
     * the ids (and the rows whose logprobs were asked for) cross to the host.
     *
     * <p>On a vocab-parallel rank of a backend that {@link #samplesOnDevice()}, every rank calls this op; the ranks
     * gather the logits among themselves and the rank given a non-null {@code out} samples.
     */
    default void sample(StepBatch batch, Tensor norm, Tensor lmHead, SamplingBatch sampling, SampledTokens out) {
        int vocab = lmHead.rows();
        float[] logits = out.hostLogits(batch.numLogitRows * vocab);
        logits(batch, norm, lmHead, logits);
        out.sampleOnHost(logits, vocab, sampling);
    }

    /**
     * Whether {@link #sample} gathers a vocab-parallel rank's logits itself (through its communicator) and samples on
     * the device. False: a tensor-parallel model gathers the ranks' {@link #logits} on the host and samples there.
     */
    default boolean samplesOnDevice() {
        return false;
    }

    /** Paged K/V storage for every FULL layer: {@code numBlocks} blocks of {@code blockSize} slots. */
    KvPool newKvPool(int numBlocks, int blockSize);

    /** Bytes one KV block takes in this backend (for sizing the pool from a memory budget). */
    long kvBytesPerBlock(int blockSize);

    @Override
    void close();
}
