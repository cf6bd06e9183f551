package io.nemotron.service.testing;

import io.nemotron.core.engine.EngineListener;
import io.nemotron.core.engine.EngineOverloadedException;
import io.nemotron.core.engine.EngineRequest;
import io.nemotron.core.engine.EngineSnapshot;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.InferenceEngine;
import io.nemotron.core.engine.RequestHandle;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.engine.StepObserver;
import io.nemotron.core.tokenizer.Tokenizer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An engine without a model: on one "engine" thread it echoes the prompt's ids back, one per {@code tokenDelayMs},
 * as the real engine would (text deltas from the tokenizer), honouring cancel and the deadline. Requests wait
 * while {@link #gate} is closed, so a test can hold the warm-up (health) or keep streams open.
 */
public final class FakeEngine implements InferenceEngine {
    public final List<Handle> handles = new CopyOnWriteArrayList<>();
    private final List<StepObserver> observers = new CopyOnWriteArrayList<>();
    public final CountDownLatch gate;
    public volatile long tokenDelayMs = 2;
    public volatile boolean overloaded;
    public volatile boolean failing;
    private final Tokenizer tokenizer;
    private final ScheduledExecutorService thread =
            Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("fake-engine").daemon(true).unstarted(r));

    public FakeEngine(Tokenizer tokenizer, CountDownLatch gate) {
        this.tokenizer = tokenizer;
        this.gate = gate;
    }

    public final class Handle implements RequestHandle {
        public final EngineRequest request;
        final EngineListener listener;
        public volatile boolean cancelled;
        final long start = System.nanoTime();
        int emitted;

        Handle(EngineRequest request, EngineListener listener) {
            this.request = request;
            this.listener = listener;
        }

        @Override
        public String requestId() {
            return request.requestId();
        }

        @Override
        public void cancel() {
            cancelled = true;
        }

        RequestStats stats() {
            long now = System.nanoTime() - start;
            return new RequestStats(request.promptIds().length, emitted, 0, 1_000_000, emitted > 0 ? 2_000_000 : 0, now);
        }
    }

    @Override
    public RequestHandle submit(EngineRequest request, EngineListener listener) {
        if (overloaded) {
            throw new EngineOverloadedException("the waiting queue is full (fake)");
        }
        Handle h = new Handle(request, listener);
        handles.add(h);
        thread.execute(() -> step(h));
        return h;
    }

    public Handle last() {
        return handles.getLast();
    }

    private void step(Handle h) {
        if (h.cancelled) {
            h.listener.onFinished(FinishReason.CANCELLED, "", h.stats());
            return;
        }
        if (System.nanoTime() - h.request.deadlineNanos() > 0 && h.request.deadlineNanos() != Long.MAX_VALUE) {
            h.listener.onFinished(FinishReason.EXPIRED, "", h.stats());
            return;
        }
        if (gate.getCount() > 0) {
            thread.schedule(() -> step(h), 5, TimeUnit.MILLISECONDS);
            return;
        }
        if (failing) {
            IllegalStateException failure = new IllegalStateException("fake backend failure");
            observers.forEach(o -> o.onStepFailed(failure, 1, 0));
            h.listener.onError(failure, h.stats());
            return;
        }
        if (h.emitted == h.request.params().maxTokens()) {
            h.listener.onFinished(FinishReason.LENGTH, "", h.stats());
            return;
        }
        int[] prompt = h.request.promptIds();
        int id = prompt[h.emitted % prompt.length];
        h.emitted++;
        observers.forEach(o -> o.onStep(1, 1, 0));
        h.listener.onToken(id, tokenizer.decode(new int[] {id}, true), null);
        thread.schedule(() -> step(h), tokenDelayMs, TimeUnit.MILLISECONDS);
    }

    @Override
    public void addStepObserver(StepObserver observer) {
        observers.add(observer);
    }

    @Override
    public EngineSnapshot snapshot() {
        return new EngineSnapshot(0, 0, 64, 64, 16, 0, 0, 0, 0);
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
