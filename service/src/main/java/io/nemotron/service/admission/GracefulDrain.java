package io.nemotron.service.admission;

import io.nemotron.service.engine.ModelHost;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextClosedEvent;

/**
 * The drain on shutdown (SIGTERM closes the context): health NOT_SERVING and new calls UNAVAILABLE at once; streams
 * in flight get up to {@code nemotron.drain.grace-period} to finish; the rest are ended with UNAVAILABLE by closing
 * the engine (every live request fails with EngineClosedException, which the streams map to UNAVAILABLE), and
 * their last messages get a moment to flush. Runs on ContextClosedEvent, which comes before any lifecycle bean
 * stops, so the gRPC server is still there to finish the streams.
 */
public final class GracefulDrain implements ApplicationListener<ContextClosedEvent> {
    private static final Logger log = LoggerFactory.getLogger(GracefulDrain.class);
    private static final Duration FLUSH = Duration.ofSeconds(5);

    private final ModelHost host;
    private final ActiveStreams active;
    private final Duration gracePeriod;

    public GracefulDrain(ModelHost host, ActiveStreams active, Duration gracePeriod) {
        this.host = host;
        this.active = active;
        this.gracePeriod = gracePeriod;
    }

    @Override
    public void onApplicationEvent(ContextClosedEvent event) {
        if (host.isDraining()) {
            return; // a second close
        }
        host.beginDrain();
        int open = active.open();
        log.info("draining: {} streams in flight, grace period {}", open, gracePeriod);
        try {
            if (active.awaitIdle(gracePeriod)) {
                log.info("drained: every stream finished");
                return;
            }
            log.warn("grace period over: ending {} streams with UNAVAILABLE", active.open());
            host.loaded().thenAccept(m -> m.engine().close());
            if (!active.awaitIdle(FLUSH)) {
                log.warn("{} streams still open after the flush allowance; the server's shutdown ends them",
                        active.open());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
