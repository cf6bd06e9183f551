package io.nemotron.core.model;

import static io.nemotron.core.backend.Backend.Buf.ATT;
import static io.nemotron.core.backend.Backend.Buf.GATE;
import static io.nemotron.core.backend.Backend.Buf.K;
import static io.nemotron.core.backend.Backend.Buf.OUT;
import static io.nemotron.core.backend.Backend.Buf.Q;
import static io.nemotron.core.backend.Backend.Buf.UP;
import static io.nemotron.core.backend.Backend.Buf.V;
import static io.nemotron.core.backend.Backend.Buf.X;
import static io.nemotron.core.backend.Backend.Buf.XB;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;

/**
 * The nemotron-nas forward pass (a plain Llama is the all-FULL, all-MLP case), written once against
 * {@link Backend}. Pre-norm residual blocks; a no-op sub-block is skipped together with its norm; a linear
 * sub-block is {@code x + W · rmsnorm(x)}.
 */
public final class Transformer implements ForwardPass {
    private final ModelConfig config;
    private final ModelWeights weights;
    private final Backend backend;
    private final int linearOffset;
    // the step's layers as one Runnable made once: a capturing lambda per step would allocate on the decode hot path
    private final Runnable runLayers = () -> layers(this.stepBatch, this.stepKv);
    private StepBatch stepBatch;
    private KvPool stepKv;   // first output column of this rank's slice of the linear sub-blocks

    public Transformer(ModelConfig config, ModelWeights weights, Backend backend) {
        this(config, weights, backend, 0);
    }

    /**
     * One tensor-parallel rank: {@code weights} is its shard; its linear sub-blocks hold the output columns from
     * {@code linearOffset} on.
     */
    public Transformer(ModelConfig config, ModelWeights weights, Backend backend, int linearOffset) {
        this.config = config;
        this.weights = weights;
        this.backend = backend;
        this.linearOffset = linearOffset;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public int maxRows() {
        return backend.maxRows();
    }

    @Override
    public KvPool newKvPool(int numBlocks, int blockSize) {
        return backend.newKvPool(numBlocks, blockSize);
    }

    @Override
    public long kvBytesPerBlock(int blockSize) {
        return backend.kvBytesPerBlock(blockSize);
    }

    public Backend backend() {
        return backend;
    }

    public ModelWeights weights() {
        return weights;
    }

    /**
     * Runs one step: every row of {@code batch} (several sequences, flattened), writing their K/V into {@code kv} and
     * the logits of the batch's logit rows into {@code logits} ([numLogitRows][vocab]).
     * batch.rows must not exceed {@link Backend#maxRows()}; the scheduler's token budget guarantees it.
     */
    @Override
    public void forward(StepBatch batch, KvPool kv, float[] logits) {
        backend.beginStep(batch);
        try {
            // the backend may replay a recording of the layers (a CUDA graph per decode batch size) instead
            stepBatch = batch;
            stepKv = kv;
            backend.layers(batch, kv, runLayers);
            if (batch.numLogitRows > 0) {
                backend.logits(batch, weights.norm(), weights.lmHead(), logits);
            }
        } finally {
            backend.endStep();
        }
    }

    /**
     * As {@link #forward(StepBatch, KvPool, float[])}, ending in the backend's sampling op: only the sampled ids (and
     * asked-for logprobs) come back. A tensor-parallel rank other than the sampling one passes a null {@code out}.
     */
    @Override
    public void forward(StepBatch batch, KvPool kv, SamplingBatch sampling, SampledTokens out) {
        if (sampling.rows != batch.numLogitRows) {
            throw new IllegalArgumentException("the sampling batch has " + sampling.rows + " rows, the step "
                    + batch.numLogitRows + " logit rows");
        }
        backend.beginStep(batch);
        try {
            stepBatch = batch;
            stepKv = kv;
            backend.layers(batch, kv, runLayers);
            if (batch.numLogitRows > 0) {
                backend.sample(batch, weights.norm(), weights.lmHead(), sampling, out);
            }
        } finally {
            backend.endStep();
        }
    }

    /** The embedding and every block: X holds the last block's output. */
    private void layers(StepBatch batch, KvPool kv) {
        int rows = batch.rows;
        int[] tokens = batch.tokenIds;
        int[] positions = batch.positions;
        backend.embed(tokens, rows);
        backend.allReduce(X, rows);   // vocab-parallel embedding: each token's row comes from one rank
        for (int layer = 0; layer < weights.blocks().size(); layer++) {
            BlockWeights b = weights.blocks().get(layer);
            switch (b.config().attention()) {
                case AttentionKind.Full full -> {
                    backend.rmsNorm(X, XB, b.inputLayernorm(), rows);
                    backend.linear(XB, Q, b.qProj(), rows);
                    backend.linear(XB, K, b.kProj(), rows);
                    backend.linear(XB, V, b.vProj(), rows);
                    backend.rope(Q, config.numAttentionHeads(), positions, rows);
                    backend.rope(K, full.kvHeads(), positions, rows);
                    backend.attention(layer, full.kvHeads(), kv, batch);
                    backend.linear(ATT, OUT, b.oProj(), rows);
                    backend.allReduce(OUT, rows);   // o_proj is row-parallel: partial sums per rank
                    backend.add(X, OUT, rows);
                }
                case AttentionKind.Linear linear -> {
                    backend.rmsNorm(X, XB, b.inputLayernorm(), rows);
                    backend.linearSlice(XB, OUT, b.linearAttn(), linearOffset, rows);
                    backend.allReduce(OUT, rows);   // column-parallel slices, gathered by summing zeros elsewhere
                    backend.add(X, OUT, rows);
                }
                case AttentionKind.None none -> { }
            }
            switch (b.config().ffn()) {
                case FfnKind.Mlp mlp -> {
                    backend.rmsNorm(X, XB, b.postAttentionLayernorm(), rows);
                    backend.linear(XB, GATE, b.gateProj(), rows);
                    backend.linear(XB, UP, b.upProj(), rows);
                    backend.siluMul(mlp.intermediateSize(), rows);
                    backend.linear(GATE, OUT, b.downProj(), rows);
                    backend.allReduce(OUT, rows);   // down_proj is row-parallel
                    backend.add(X, OUT, rows);
                }
                case FfnKind.Linear linear -> {
                    backend.rmsNorm(X, XB, b.postAttentionLayernorm(), rows);
                    backend.linearSlice(XB, OUT, b.linearMlp(), linearOffset, rows);
                    backend.allReduce(OUT, rows);
                    backend.add(X, OUT, rows);
                }
                case FfnKind.None none -> { }
            }
        }
    }
}
