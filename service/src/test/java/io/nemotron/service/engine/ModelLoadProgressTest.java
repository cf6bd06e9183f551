package io.nemotron.service.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.demo.DemoModel;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.LoadProgress;
import io.nemotron.core.weights.SafetensorsReader;
import io.nemotron.core.weights.Tensor;
import io.nemotron.service.config.NemotronProperties;
import io.nemotron.service.metrics.ModelLoadMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.springframework.util.unit.DataSize;

/**
 * Issue 19, must-show 5: the server's own load (ModelHost, the real engine, the demo model on the CPU) made to take
 * seconds by a throttle on its bytes (a sleep per byte packed, on the loading thread), watched from outside: the
 * progress lines appear in the log every interval, the load gauges move in a Prometheus scrape, and health says
 * NOT_SERVING all the while; at the end the gauges hold the whole load and its time, frozen, and health says SERVING.
 */
class ModelLoadProgressTest {
    private static final long SLEEP_NANOS_PER_BYTE = 100;   // 0.1 s a MB: the demo's matrices take seconds
    private static final Pattern GAUGE = Pattern.compile("(?m)^(nemotron_model_load_\\w+) (\\S+)$");
    private static final String PERCENT = "\\(([1-9]|[1-9][0-9])%\\)";   // part-way: 1 to 99 %

    /** Bytes the CPU packs, from the checkpoint itself: every 2-D BF16 tensor but an untied embedding. */
    private static long packedBytes(Path dir) {
        boolean tied = ModelConfigLoader.load(dir).tieWordEmbeddings();
        long bytes = 0;
        try (SafetensorsReader r = SafetensorsReader.open(dir)) {
            for (String name : r.names()) {
                Tensor t = r.tensor(name);
                boolean multiplied = tied ? !name.equals("lm_head.weight") : !name.equals("model.embed_tokens.weight");
                if (t.dtype() == DType.BF16 && t.shape().length == 2 && multiplied) {
                    bytes += t.numel() * 2;
                }
            }
        }
        return bytes;
    }

    private static double gauge(String scrape, String name) {
        Matcher m = GAUGE.matcher(scrape);
        while (m.find()) {
            if (m.group(1).equals(name)) {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError(name + " is not in the scrape:\n" + scrape);
    }

    @Test
    void aSlowLoadShowsProgressInTheLogAndTheMetricsWhileHealthSaysNotServing(@TempDir Path cache) throws Exception {
        Path dir = DemoModel.ensure(cache);
        long expected = packedBytes(dir);
        assertThat(expected).isGreaterThan(20_000_000L);   // the throttle then holds the load for over 2 s
        var props = new NemotronProperties(
                new NemotronProperties.Model(dir.toString(), "cpu", 1, Duration.ofMinutes(2), 1, null, null,
                        Duration.ofMillis(250)),
                new NemotronProperties.Engine(256, 4, 16, 16, 0, DataSize.ofMegabytes(16), true),
                new NemotronProperties.Grpc(DataSize.ofMegabytes(4), 64));
        HealthStatusManager health = new HealthStatusManager();
        String name = "load-progress-" + UUID.randomUUID();
        Server server = InProcessServerBuilder.forName(name).addService(health.getHealthService()).build().start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        var healthStub = HealthGrpc.newBlockingStub(channel);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        Logger logger = (Logger) LoggerFactory.getLogger(ModelHost.class);
        logger.addAppender(logs);
        logs.start();
        ModelHost host = new ModelHost(props, new DefaultEngineFactory(), health,
                model -> LoadProgress.start(model, System::nanoTime,
                        bytes -> LockSupport.parkNanos(bytes * SLEEP_NANOS_PER_BYTE)));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new ModelLoadMetrics(host::loadProgress).bindTo(registry);
        // under a GB, sizes and rate show in MB
        String loading = "loading " + Pattern.quote(dir.toString()) + ": [0-9.]+ of [0-9.]+ MB " + PERCENT
                + ", [0-9.]+ MB/s, ETA [0-9]+s";
        try {
            host.start();
            // mid-load: a progress line part-way, gauges part-way, and health NOT_SERVING at that moment
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
                String scrape = registry.scrape();
                double done = gauge(scrape, "nemotron_model_load_bytes");
                assertThat(done).isGreaterThan(0).isLessThan(expected);
                assertThat(gauge(scrape, "nemotron_model_load_total_bytes")).isEqualTo((double) expected);
                assertThat(gauge(scrape, "nemotron_model_load_seconds")).isGreaterThan(0);
                assertThat(messages(logs)).anyMatch(l -> l.matches(loading));
                assertThat(healthStub.check(HealthCheckRequest.getDefaultInstance()).getStatus())
                        .isEqualTo(ServingStatus.NOT_SERVING);
            });
            assertThat(host.loaded().isDone()).isFalse();

            host.loaded().get(2, TimeUnit.MINUTES);
            // health turns SERVING just after the future completes (ModelHost completes it, then refreshes health)
            await().atMost(Duration.ofSeconds(5)).until(() -> healthStub.check(HealthCheckRequest.getDefaultInstance())
                    .getStatus() == ServingStatus.SERVING);
            await().atMost(Duration.ofSeconds(5)).until(() -> messages(logs).stream()
                    .anyMatch(l -> l.startsWith("loaded " + dir + ": ")));
            long progressLines = messages(logs).stream().filter(l -> l.matches(loading)).count();
            // seconds of throttled packing at 250 ms a line: a few of them, whatever the machine
            assertThat(progressLines).isGreaterThanOrEqualTo(4);
            String end = registry.scrape();
            assertThat(gauge(end, "nemotron_model_load_bytes")).isEqualTo((double) expected);
            double seconds = gauge(end, "nemotron_model_load_seconds");
            // at least the sleeps: expected bytes × 100 ns
            assertThat(seconds).isGreaterThanOrEqualTo(expected * SLEEP_NANOS_PER_BYTE / 1e9);
            Thread.sleep(300);
            assertThat(gauge(registry.scrape(), "nemotron_model_load_seconds")).isEqualTo(seconds);   // frozen
        } finally {
            host.stop();
            logger.detachAppender(logs);
            channel.shutdownNow();
            server.shutdownNow();
        }
    }

    private static List<String> messages(ListAppender<ILoggingEvent> logs) {
        return List.copyOf(logs.list).stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
}
