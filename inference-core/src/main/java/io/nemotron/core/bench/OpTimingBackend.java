package io.nemotron.core.bench;

import io.nemotron.core.backend.Backend;
import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;
import io.nemotron.core.weights.Tensor;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@link Backend} that runs every op on the backend it wraps and adds up the wall time each kind of op took, so
 * a benchmark can say where a step's time goes. Matmuls are keyed by their weight's shape ("linear 1536x512"):
 * the same shape costs the same wherever it sits in the model. Wall time per call, so the ops of a backend that
 * queues work asynchronously (CUDA) would be misattributed; it is meant for the CPU backend.
 */
public final class OpTimingBackend implements Backend {
    private final Backend backend;
    private final Map<String, long[]> ops = new LinkedHashMap<>();   // name -> {nanos, calls}
    private final Map<Tensor, String> linearNames = new IdentityHashMap<>();   // no string built per timed call

    public OpTimingBackend(Backend backend) {
        this.backend = backend;
    }

    /** Nanoseconds and calls per op name since the last {@link #reset}, in the order ops first ran. */
    public Map<String, long[]> totals() {
        Map<String, long[]> copy = new LinkedHashMap<>();
        ops.forEach((k, v) -> copy.put(k, v.clone()));
        return copy;
    }

    public void reset() {
        ops.clear();
    }

    private void add(String op, long start) {
        long[] t = ops.computeIfAbsent(op, k -> new long[2]);
        t[0] += System.nanoTime() - start;
        t[1]++;
    }

    /** "linear RxC" with the role's prefix and suffix, built once per weight (a weight has one role). */
    private String name(String prefix, Tensor w, String suffix) {
        return linearNames.computeIfAbsent(w, t -> prefix + "linear " + t.shape()[0] + "x" + t.shape()[1] + suffix);
    }

    @Override
    public int maxRows() {
        return backend.maxRows();
    }

    @Override
    public void beginStep(StepBatch batch) {
        long t = System.nanoTime();
        backend.beginStep(batch);
        add("begin step", t);
    }

    @Override
    public void endStep() {
        long t = System.nanoTime();
        backend.endStep();
        add("end step", t);
    }

    @Override
    public void embed(int[] tokenIds, int rows) {
        long t = System.nanoTime();
        backend.embed(tokenIds, rows);
        add("embed", t);
    }

    @Override
    public void rmsNorm(Buf in, Buf out, Tensor weight, int rows) {
        long t = System.nanoTime();
        backend.rmsNorm(in, out, weight, rows);
        add("rmsnorm", t);
    }

    @Override
    public void linear(Buf in, Buf out, Tensor weight, int rows) {
        long t = System.nanoTime();
        backend.linear(in, out, weight, rows);
        add(name("", weight, ""), t);
    }

    @Override
    public void linearSlice(Buf in, Buf out, Tensor weight, int offset, int rows) {
        long t = System.nanoTime();
        backend.linearSlice(in, out, weight, offset, rows);
        add(name("", weight, " (linear sub-block)"), t);
    }

    @Override
    public void rope(Buf buf, int heads, int[] positions, int rows) {
        long t = System.nanoTime();
        backend.rope(buf, heads, positions, rows);
        add("rope", t);
    }

    @Override
    public void attention(int layer, int kvHeads, KvPool kv, StepBatch batch) {
        long t = System.nanoTime();
        backend.attention(layer, kvHeads, kv, batch);
        add("attention", t);
    }

    @Override
    public void siluMul(int width, int rows) {
        long t = System.nanoTime();
        backend.siluMul(width, rows);
        add("silu*mul", t);
    }

    @Override
    public void allReduce(Buf buf, int rows) {
        long t = System.nanoTime();
        backend.allReduce(buf, rows);
        add("all-reduce", t);
    }

    @Override
    public void add(Buf acc, Buf delta, int rows) {
        long t = System.nanoTime();
        backend.add(acc, delta, rows);
        add("residual add", t);
    }

    @Override
    public void logits(StepBatch batch, Tensor norm, Tensor lmHead, float[] logits) {
        long t = System.nanoTime();
        backend.logits(batch, norm, lmHead, logits);
        add(name("final norm + ", lmHead, ""), t);
    }

    /** A device backend's sampling op timed whole; on the host, the logits op and the host sampling timed apart. */
    @Override
    public void sample(StepBatch batch, Tensor norm, Tensor lmHead, SamplingBatch sampling, SampledTokens out) {
        if (backend.samplesOnDevice()) {
            long t = System.nanoTime();
            backend.sample(batch, norm, lmHead, sampling, out);
            add(name("final norm + ", lmHead, " + sampling"), t);
            return;
        }
        int vocab = lmHead.rows();
        float[] logits = out.hostLogits(batch.numLogitRows * vocab);
        logits(batch, norm, lmHead, logits);
        long t = System.nanoTime();
        out.sampleOnHost(logits, vocab, sampling);
        add("sampling (host)", t);
    }

    @Override
    public boolean samplesOnDevice() {
        return backend.samplesOnDevice();
    }

    @Override
    public KvPool newKvPool(int numBlocks, int blockSize) {
        return backend.newKvPool(numBlocks, blockSize);
    }

    @Override
    public long kvBytesPerBlock(int blockSize) {
        return backend.kvBytesPerBlock(blockSize);
    }

    /** The wrapped backend stays open: its owner (the loaded model) closes it. */
    @Override
    public void close() {
    }
}
