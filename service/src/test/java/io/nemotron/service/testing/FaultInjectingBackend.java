package io.nemotron.service.testing;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.weights.Tensor;
import java.util.concurrent.atomic.AtomicInteger;

/** A real backend that fails every forward pass on demand (its first op throws), as a dying GPU would. */
public final class FaultInjectingBackend implements Backend {
    private final Backend delegate;
    public volatile boolean failing;
    public final AtomicInteger failures = new AtomicInteger();

    public FaultInjectingBackend(Backend delegate) {
        this.delegate = delegate;
    }

    @Override
    public int maxRows() {
        return delegate.maxRows();
    }

    @Override
    public void beginStep(StepBatch batch) {
        delegate.beginStep(batch);
    }

    @Override
    public void embed(int[] tokenIds, int rows) {
        if (failing) {
            failures.incrementAndGet();
            throw new IllegalStateException("injected backend fault");
        }
        delegate.embed(tokenIds, rows);
    }

    @Override
    public void rmsNorm(Buf in, Buf out, Tensor weight, int rows) {
        delegate.rmsNorm(in, out, weight, rows);
    }

    @Override
    public void linear(Buf in, Buf out, Tensor weight, int rows) {
        delegate.linear(in, out, weight, rows);
    }

    @Override
    public void linearSlice(Buf in, Buf out, Tensor weight, int offset, int rows) {
        delegate.linearSlice(in, out, weight, offset, rows);
    }

    @Override
    public void rope(Buf buf, int heads, int[] positions, int rows) {
        delegate.rope(buf, heads, positions, rows);
    }

    @Override
    public void attention(int layer, int kvHeads, KvPool kv, StepBatch batch) {
        delegate.attention(layer, kvHeads, kv, batch);
    }

    @Override
    public void siluMul(int width, int rows) {
        delegate.siluMul(width, rows);
    }

    @Override
    public void allReduce(Buf buf, int rows) {
        delegate.allReduce(buf, rows);
    }

    @Override
    public void add(Buf acc, Buf delta, int rows) {
        delegate.add(acc, delta, rows);
    }

    @Override
    public void logits(StepBatch batch, Tensor norm, Tensor lmHead, float[] logits) {
        delegate.logits(batch, norm, lmHead, logits);
    }

    @Override
    public KvPool newKvPool(int numBlocks, int blockSize) {
        return delegate.newKvPool(numBlocks, blockSize);
    }

    @Override
    public long kvBytesPerBlock(int blockSize) {
        return delegate.kvBytesPerBlock(blockSize);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
