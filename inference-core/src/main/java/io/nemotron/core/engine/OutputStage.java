package io.nemotron.core.engine;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's output stage: the threads that run every {@link EngineListener} call, detokenizing and stop strings,
 * so the step thread only schedules, runs the forward pass, samples and hands ids over (STYLE point 5: owned threads).
 *
 * <p>One virtual thread per burst of one request's events ({@link RequestOutput} keeps them serial): a listener
 * that blocks (a slow client's stream) holds only its own request's thread, never another request's output and
 * never the step thread. Owned by the engine, which closes it after the step thread has handed over its last events.
 */
final class OutputStage implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OutputStage.class);
    private static final long CLOSE_WAIT_SECONDS = 30;

    private final ExecutorService executor =
            Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("nemotron-output-", 0).factory());

    /** Runs {@code drain} on the output stage; after close (nothing should arrive then) on the caller's thread. */
    void execute(Runnable drain) {
        try {
            executor.execute(drain);
        } catch (RejectedExecutionException e) {
            drain.run();   // events are never dropped: late ones are delivered where they come from
        }
    }

    /**
     * Runs the drains of a step's requests: one hand-over from the step thread whatever their number (starting a
     * thread per request there would cost the step thread a wake-up each); the first drain runs on the dispatching
     * thread, the others each on their own.
     */
    void drainAll(List<RequestOutput> outputs) {
        if (outputs.isEmpty()) {
            return;
        }
        execute(() -> {
            for (int i = 1; i < outputs.size(); i++) {
                execute(outputs.get(i)::drain);
            }
            outputs.get(0).drain();
        });
    }

    /** Waits for the events already handed over to be delivered (a listener blocked for good is given up on). */
    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                LOG.warn("output stage: listeners still busy after {} s; interrupting them", CLOSE_WAIT_SECONDS);
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
