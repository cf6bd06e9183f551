package io.nemotron.service.grpc.stream;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.nemotron.core.engine.RequestHandle;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The response side of one streaming call, safe to feed from the engine's output stage.
 * <p>
 * The engine's output stage only enqueues ({@link #send}, {@link #close}) and never touches the observer, which is not
 * thread-safe and may be slow; a drain task on {@code executor} writes to it, one at a time (the {@code wip}
 * counter serialises drains), and only while {@code isReady()}: the client's flow control is respected and the
 * onReady handler resumes the drain. Policy for slow clients: at most {@code maxPending} messages wait; one more
 * cancels the engine request and ends the stream with RESOURCE_EXHAUSTED, so a stalled reader cannot hold KV
 * blocks or memory. Client cancellation (or a passed deadline, which grpc-java turns into a cancel) cancels the
 * engine request.
 */
public final class ResponseStream<T> {
    private final ServerCallStreamObserver<T> observer;
    private final Executor executor;
    private final int maxPending;
    private final Queue<T> pending = new ConcurrentLinkedQueue<>();
    private final AtomicInteger pendingCount = new AtomicInteger();
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicReference<Status> end = new AtomicReference<>();
    private final AtomicReference<RequestHandle> handle = new AtomicReference<>();
    private volatile boolean cancelled;
    private boolean closed; // drain task only

    /** Must be called on the RPC's own thread, before the method returns (grpc-java's rule for these handlers). */
    public ResponseStream(ServerCallStreamObserver<T> observer, Executor executor, int maxPending) {
        this.observer = observer;
        this.executor = executor;
        this.maxPending = maxPending;
        observer.setOnCancelHandler(this::onClientCancel);
        observer.setOnReadyHandler(this::drain);
    }

    /**
     * Binds the engine request; cancels it at once if the client went away during submit, or if the stream already
     * ended (e.g. the slow-reader limit tripped before this call): nobody would read its output.
     */
    public void bind(RequestHandle h) {
        handle.set(h);
        if (cancelled || end.get() != null) {
            h.cancel();
        }
    }

    /** Queues a message; past {@code maxPending} undelivered ones the request is cancelled instead. */
    public void send(T message) {
        if (end.get() != null || cancelled) {
            return;
        }
        if (pendingCount.incrementAndGet() > maxPending) {
            close(Status.RESOURCE_EXHAUSTED.withDescription("the client read too slowly: " + maxPending
                    + " response messages were waiting; the request was cancelled"));
            cancelEngineRequest();
            return;
        }
        pending.add(message);
        drain();
    }

    /** Ends the stream after the queued messages: OK completes it, anything else is its error. First call wins. */
    public void close(Status status) {
        if (end.compareAndSet(null, status)) {
            drain();
        }
    }

    public boolean isCancelled() {
        return cancelled;
    }

    private void onClientCancel() {
        cancelled = true;
        cancelEngineRequest();
    }

    private void cancelEngineRequest() {
        RequestHandle h = handle.get();
        if (h != null) {
            h.cancel();
        }
    }

    private void drain() {
        if (wip.getAndIncrement() == 0) {
            executor.execute(this::drainLoop);
        }
    }

    private void drainLoop() {
        int missed = 1;
        while (true) {
            drainOnce();
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }

    private void drainOnce() {
        if (closed) {
            return;
        }
        if (cancelled) {
            closed = true; // nothing can reach a cancelled call
            pending.clear();
            return;
        }
        Status status = end.get();
        boolean error = status != null && !status.isOk();
        if (!error || status.getCode() != Status.Code.RESOURCE_EXHAUSTED) {
            // an engine error still delivers what came before it; only a too-slow client loses its backlog
            T message;
            while (observer.isReady() && (message = pending.poll()) != null) {
                pendingCount.decrementAndGet();
                observer.onNext(message);
            }
        }
        status = end.get();
        if (status != null && (pending.isEmpty() || status.getCode() == Status.Code.RESOURCE_EXHAUSTED)) {
            closed = true;
            pending.clear();
            if (status.isOk()) {
                observer.onCompleted();
            } else {
                observer.onError(status.asRuntimeException());
            }
        }
    }
}
