package io.nemotron.service.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.nemotron.api.v1.GetModelInfoRequest;
import io.nemotron.api.v1.ModelInfo;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.service.engine.ModelHost;
import io.nemotron.service.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Must-show 5 over a real loopback port with grpc-java's Netty transport (the one Spring gRPC serves with):
 * without a key UNAUTHENTICATED; with TLS on a plaintext client fails, a TLS client succeeds, and with
 * {@code client-auth=REQUIRE} only a client holding a certificate from the trusted CA gets in.
 * Runs in the {@code slow} profile through failsafe.
 */
class SecurityIT {
    private static final String KEY = "alpha-key-0123456789";   // sha256 c0dcc758...
    private final List<ManagedChannel> channels = new ArrayList<>();

    @TempDir
    Path tmp;

    @AfterEach
    void closeChannels() {
        channels.forEach(ManagedChannel::shutdownNow);
    }

    private ManagedChannel plaintext(TestServer server) {
        return track(NettyChannelBuilder.forAddress("127.0.0.1", server.port).usePlaintext().build());
    }

    private ManagedChannel tls(TestServer server, ChannelCredentials credentials) {
        return track(NettyChannelBuilder.forAddress("127.0.0.1", server.port, credentials).build());
    }

    private ManagedChannel track(ManagedChannel channel) {
        channels.add(channel);
        return channel;
    }

    private static ModelInfo modelInfo(ManagedChannel channel, String authorization) {
        var stub = NemotronGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
        if (authorization != null) {
            Metadata headers = new Metadata();
            headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), authorization);
            stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        return stub.getModelInfo(GetModelInfoRequest.getDefaultInstance());
    }

    private static ModelInfo modelInfo(ManagedChannel channel) {
        return modelInfo(channel, null);
    }

    private static void assertFails(Runnable call, Status.Code code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code));
    }

    private static TestServer loaded(TestServer server) {
        await().atMost(Duration.ofSeconds(60)).until(() -> server.context.getBean(ModelHost.class).loaded().isDone());
        return server;
    }

    /** stories260K's config.json: max_position_embeddings 512. */
    private static void assertServed(ModelInfo info) {
        assertThat(info.getContextLength()).isEqualTo(512);
    }

    private static String[] pemBundle(TestPki pki, String clientAuth) {
        return new String[] {
                "--spring.ssl.bundle.pem.grpc.keystore.certificate=file:" + pki.serverCert(),
                "--spring.ssl.bundle.pem.grpc.keystore.private-key=file:" + pki.serverKey(),
                "--spring.ssl.bundle.pem.grpc.truststore.certificate=file:" + pki.caCert(),
                "--spring.grpc.server.ssl.bundle=grpc",
                "--spring.grpc.server.ssl.client-auth=" + clientAuth};
    }

    @Test
    void withoutTheRightKeyUnauthenticatedAndHealthStaysOpen() {
        try (TestServer server = loaded(TestServer.loopback("--nemotron.security.api-keys=" + KEY))) {
            ManagedChannel channel = plaintext(server);

            assertFails(() -> modelInfo(channel), Status.Code.UNAUTHENTICATED);
            assertFails(() -> modelInfo(channel, "Bearer wrong-key-0123456789"), Status.Code.UNAUTHENTICATED);
            assertServed(modelInfo(channel, "Bearer " + KEY));
            assertThat(HealthGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus()).isEqualTo(ServingStatus.SERVING);
        }
    }

    @Test
    void withTlsOnPlaintextFailsAndATlsClientTrustingTheCaSucceeds() throws Exception {
        TestPki pki = TestPki.create(tmp);
        try (TestServer server = loaded(TestServer.loopback(pemBundle(pki, "NONE")))) {
            assertFails(() -> modelInfo(plaintext(server)), Status.Code.UNAVAILABLE);
            // the JDK's default trust store does not know the test CA: the server's certificate is really checked
            assertFails(() -> modelInfo(tls(server, TlsChannelCredentials.create())), Status.Code.UNAVAILABLE);

            assertServed(modelInfo(tls(server, TlsChannelCredentials.newBuilder()
                    .trustManager(pki.caCert().toFile()).build())));
        }
    }

    /** The HTTP API shares the gRPC port's TLS ({@code HttpTls}): plaintext HTTP fails, HTTPS trusting the CA works. */
    @Test
    void theHttpApiSharesTheGrpcPortsTls() throws Exception {
        TestPki pki = TestPki.create(tmp);
        try (TestServer server = loaded(TestServer.loopback(pemBundle(pki, "NONE")))) {
            URI https = URI.create("https://127.0.0.1:" + server.httpPort() + "/v1/models");
            HttpRequest get = HttpRequest.newBuilder(https).timeout(Duration.ofSeconds(20)).build();
            try (HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()) {
                HttpRequest plaintext = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort()
                        + "/v1/models")).timeout(Duration.ofSeconds(20)).build();
                // a plaintext request to a TLS port gets no HTTP answer (Tomcat answers 400 in plaintext or closes)
                HttpResponse<String> r = null;
                try {
                    r = plain.send(plaintext, HttpResponse.BodyHandlers.ofString());
                } catch (java.io.IOException expected) {
                    // closed: fine
                }
                assertThat(r == null || r.statusCode() == 400).as("plaintext answered %s", r).isTrue();
                // the JDK's default trust store does not know the test CA
                assertThatThrownBy(() -> plain.send(get, HttpResponse.BodyHandlers.ofString()))
                        .isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
            }
            try (HttpClient trusting = HttpClient.newBuilder().sslContext(trusting(pki.caCert())).build()) {
                HttpResponse<String> r = trusting.send(get, HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                assertThat(r.body()).contains("\"object\":\"list\"");
            }
        }
    }

    /** An SSL context whose only trusted CA is {@code caCert}. */
    private static javax.net.ssl.SSLContext trusting(Path caCert) throws Exception {
        java.security.KeyStore store = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
        store.load(null, null);
        try (var in = java.nio.file.Files.newInputStream(caCert)) {
            store.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(in));
        }
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    @Test
    void withMutualTlsRequiredOnlyAClientCertificateFromTheCaGetsIn() throws Exception {
        TestPki pki = TestPki.create(tmp);
        ChannelCredentials noCertificate = TlsChannelCredentials.newBuilder()
                .trustManager(pki.caCert().toFile()).build();
        ChannelCredentials rogueCertificate = TlsChannelCredentials.newBuilder().trustManager(pki.caCert().toFile())
                .keyManager(pki.rogueCert().toFile(), pki.rogueKey().toFile()).build();
        ChannelCredentials clientCertificate = TlsChannelCredentials.newBuilder().trustManager(pki.caCert().toFile())
                .keyManager(pki.clientCert().toFile(), pki.clientKey().toFile()).build();
        try (TestServer server = loaded(TestServer.loopback(pemBundle(pki, "REQUIRE")))) {
            assertFails(() -> modelInfo(plaintext(server)), Status.Code.UNAVAILABLE);
            assertFails(() -> modelInfo(tls(server, noCertificate)), Status.Code.UNAVAILABLE);
            assertFails(() -> modelInfo(tls(server, rogueCertificate)), Status.Code.UNAVAILABLE);

            assertServed(modelInfo(tls(server, clientCertificate)));
        }
    }
}
