package io.nemotron.core.engine;

import io.nemotron.core.sampling.SampledLogprobs;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request's output side: the step thread appends events (never blocking: the queue holds at most max_tokens
 * tokens and one end), and the {@link OutputStage} drains them in order, one drain at a time, through the
 * request's {@link SequenceText} (detokenizer, stop strings) to its listener.
 *
 * <p>The listener hears tokens, then exactly one {@code onFinished} or {@code onError}, never two calls at once.
 * The first end wins: a stop string found here ends the request and asks the step thread to drop the sequence
 * ({@code dropSequence}); tokens the step thread sampled meanwhile, and its later end, are not delivered.
 */
final class RequestOutput {
    private static final Logger LOG = LoggerFactory.getLogger(RequestOutput.class);

    private sealed interface Event permits Token, Finished, Failed {}

    /** {@code numOutputTokens} and {@code numCachedTokens}: the sequence's counts when the token was appended. */
    private record Token(int token, SampledLogprobs logprobs, StopReason stop, int numOutputTokens,
                         int numCachedTokens) implements Event {}

    private record Finished(FinishReason reason, RequestStats stats) implements Event {}

    private record Failed(Throwable error, RequestStats stats) implements Event {}

    private final String requestId;
    private final EngineListener listener;
    private final SequenceText text;
    private final RequestState times;
    private final Runnable dropSequence;
    private final OutputStage stage;
    private final ConcurrentLinkedQueue<Event> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    // NOTE: touched only by drain(), which never runs twice at once; the AtomicBoolean hand-over orders the drains
    private boolean ended;

    RequestOutput(String requestId, EngineListener listener, SequenceText text, RequestState times,
                  Runnable dropSequence, OutputStage stage) {
        this.requestId = requestId;
        this.listener = listener;
        this.text = text;
        this.times = times;
        this.dropSequence = dropSequence;
        this.stage = stage;
    }

    /**
     * Step thread: queues a sampled token and its token-level stop (null while the sequence goes on). Starts no drain:
     * returns true when the caller must have {@link #drain} run (the step hands all of those over at once, see
     * {@link OutputStage#drainAll}).
     */
    boolean offerToken(int token, SampledLogprobs logprobs, StopReason stop, int numOutputTokens, int numCachedTokens) {
        queue.add(new Token(token, logprobs, stop, numOutputTokens, numCachedTokens));
        return draining.compareAndSet(false, true);
    }

    /** Step thread: the request ended without a token-level stop (cancelled, expired). */
    void finished(FinishReason reason, RequestStats stats) {
        enqueue(new Finished(reason, stats));
    }

    /** Step thread: the request failed. */
    void failed(Throwable error, RequestStats stats) {
        enqueue(new Failed(error, stats));
    }

    private void enqueue(Event event) {
        queue.add(event);
        if (draining.compareAndSet(false, true)) {
            stage.execute(this::drain);
        }
    }

    /** Delivers the queued events; run by the output stage only, after an offer or enqueue asked for it. */
    void drain() {
        do {
            Event event;
            while ((event = queue.poll()) != null) {
                if (!ended) {
                    deliver(event);
                }
            }
            draining.set(false);
            // an event added after the poll saw an empty queue but before the flag dropped found draining set and
            // started nothing: take it here
        } while (!queue.isEmpty() && draining.compareAndSet(false, true));
    }

    private void deliver(Event event) {
        switch (event) {
            case Token t -> deliverToken(t);
            case Finished f -> end(f.reason(), "", f.stats());
            case Failed f -> {
                ended = true;
                try {
                    listener.onError(f.error(), f.stats());
                } catch (RuntimeException e) {
                    LOG.warn("listener of {} failed on error", requestId, e);
                }
            }
        }
    }

    private void deliverToken(Token t) {
        SequenceText.Step step;
        try {
            step = text.accept(t.token(), t.stop());
        } catch (RuntimeException e) {
            // the detokenizer or a stop check failed: this request's output can no longer be trusted
            LOG.error("output of {} failed on token {}", requestId, t.token(), e);
            failHere(new EngineStepException("output processing failed: " + e, e), t);
            return;
        }
        try {
            listener.onToken(t.token(), step.text(), t.logprobs());
        } catch (RuntimeException e) {
            LOG.warn("listener of {} failed on a token; cancelling it", requestId, e);
            end(FinishReason.CANCELLED, "", stats(t));
            dropIfRunning(t);
            return;
        }
        if (step.finished() != null) {
            end(FinishReason.of(step.finished()), step.finalText(), stats(t));
            if (step.byStopString()) {
                dropIfRunning(t);
            }
        }
    }

    /** Ends the request here; the step thread learns of it through dropSequence unless it ended the sequence itself. */
    private void failHere(Throwable error, Token t) {
        ended = true;
        try {
            listener.onError(error, stats(t));
        } catch (RuntimeException e) {
            LOG.warn("listener of {} failed on error", requestId, e);
        }
        dropIfRunning(t);
    }

    private void dropIfRunning(Token t) {
        if (t.stop() == null) {   // with a token-level stop the scheduler already finished the sequence
            dropSequence.run();
        }
    }

    private void end(FinishReason reason, String finalText, RequestStats stats) {
        ended = true;
        try {
            listener.onFinished(reason, finalText == null ? "" : finalText, stats);
        } catch (RuntimeException e) {
            LOG.warn("listener of {} failed on finish", requestId, e);
        }
    }

    private RequestStats stats(Token t) {
        return times.stats(System.nanoTime(), t.numOutputTokens(), t.numCachedTokens());
    }
}
