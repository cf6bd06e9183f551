package io.nemotron.service.testing;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.service.NemotronServer;
import io.nemotron.service.engine.EngineFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.grpc.server.lifecycle.GrpcServerStartedEvent;

/**
 * The real Spring application with a {@link FakeEngine} over the stories260K checkpoint (real config and
 * tokenizer): in-process transport by default, or a loopback port for out-of-process clients.
 */
public final class TestServer implements AutoCloseable {
    public final ConfigurableApplicationContext context;
    public final ManagedChannel channel;
    public final int port;
    private final CountDownLatch gate;

    private TestServer(ConfigurableApplicationContext context, ManagedChannel channel, int port, CountDownLatch gate) {
        this.context = context;
        this.channel = channel;
        this.port = port;
        this.gate = gate;
    }

    /** In-process; {@code open} false holds every engine request (the warm-up too) until {@link #openGate()}. */
    public static TestServer inProcess(boolean open, String... extraProperties) {
        String name = "nemotron-test-" + UUID.randomUUID();
        // Spring gRPC also starts its Netty server beside the in-process one: keep it off the shared port 50051
        List<String> args = new ArrayList<>(List.of("--spring.grpc.server.inprocess.name=" + name,
                "--spring.grpc.server.port=0", "--spring.grpc.server.host=127.0.0.1"));
        args.addAll(List.of(extraProperties));
        return start(open, args, InProcessChannelBuilder.forName(name).directExecutor().build());
    }

    /** On a free loopback port (the Python client's way in), with extra {@code --name=value} properties. */
    public static TestServer loopback(String... extraProperties) {
        List<String> args = new ArrayList<>(List.of("--spring.grpc.server.port=0",
                "--spring.grpc.server.host=127.0.0.1"));
        args.addAll(List.of(extraProperties));
        return start(true, args, null);
    }

    /**
     * The production wiring end to end: the real continuous-batching engine over the embedded demo model (written
     * into {@code cacheDir}), on a free loopback port.
     */
    public static TestServer loopbackRealEngine(Path cacheDir, String... extraProperties) {
        System.setProperty("nemotron.cache.dir", cacheDir.toString());
        AtomicReference<Integer> port = new AtomicReference<>(-1);
        ConfigurableApplicationContext context = new SpringApplicationBuilder(NemotronServer.class)
                .listeners(e -> {
                    if (e instanceof GrpcServerStartedEvent s) {
                        port.set(s.getPort());
                    }
                })
                .run(Stream.concat(Stream.of("--nemotron.model.path=demo",
                        "--spring.grpc.server.port=0", "--spring.grpc.server.host=127.0.0.1", "--management.server.port=0",
                        "--server.port=0", "--server.address=127.0.0.1"),
                        Stream.of(extraProperties)).toArray(String[]::new));
        try {
            // loading and the warm-up run in the background: clients start once health would say SERVING
            context.getBean(io.nemotron.service.engine.ModelHost.class).loaded().get(2, java.util.concurrent.TimeUnit.MINUTES);
        } catch (Exception e) {
            context.close();
            throw new IllegalStateException("the demo model did not load", e);
        }
        return new TestServer(context, null, port.get(), new CountDownLatch(0));
    }

    private static TestServer start(boolean open, List<String> extra, ManagedChannel channel) {
        CountDownLatch gate = new CountDownLatch(open ? 0 : 1);
        // management port 0: tests run beside each other and beside a real server on 9090
        List<String> args = new ArrayList<>(List.of("--nemotron.model.path=" + stories260k(), "--nemotron.model.threads=1",
                "--management.server.port=0", "--server.port=0", "--server.address=127.0.0.1"));
        args.addAll(extra);
        AtomicReference<Integer> port = new AtomicReference<>(-1);
        ConfigurableApplicationContext context = new SpringApplicationBuilder(NemotronServer.class, FakeEngineBeans.class)
                .initializers(ctx -> ctx.getBeanFactory().registerSingleton("fakeEngineGate", gate))
                .listeners(e -> {
                    if (e instanceof GrpcServerStartedEvent s) {
                        port.set(s.getPort());
                    }
                })
                .run(args.toArray(String[]::new));
        return new TestServer(context, channel, port.get(), gate);
    }

    /** The actuator's HTTP port (the management server listens on loopback ports chosen at start). */
    public int managementPort() {
        return Integer.parseInt(context.getEnvironment().getRequiredProperty("local.management.port"));
    }

    /** The HTTP API's port (the main web server listens on a loopback port chosen at start). */
    public int httpPort() {
        return Integer.parseInt(context.getEnvironment().getRequiredProperty("local.server.port"));
    }

    public FakeEngine engine() {
        return context.getBean(FakeEngineBeans.class).engine.get();
    }

    public void openGate() {
        gate.countDown();
    }

    public static Path stories260k() {
        String prop = System.getProperty("nemotron.reference.dir");
        Path base = prop != null ? Path.of(prop) : Path.of("../../shared/reference");
        if (!Files.isDirectory(base)) {
            base = Path.of("../shared/reference");
        }
        return base.resolve("stories260k/hf").toAbsolutePath().normalize();
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.shutdownNow();
        }
        context.close();
    }

    /** Not a @Configuration, so component scanning of io.nemotron.service never picks it up. */
    public static class FakeEngineBeans {
        final AtomicReference<FakeEngine> engine = new AtomicReference<>();

        @Bean
        @org.springframework.context.annotation.Primary   // wins over the production DefaultEngineFactory
        EngineFactory fakeEngineFactory(CountDownLatch fakeEngineGate) {
            return (LoadedModel model, io.nemotron.core.engine.EngineConfig config) -> {
                FakeEngine e = new FakeEngine(model.tokenizer(), fakeEngineGate);
                engine.set(e);
                return e;
            };
        }
    }
}
