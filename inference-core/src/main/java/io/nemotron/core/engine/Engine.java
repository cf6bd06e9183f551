package io.nemotron.core.engine;

import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.kv.KvCacheManager;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.model.ForwardPass;
import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;
import io.nemotron.core.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The continuous-batching engine: one step-loop thread owns the {@link Scheduler}, the KV pool and the model; other
 * threads only queue requests (under the scheduler's lock, so a full queue or a request that can never fit is refused
 * at once) and cancellations (STYLE point 5). Each step: expire deadlines, apply cancellations, schedule, run the whole
 * batch in one forward, sample one id per sampling sequence, let {@link Scheduler#updateFromOutput} append them and
 * apply the token-level stops, and hand the ids to the {@link OutputStage}. Detokenizing, stop strings and every
 * listener call run there, off the step thread; a stop string found there drops the sequence at the next step.
 */
public final class Engine implements InferenceEngine {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    /** Wakes an idle step thread: the request is already in the scheduler. */
    private static final Runnable WAKE = () -> { };

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
    /** Queued and running requests: added by submitters (under schedulerLock), removed by the step thread. */
    private final Map<Sequence, RequestState> live = new ConcurrentHashMap<>();
    private final List<StepObserver> observers = new CopyOnWriteArrayList<>();
    /**
     * Guards the scheduler: submitters add to it (so its KV-fit and maxWaiting checks answer submit at once), the step
     * thread schedules and updates it. Held for bookkeeping only, never across a forward pass or a listener call.
     */
    private final Object schedulerLock = new Object();
    private final OutputStage outputStage = new OutputStage();
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
                engineConfig.maxNumSeqs(), engineConfig.maxWaiting(), 0), kvManager);
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
            throw new InvalidRequestException("prompt: is empty");
        }
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] < 0 || prompt[i] >= config.vocabSize()) {
                throw new InvalidRequestException("prompt_ids[" + i + "]: " + prompt[i]
                        + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        int maxTokens = request.params().maxTokens();
        long total = (long) prompt.length + maxTokens;
        if (total > config.maxPositionEmbeddings()) {
            throw new InvalidRequestException("max_tokens: " + maxTokens + " + prompt " + prompt.length + " tokens = "
                    + total + " exceeds the context length " + config.maxPositionEmbeddings());
        }
        if (!request.params().stop().isEmpty() && tokenizer == null) {
            throw new InvalidRequestException("stop: stop strings need a tokenizer and this model has none");
        }
        long now = System.nanoTime();
        Sequence seq = new Sequence(request.requestId() + "#" + sequenceIds.incrementAndGet(), prompt,
                request.priority(), now, TokenStops.of(request.params(), config.eosTokenIds()));
        RequestState state = new RequestState(this, request, seq, now);
        state.output = new RequestOutput(request.requestId(), listener,
                new SequenceText(request.params(), prompt, tokenizer), state, () -> drop(state), outputStage);
        synchronized (schedulerLock) {
            if (stopping) {
                throw new EngineClosedException("the engine is shut down");
            }
            // the KV-fit and waiting-queue checks: IllegalArgumentException, EngineOverloadedException
            scheduler.add(seq);
            live.put(seq, state);
        }
        inbox.add(WAKE);
        return state;
    }

    void cancel(RequestState state) {
        inbox.add(() -> end(state, FinishReason.CANCELLED));
    }

    /** From the output stage: a stop string ended the request there; the sequence leaves at the next step. */
    private void drop(RequestState state) {
        inbox.add(() -> {
            if (!state.done) {
                state.done = true;
                release(state);
            }
        });
    }

    @Override
    public void addStepObserver(StepObserver observer) {
        observers.add(observer);
    }

    @Override
    public EngineSnapshot snapshot() {
        return snapshot;
    }

    /**
     * Blocks until the engine thread has stopped (unfinished requests end with an error) and the output stage has
     * delivered every event.
     */
    @Override
    public void close() {
        stopping = true;
        inbox.add(WAKE);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        outputStage.close();
    }

    private void loop() {
        try {
            while (!stopping) {
                try {
                    turn();
                } catch (InterruptedException e) {
                    throw e;
                } catch (Throwable t) {
                    // a bug outside the forward pass (scheduler, sampling, bookkeeping): its state can no longer be
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
            synchronized (schedulerLock) {
                stopping = true;   // under the lock: no submit adds a request after the sweep below
            }
            for (RequestState state : new ArrayList<>(live.values())) {
                fail(state, new EngineClosedException("the engine shut down"));
            }
            snapshot = snapshotNow();
        }
    }

    private void turn() throws InterruptedException {
        if (!hasWork()) {
            inbox.take().run();   // idle: sleep until a request or cancel arrives
        }
        Runnable command;
        while ((command = inbox.poll()) != null) {
            command.run();
        }
        expireDeadlines();
        if (hasWork() && !stopping) {
            step();
        }
    }

    private boolean hasWork() {
        synchronized (schedulerLock) {
            return scheduler.hasWork();
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
                end(state, FinishReason.EXPIRED);
            }
        }
    }

    private void step() {
        SchedulerOutput out;
        synchronized (schedulerLock) {
            out = scheduler.schedule();
        }
        if (out.scheduled().isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        batch.clear();
        sampling.clear();
        for (ScheduledSequence s : out.scheduled()) {
            Sequence seq = s.sequence();
            RequestState state = live.get(seq);
            if (state.firstScheduledNanos == 0) {
                state.firstScheduledNanos = now;
            }
            batch.addSequence(seq.tokens(), s.startPosition(), s.numNewTokens(), kvManager.blockTableView(seq.requestId()),
                    kvManager.blockSize());
            if (s.samples()) {
                batch.markLogits(batch.rows - 1);
                state.sampling.addRow(sampling);
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
        int[] sampled = sample(out);
        List<Scheduler.SampledToken> appended;
        synchronized (schedulerLock) {
            appended = scheduler.updateFromOutput(out, sampled);
        }
        List<RequestState> states = new ArrayList<>(appended.size());
        for (Scheduler.SampledToken t : appended) {
            states.add(account(t));
        }
        // NOTE: observers hear of a step before any listener hears of its tokens (a test that waits for a request
        // and then counts steps must not see the step that ended it)
        observeStep(out.scheduled().size(), batch.rows, System.nanoTime() - now);
        List<RequestOutput> toDrain = new ArrayList<>(appended.size());
        for (int i = 0; i < appended.size(); i++) {
            Scheduler.SampledToken t = appended.get(i);
            RequestState state = states.get(i);
            Sequence seq = t.sequence();
            if (state.output.offerToken(t.token(), state.logprobs, t.finished(), seq.numOutputTokens(),
                    seq.numCachedTokens())) {
                toDrain.add(state.output);
            }
        }
        outputStage.drainAll(toDrain);
    }

    /** One id per sampling sequence of the step, in scheduled order (the order of the logit rows). */
    private int[] sample(SchedulerOutput out) {
        int rows = 0;
        for (ScheduledSequence s : out.scheduled()) {
            rows += s.samples() ? 1 : 0;
        }
        int[] ids = new int[rows];
        int row = 0;
        for (ScheduledSequence s : out.scheduled()) {
            if (s.samples()) {
                ids[row] = sampleRow(live.get(s.sequence()), row);
                row++;
            }
        }
        return ids;
    }

    /**
     * The token the step's sampling op drew for one request's logit row (and its logprobs when asked for), accepted
     * into the request's sampling state (penalty counts, the step of its next draw).
     */
    private int sampleRow(RequestState state, int row) {
        int token = sampled.ids[row];
        state.sampling.accept(token);
        state.logprobs = sampled.logprobs[row];
        return token;
    }

    /**
     * The engine's side of an appended token: the first-token time, and a sequence a token-level stop ended (the
     * scheduler already freed it) leaves the live requests. Returns the request's state.
     */
    private RequestState account(Scheduler.SampledToken t) {
        Sequence seq = t.sequence();
        RequestState state = live.get(seq);
        if (state.firstTokenNanos == 0) {
            state.firstTokenNanos = System.nanoTime();
        }
        if (t.finished() != null) {
            state.done = true;
            live.remove(seq);
        }
        return state;
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

    /** Ends a request without a token-level stop: leaves the scheduler (its blocks return to the pool), and the output
     * stage tells the listener (unless it ended the request first, on a stop string). */
    private void end(RequestState state, FinishReason reason) {
        if (state.done) {
            return;
        }
        state.done = true;
        release(state);
        state.output.finished(reason, state.stats(System.nanoTime()));
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
        state.output.failed(error, state.stats(System.nanoTime()));
    }

    private void release(RequestState state) {
        live.remove(state.sequence);
        try {
            synchronized (schedulerLock) {
                scheduler.finish(state.sequence);
            }
        } catch (RuntimeException e) {
            LOG.error("could not release the blocks of {}", state.requestId(), e);
        }
    }

    private EngineSnapshot snapshotNow() {
        synchronized (schedulerLock) {
            return snapshotLocked();
        }
    }

    private EngineSnapshot snapshotLocked() {
        return new EngineSnapshot(scheduler.numRunning(), scheduler.numWaiting(), kvManager.numBlocks(),
                kvManager.freeBlocks(), kvManager.blockSize(), kvManager.prefixHits(), kvManager.prefixQueries(),
                scheduler.numPreemptions(), steps);
    }
}
