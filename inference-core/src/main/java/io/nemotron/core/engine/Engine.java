package io.nemotron.core.engine;

import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.kv.KvCacheManager;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.model.ForwardPass;
import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;
import io.nemotron.core.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The continuous-batching engine: one step-loop thread owns the {@link Scheduler}, the KV pool and the model; other
 * threads only enqueue requests and cancellations (STYLE point 5). Each step: expire deadlines, apply cancellations,
 * schedule, run the whole batch in one forward, sample the sequences whose tokens are all computed, detokenize,
 * check stops, and send events.
 */
public final class Engine implements InferenceEngine {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);

    private final ForwardPass model;
    private final ModelConfig config;
    private final Tokenizer tokenizer;
    private final EngineConfig engineConfig;
    private final KvCacheManager kvManager;
    private final KvPool kvPool;
    private final Scheduler scheduler;
    private final StepBatch batch;
    private final SamplingBatch sampling;   // the settings of the step's logit rows, in batch order
    private final SampledTokens sampled;    // what the sampling op drew for them
    private final LinkedBlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final Map<Sequence, RequestState> live = new HashMap<>();
    private final List<StepObserver> observers = new CopyOnWriteArrayList<>();
    private final AtomicInteger queued = new AtomicInteger();
    // sequence ids key the KV manager's block tables: made unique here, since clients may reuse request ids (a
    // cancelled request can still be in flight when the same id arrives again)
    private final AtomicLong sequenceIds = new AtomicLong();
    private final Thread thread;
    private volatile boolean stopping;
    private volatile EngineSnapshot snapshot;
    private long steps;

    public Engine(LoadedModel loaded, EngineConfig engineConfig) {
        this(loaded.forwardPass(), loaded.tokenizer(), engineConfig);
    }

    /**
     * Over any forward pass (tests inject faults through a wrapping backend). {@code tokenizer} may be null: no text
     * deltas and no stop strings then.
     */
    public Engine(ForwardPass model, Tokenizer tokenizer, EngineConfig engineConfig) {
        this.model = model;
        this.config = model.config();
        this.tokenizer = tokenizer;
        this.engineConfig = engineConfig;
        if (model.maxRows() < engineConfig.maxNumBatchedTokens()) {
            throw new IllegalArgumentException("the backend takes " + model.maxRows()
                    + " rows per step but max-num-batched-tokens is " + engineConfig.maxNumBatchedTokens());
        }
        int blockSize = engineConfig.blockSize();
        int numBlocks = engineConfig.numKvBlocks() > 0 ? engineConfig.numKvBlocks()
                : (int) Math.min(Integer.MAX_VALUE / 2,
                        engineConfig.kvCacheBytes() / Math.max(1, model.kvBytesPerBlock(blockSize)));
        if (numBlocks < 1) {
            throw new IllegalArgumentException("kv-cache-bytes " + engineConfig.kvCacheBytes()
                    + " is less than one KV block (" + model.kvBytesPerBlock(blockSize) + " bytes)");
        }
        this.kvManager = new KvCacheManager(numBlocks, blockSize, engineConfig.enablePrefixCaching());
        this.kvPool = model.newKvPool(numBlocks, blockSize);
        this.scheduler = new Scheduler(new SchedulerConfig(engineConfig.maxNumBatchedTokens(),
                engineConfig.maxNumSeqs(), Integer.MAX_VALUE, 0), kvManager);
        this.batch = new StepBatch(engineConfig.maxNumBatchedTokens(), engineConfig.maxNumSeqs());
        this.sampling = new SamplingBatch(engineConfig.maxNumSeqs());
        this.sampled = new SampledTokens(engineConfig.maxNumSeqs());
        this.snapshot = snapshotNow();
        this.thread = new Thread(this::loop, "nemotron-engine");
        thread.setDaemon(true);
        thread.start();
        LOG.info("engine: {} KV blocks of {} tokens ({} MiB), budget {} tokens/step, {} sequences", numBlocks,
                blockSize, kvPool.bytes() >> 20, engineConfig.maxNumBatchedTokens(), engineConfig.maxNumSeqs());
    }

    public int kvCapacityTokens() {
        return kvManager.numBlocks() * kvManager.blockSize();
    }

    public int blockSize() {
        return kvManager.blockSize();
    }

    @Override
    public RequestHandle submit(EngineRequest request, EngineListener listener) {
        if (stopping) {
            throw new EngineClosedException("the engine is shut down");
        }
        request.params().validate();
        int[] prompt = request.promptIds();
        if (prompt.length == 0) {
            throw new IllegalArgumentException("prompt is empty");
        }
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] < 0 || prompt[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("prompt_ids[" + i + "] = " + prompt[i]
                        + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        int maxTokens = request.params().maxTokens();
        long total = (long) prompt.length + maxTokens;
        if (total > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("max_tokens " + maxTokens + " + prompt " + prompt.length + " tokens = "
                    + total + " exceeds the context length " + config.maxPositionEmbeddings());
        }
        if (total > kvCapacityTokens()) {
            throw new IllegalArgumentException("max_tokens " + maxTokens + " + prompt " + prompt.length
                    + " tokens exceeds the KV cache capacity of " + kvCapacityTokens() + " tokens");
        }
        if (!request.params().stop().isEmpty() && tokenizer == null) {
            throw new IllegalArgumentException("stop: stop strings need a tokenizer and this model has none");
        }
        if (queued.incrementAndGet() > engineConfig.maxWaiting()) {
            queued.decrementAndGet();
            throw new EngineOverloadedException("the waiting queue is full (" + engineConfig.maxWaiting()
                    + " requests); retry later");
        }
        long now = System.nanoTime();
        Sequence seq = new Sequence(request.requestId() + "#" + sequenceIds.incrementAndGet(), prompt, maxTokens, request.priority(), now);
        RequestState state = new RequestState(this, request, listener, seq,
                new SequenceOutput(request.params(), prompt, config.eosTokenIds(), tokenizer), now);
        inbox.add(() -> admit(state));
        if (stopping && !thread.isAlive()) {
            // the loop ended between the check above and the add: nobody else will run the command
            drainAfterStop();
        }
        return state;
    }

    void cancel(RequestState state) {
        inbox.add(() -> end(state, FinishReason.CANCELLED, null));
    }

    @Override
    public void addStepObserver(StepObserver observer) {
        observers.add(observer);
    }

    @Override
    public EngineSnapshot snapshot() {
        return snapshot;
    }

    /** Blocks until the engine thread has stopped; unfinished requests end with an error. */
    @Override
    public void close() {
        stopping = true;
        inbox.add(() -> { });
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void admit(RequestState state) {
        if (state.done) {
            return;
        }
        if (stopping) {
            // never reached the scheduler: no blocks to return, only the listener to tell
            state.done = true;
            if (state.countedAsWaiting) {
                state.countedAsWaiting = false;
                queued.decrementAndGet();
            }
            notifyError(state, new EngineClosedException("the engine shut down before the request was scheduled"));
            return;
        }
        live.put(state.sequence, state);
        scheduler.add(state.sequence);
    }

    /** Runs what is left in the inbox once the loop has ended: admissions fail, cancels are no-ops. */
    private void drainAfterStop() {
        Runnable command;
        while ((command = inbox.poll()) != null) {
            try {
                command.run();
            } catch (RuntimeException e) {
                LOG.warn("command after shutdown failed", e);
            }
        }
    }

    private void loop() {
        try {
            while (!stopping) {
                try {
                    turn();
                } catch (InterruptedException e) {
                    throw e;
                } catch (Throwable t) {
                    // a bug outside the forward pass (scheduler, sampling, a listener): its state can no longer be
                    // trusted, so every live request fails, and the engine keeps serving new ones
                    LOG.error("engine loop failed; failing {} live requests", live.size(), t);
                    for (RequestState state : new ArrayList<>(live.values())) {
                        fail(state, new EngineStepException("engine step failed: " + t, t));
                    }
                }
                snapshot = snapshotNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stopping = true;
            drainAfterStop();
            for (RequestState state : new ArrayList<>(live.values())) {
                fail(state, new EngineClosedException("the engine shut down"));
            }
            snapshot = snapshotNow();
        }
    }

    private void turn() throws InterruptedException {
        if (!scheduler.hasWork()) {
            inbox.take().run();   // idle: sleep until a request or cancel arrives
        }
        Runnable command;
        while ((command = inbox.poll()) != null) {
            command.run();
        }
        expireDeadlines();
        if (scheduler.hasWork() && !stopping) {
            step();
        }
    }

    private void expireDeadlines() {
        long now = System.nanoTime();
        List<RequestState> expired = null;
        for (RequestState state : live.values()) {
            if (now - state.request.deadlineNanos() > 0 && state.request.deadlineNanos() != Long.MAX_VALUE) {
                (expired == null ? expired = new ArrayList<>() : expired).add(state);
            }
        }
        if (expired != null) {
            for (RequestState state : expired) {
                end(state, FinishReason.EXPIRED, null);
            }
        }
    }

    private void step() {
        SchedulerOutput out = scheduler.schedule();
        if (out.scheduled().isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        batch.clear();
        sampling.clear();
        for (ScheduledSequence s : out.scheduled()) {
            Sequence seq = s.sequence();
            RequestState state = live.get(seq);
            if (state != null && state.firstScheduledNanos == 0) {
                state.firstScheduledNanos = now;
                state.countedAsWaiting = false;
                queued.decrementAndGet();
            }
            batch.addSequence(seq.tokens(), s.startPosition(), s.numNewTokens(), kvManager.blockTableView(seq.requestId()),
                    kvManager.blockSize());
            if (s.samples()) {
                if (state == null) {   // the scheduler and live are updated together: a bug, failed by the loop
                    throw new IllegalStateException("scheduled sequence " + seq.requestId() + " has no request");
                }
                batch.markLogits(batch.rows - 1);
                state.output.addSamplingRow(sampling);
            }
        }
        try {
            model.forward(batch, kvPool, sampling, sampled);
        } catch (RuntimeException | Error e) {
            LOG.error("step failed; failing its {} sequences", out.scheduled().size(), e);
            observeFailure(e, out.scheduled().size(), System.nanoTime() - now);
            EngineStepException failure = new EngineStepException("the backend failed: " + e, e);
            for (ScheduledSequence s : out.scheduled()) {
                RequestState state = live.get(s.sequence());
                if (state != null) {
                    fail(state, failure);
                }
            }
            return;
        }
        steps++;
        scheduler.onStepComplete(out);
        int logitRow = 0;
        for (ScheduledSequence s : out.scheduled()) {
            if (!s.samples()) {
                continue;
            }
            int row = logitRow++;
            RequestState state = live.get(s.sequence());
            if (state == null) {
                continue;
            }
            emit(state, sampled.ids[row], sampled.logprobs[row]);
        }
        observeStep(out.scheduled().size(), batch.rows, System.nanoTime() - now);
    }

    private void observeStep(int sequences, int tokens, long nanos) {
        for (StepObserver o : observers) {
            try {
                o.onStep(sequences, tokens, nanos);
            } catch (RuntimeException e) {
                LOG.warn("step observer {} failed", o, e);
            }
        }
    }

    private void observeFailure(Throwable error, int sequences, long nanos) {
        for (StepObserver o : observers) {
            try {
                o.onStepFailed(error, sequences, nanos);
            } catch (RuntimeException e) {
                LOG.warn("step observer {} failed", o, e);
            }
        }
    }

    /** Sends on the token the sampling op drew for the request (with its logprobs when asked for). */
    private void emit(RequestState state, int token, SampledLogprobs logprobs) {
        SequenceOutput.Step step = state.output.next(token);
        state.sequence.appendToken(step.token());
        if (state.firstTokenNanos == 0) {
            state.firstTokenNanos = System.nanoTime();
        }
        try {
            state.listener.onToken(step.token(), step.text(), logprobs);
        } catch (RuntimeException e) {
            LOG.warn("listener of {} failed on a token; cancelling it", state.requestId(), e);
            end(state, FinishReason.CANCELLED, null);
            return;
        }
        if (step.finished() != null) {
            end(state, FinishReason.of(step.finished()), step.finalText());
        }
    }

    /** Ends a request: leaves the scheduler (its blocks return to the pool) and tells the listener once. */
    private void end(RequestState state, FinishReason reason, String finalText) {
        if (state.done) {
            return;
        }
        state.done = true;
        release(state);
        try {
            state.listener.onFinished(reason, finalText == null ? "" : finalText, state.stats(System.nanoTime()));
        } catch (RuntimeException e) {
            LOG.warn("listener of {} failed on finish", state.requestId(), e);
        }
    }

    private void fail(RequestState state, Throwable error) {
        if (state.done) {
            return;
        }
        state.done = true;
        try {
            release(state);
        } finally {
            notifyError(state, error);
        }
    }

    private void notifyError(RequestState state, Throwable error) {
        try {
            state.listener.onError(error, state.stats(System.nanoTime()));
        } catch (RuntimeException e) {
            LOG.warn("listener of {} failed on error", state.requestId(), e);
        }
    }

    private void release(RequestState state) {
        live.remove(state.sequence);
        try {
            scheduler.finish(state.sequence);
        } catch (RuntimeException e) {
            LOG.error("could not release the blocks of {}", state.requestId(), e);
        }
        if (state.countedAsWaiting) {
            state.countedAsWaiting = false;
            queued.decrementAndGet();
        }
    }

    private EngineSnapshot snapshotNow() {
        return new EngineSnapshot(scheduler.numRunning(), scheduler.numWaiting(), kvManager.numBlocks(),
                kvManager.freeBlocks(), kvManager.blockSize(), kvManager.prefixHits(), kvManager.prefixQueries(),
                scheduler.numPreemptions(), steps);
    }
}
