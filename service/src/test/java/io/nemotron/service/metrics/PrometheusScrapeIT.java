package io.nemotron.service.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.nemotron.api.v1.ChatMessage;
import io.nemotron.api.v1.ChatRequest;
import io.nemotron.api.v1.Document;
import io.nemotron.api.v1.GenerateRequest;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.Role;
import io.nemotron.api.v1.Tool;
import io.nemotron.service.testing.TestServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Must-show: the real server (real engine, demo model) scraped by a real Prometheus (Debian's package) on loopback.
 * Every metric the README's table documents is returned by Prometheus's query API, every family the server exposes
 * is in that table (so the README and the exposition cannot drift apart), and {@code promtool check metrics} accepts
 * /actuator/prometheus. Runs in the {@code slow} profile through failsafe.
 */
class PrometheusScrapeIT {
    private static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
    private static final Path PROMTOOL = Path.of("/usr/bin/promtool");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** A row of the README's metrics table: name (backticked), type, labels, meaning. */
    private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\| ([^|]+) \\|");
    private static final Pattern TYPE_LINE = Pattern.compile("^# TYPE (\\S+) (\\S+)$", Pattern.MULTILINE);

    private final HttpClient http = HttpClient.newHttpClient();
    private int prometheusPort;

    @TempDir
    Path tmp;

    record Documented(String name, String type) {
        boolean isPattern() {
            return name.endsWith("*");
        }

        String prefix() {
            return name.substring(0, name.length() - 1);
        }

        /** A family the exposition names (a histogram's _max gauge belongs to the histogram's row). */
        boolean covers(String family) {
            if (isPattern()) {
                return family.startsWith(prefix());
            }
            return family.equals(name) || type.startsWith("histogram") && family.equals(name + "_max");
        }

        /**
         * The query that returns this row's series: their last sample within a minute, so that one scrape that timed
         * out on a busy machine (its staleness markers hide the series from an instant query) cannot hide them.
         */
        String query() {
            String selector;
            if (isPattern()) {
                selector = "{__name__=~\"" + prefix() + ".*\"}"; // prefixes are plain names: no regex characters
            } else {
                selector = type.startsWith("histogram") ? name + "_bucket" : "{__name__=\"" + name + "\"}";
            }
            return lastMinute(selector);
        }
    }

    private static String lastMinute(String selector) {
        return "last_over_time(" + selector + "[1m])";
    }

    @Test
    void prometheusReturnsEveryDocumentedMetricAndPromtoolAcceptsTheExposition() throws Exception {
        assumeTrue(Files.isExecutable(PROMETHEUS) && Files.isExecutable(PROMTOOL),
                "needs Debian's prometheus package (/usr/bin/prometheus, /usr/bin/promtool): apt-get install prometheus"
                        + " (.ci/run installs it)");
        List<Documented> documented = readmeTable();
        assertThat(documented).as("rows of the README's metrics table").hasSizeGreaterThan(30);

        // a (generous) rate limit, so the per-client limiter exists and its Resilience4j rows are exposed too
        try (TestServer server = TestServer.loopbackRealEngine(Files.createDirectories(tmp.resolve("cache")),
                "--nemotron.admission.rate-limit.requests-per-period=100000")) {
            int management = server.managementPort();
            sendRequests(server.port);

            String exposition = get("http://127.0.0.1:" + management + "/actuator/prometheus");
            String gateway = get("http://127.0.0.1:" + management + "/actuator/gie");

            // the README names every exposed family
            Set<String> families = new LinkedHashSet<>();
            families.addAll(families(exposition));
            families.addAll(families(gateway));
            assertThat(families).as("families exposed").contains("nemotron_requests_total", "vllm:kv_cache_usage_perc");
            for (String family : families) {
                assertThat(documented.stream().anyMatch(d -> d.covers(family)))
                        .as("README's metrics table documents %s", family).isTrue();
            }

            // promtool accepts the main exposition; the gateway's only fault is the ':' its names must have
            Run check = run(List.of(PROMTOOL.toString(), "check", "metrics"), exposition);
            assertThat(check.code).as("promtool check metrics on /actuator/prometheus:\n%s", check.out).isZero();
            Run gatewayCheck = run(List.of(PROMTOOL.toString(), "check", "metrics"), gateway);
            assertThat(gatewayCheck.out.lines().filter(l -> !l.isBlank()).toList())
                    .as("promtool on /actuator/gie").isNotEmpty()
                    .allSatisfy(l -> assertThat(l).endsWith("metric names should not contain ':'"));

            Process prometheus = startPrometheus(management);
            try {
                int api = prometheusPort;
                awaitTargetsUp(api, prometheus);
                List<String> checked = new ArrayList<>();
                for (Documented d : documented) {
                    JsonNode result = query(api, d.query());
                    assertThat(result.size()).as("Prometheus has series for %s (%s)", d.name(), d.query()).isPositive();
                    checked.add(d.name());
                }
                assertThat(checked).contains("nemotron_requests_total", "nemotron_time_to_first_token_seconds",
                        "vllm:num_requests_waiting", "vllm:cache_config_info", "jvm_*", "resilience4j_circuitbreaker_*",
                        "resilience4j_bulkhead_*", "resilience4j_ratelimiter_*");
                // the requests above went through: a Chat and a Generate were counted OK
                assertThat(query(api, lastMinute("nemotron_requests_total{method=\"Chat\",code=\"OK\"}")).get(0)
                        .at("/value/1").asString()).isEqualTo("2");
                assertThat(query(api, lastMinute("nemotron_requests_total{method=\"Generate\",code=\"INVALID_ARGUMENT\"}"))
                        .get(0).at("/value/1").asString()).isEqualTo("1");
                assertThat(query(api, lastMinute("nemotron_rag_documents_dropped_total{reason=\"duplicate\"}")).get(0)
                        .at("/value/1").asString()).isEqualTo("1");
            } finally {
                prometheus.destroy();
                if (!prometheus.waitFor(20, TimeUnit.SECONDS)) {
                    prometheus.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** A Generate, a Chat with tools, a Chat whose second document repeats the first, and a refused Generate. */
    private static void sendRequests(int port) {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        try {
            var stub = NemotronGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS);
            stub.generate(GenerateRequest.newBuilder().setText("Once upon a time").setMaxTokens(8).build())
                    .forEachRemaining(r -> {});
            var weather = Tool.newBuilder().setName("get_weather").setDescription("Weather of a city");
            stub.chat(ChatRequest.newBuilder()
                    .addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent("Weather in Paris?"))
                    .addTools(weather).setMaxTokens(8).build()).forEachRemaining(r -> {});
            stub.chat(ChatRequest.newBuilder()
                    .addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent("Where is the cat?"))
                    .addDocuments(Document.newBuilder().setId("a").setText("The cat sat on the warm mat all day."))
                    .addDocuments(Document.newBuilder().setId("b").setText("The cat sat on the warm mat all day."))
                    .setMaxTokens(8).build()).forEachRemaining(r -> {});
            try {
                stub.generate(GenerateRequest.newBuilder().setText("").build()).forEachRemaining(r -> {});
            } catch (StatusRuntimeException expected) {
                // INVALID_ARGUMENT: counted by code
            }
        } finally {
            channel.shutdownNow();
        }
    }

    private Process startPrometheus(int managementPort) throws IOException {
        prometheusPort = freePort();
        String target = "127.0.0.1:" + managementPort;
        Path config = tmp.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                scrape_configs:
                  - job_name: nemotron
                    metrics_path: /actuator/prometheus
                    static_configs:
                      - targets: ["%s"]
                  - job_name: gie
                    metrics_path: /actuator/gie
                    static_configs:
                      - targets: ["%s"]
                """.formatted(target, target));
        return new ProcessBuilder(PROMETHEUS.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + Files.createDirectories(tmp.resolve("tsdb")),
                "--web.listen-address=127.0.0.1:" + prometheusPort)
                .redirectErrorStream(true).redirectOutput(tmp.resolve("prometheus.log").toFile()).start();
    }

    /** Both jobs scraped successfully at least once (up == 1), within 60 s. */
    private void awaitTargetsUp(int api, Process prometheus) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < until) {
            assertThat(prometheus.isAlive()).as("prometheus is running:\n%s", log()).isTrue();
            try {
                JsonNode up = query(api, "up == 1");
                if (up.size() == 2) {
                    return;
                }
            } catch (IOException notYet) {
                // the API is not listening yet
            }
            Thread.sleep(250);
        }
        throw new AssertionError("the scrape targets did not come up:\n" + log());
    }

    private String log() throws IOException {
        return Files.readString(tmp.resolve("prometheus.log"));
    }

    /** The result vector of an instant query. */
    private JsonNode query(int api, String promql) throws IOException, InterruptedException {
        String body = get("http://127.0.0.1:" + api + "/api/v1/query?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        JsonNode json = JSON.readTree(body);
        assertThat(json.get("status").asString()).as("query %s: %s", promql, body).isEqualTo("success");
        return json.at("/data/result");
    }

    private String get(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET %s", url).isEqualTo(200);
        return r.body();
    }

    /** The rows of the table in the README's "### Metrics" section. */
    private static List<Documented> readmeTable() throws IOException {
        Path readme = Path.of(System.getProperty("nemotron.root.dir", "..")).toAbsolutePath().normalize()
                .resolve("README.md");
        String text = Files.readString(readme);
        int start = text.indexOf("\n### Metrics\n");
        assertThat(start).as("README.md has a ### Metrics section").isNotNegative();
        int end = text.indexOf("\n#", start + 1);
        List<Documented> rows = new ArrayList<>();
        for (String line : text.substring(start, end < 0 ? text.length() : end).split("\n")) {
            Matcher m = ROW.matcher(line);
            if (m.find()) {
                rows.add(new Documented(m.group(1), m.group(2).trim()));
            }
        }
        return rows;
    }

    private static Set<String> families(String exposition) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = TYPE_LINE.matcher(exposition);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    record Run(int code, String out) {}

    private static Run run(List<String> command, String stdin) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
        return new Run(p.exitValue(), out);
    }
}
