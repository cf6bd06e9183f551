package io.nemotron.service.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.yaml.snakeyaml.Yaml;

/**
 * Renders {@code helm/nemotron-serve} in-process with helm-java (the real helm library) for the three values files
 * in its {@code ci/} folder and checks the manifests' key fields against values worked out by hand from the issue
 * (8 GPUs, ports 50051/9090, uid 10001, a 60-minute startup allowance, the TLS and API-key file paths).
 */
public class HelmChartTest {

    private static final Path CHART = Path.of("../helm/nemotron-serve").toAbsolutePath().normalize();
    /** The chart's defaults as they are (an empty overlay of values.yaml); CudaEmulatorIT serves with them too. */
    public static final Path DEFAULT_VALUES = CHART.resolve("ci/default-values.yaml");
    private static final Path TLS_VALUES = CHART.resolve("ci/tls-values.yaml");
    private static final Path CPU_VALUES = CHART.resolve("ci/cpu-values.yaml");
    private static final String RELEASE = "ultra";
    private static final String FULLNAME = "ultra-nemotron-serve";

    // ---- lint ----------------------------------------------------------------------------------------------

    /**
     * helm-java's lint reads only the chart's values.yaml, so each ci/ file is linted as a copy of the chart whose
     * values.yaml is the defaults overlaid with that file (helm's own rule: maps merge, everything else replaces).
     */
    @ParameterizedTest
    @ValueSource(strings = {"default-values.yaml", "tls-values.yaml", "cpu-values.yaml"})
    void lintStrictPasses(String valuesFile, @TempDir Path tmp) throws IOException {
        Path chart = copyChart(tmp.resolve("nemotron-serve"));
        Map<String, Object> values = merge(loadYaml(CHART.resolve("values.yaml")), loadYaml(CHART.resolve("ci/" + valuesFile)));
        Files.writeString(chart.resolve("values.yaml"), new Yaml().dump(values));

        LintResult result = new Helm(chart).lint().strict().call();

        assertThat(result.isFailed()).as("helm lint --strict: %s", result.getMessages()).isFalse();
        assertThat(result.getMessages()).noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]"));
    }

    // ---- default values: Ultra-253B on 8 GPUs ----------------------------------------------------------------

    @Test
    void defaultValuesServeTheModelOnEightGpus() {
        Rendered r = render(DEFAULT_VALUES);
        Map<String, Object> pod = r.podSpec();
        Map<String, Object> container = r.container();

        assertThat(list(container.get("args"))).containsExactly(
                "--model", "/models/current", "--backend", "cuda", "--tensor-parallel", "8",
                "--port", "50051", "--http-port", "8000", "--management-port", "9090", "--config",
                "/etc/nemotron/config/application.yaml");
        assertThat(at(container, "resources", "limits", "nvidia.com/gpu")).isEqualTo(8);
        assertThat(at(container, "resources", "limits", "memory")).isEqualTo("256Gi");
        assertThat(at(r.one("Deployment"), "spec", "replicas")).isEqualTo(1);
        assertThat(list(pod.get("tolerations"))).containsExactly(
                Map.of("key", "nvidia.com/gpu", "operator", "Exists", "effect", "NoSchedule"));
        assertThat(pod).doesNotContainKey("runtimeClassName");

        // the model: the PVC, read-only, where --model points
        assertThat(volume(pod, "model").get("persistentVolumeClaim"))
                .isEqualTo(Map.of("claimName", "nemotron-models", "readOnly", true));
        assertThat(mount(container, "model")).containsEntry("mountPath", "/models/current").containsEntry("readOnly", true);
    }

    @Test
    void kvCacheDtypeIsPassedOnlyWhenSet() {
        assertThat(render(DEFAULT_VALUES).args()).doesNotContain("--kv-cache-dtype");
        assertThat(render(DEFAULT_VALUES, "kvCacheDtype", "fp8").args()).containsSequence("--kv-cache-dtype", "fp8");
    }

    @Test
    void sharedMemoryIsMemoryBackedAndScratchIsWritable() {
        Rendered r = render(DEFAULT_VALUES);
        Map<String, Object> pod = r.podSpec();
        Map<String, Object> container = r.container();

        assertThat(mount(container, "dshm").get("mountPath")).isEqualTo("/dev/shm");
        assertThat(volume(pod, "dshm").get("emptyDir")).isEqualTo(Map.of("medium", "Memory", "sizeLimit", "16Gi"));
        assertThat(mount(container, "tmp").get("mountPath")).isEqualTo("/tmp");
        assertThat(volume(pod, "tmp")).containsKey("emptyDir");
        // the demo model is written to NEMOTRON_CACHE_DIR: it must be a writable volume
        assertThat(env(container, "NEMOTRON_CACHE_DIR")).isEqualTo("/var/cache/nemotron");
        assertThat(mount(container, "cache").get("mountPath")).isEqualTo("/var/cache/nemotron");
        assertThat(volume(pod, "cache")).containsKey("emptyDir");
    }

    @Test
    void runsAsNonRootWithReadOnlyRootFilesystem() {
        for (Path values : List.of(DEFAULT_VALUES, TLS_VALUES, CPU_VALUES)) {
            Rendered r = render(values);
            Map<String, Object> podSecurity = map(r.podSpec().get("securityContext"));
            Map<String, Object> security = map(r.container().get("securityContext"));

            assertThat(podSecurity).as("%s", values.getFileName())
                    .containsEntry("runAsNonRoot", true)
                    .containsEntry("runAsUser", 10001)
                    .containsEntry("runAsGroup", 10001)
                    .containsEntry("seccompProfile", Map.of("type", "RuntimeDefault"));
            assertThat(security).as("%s", values.getFileName())
                    .containsEntry("readOnlyRootFilesystem", true)
                    .containsEntry("allowPrivilegeEscalation", false)
                    .containsEntry("capabilities", Map.of("drop", List.of("ALL")));
            assertThat(r.podSpec()).containsEntry("automountServiceAccountToken", false);
        }
    }

    @Test
    void probesAskGrpcHealthWithAnHourForTheModelLoad() {
        Map<String, Object> container = render(DEFAULT_VALUES).container();
        Map<String, Object> startup = map(container.get("startupProbe"));
        Map<String, Object> readiness = map(container.get("readinessProbe"));
        Map<String, Object> liveness = map(container.get("livenessProbe"));

        assertThat(startup.get("grpc")).isEqualTo(Map.of("port", 50051, "service", ""));
        assertThat(readiness.get("grpc")).isEqualTo(Map.of("port", 50051, "service", "nemotron.v1.Nemotron"));
        assertThat(liveness.get("grpc")).isEqualTo(Map.of("port", 50051, "service", ""));
        // 10 s x 360 = 3600 s: the kubelet waits an hour for the 253B load before liveness may restart it
        int allowance = (Integer) startup.get("periodSeconds") * (Integer) startup.get("failureThreshold");
        assertThat(allowance).isEqualTo(3600);
    }

    @Test
    void terminationOutlastsPreStopSleepAndDrain() {
        Rendered r = render(DEFAULT_VALUES);
        int drainSeconds = 30;
        int preStopSleep = 10;

        assertThat(at(r.container(), "lifecycle", "preStop", "exec", "command")).isEqualTo(List.of("sleep", "10"));
        assertThat(r.config()).containsEntry("nemotron", Map.of("drain", Map.of("grace-period", drainSeconds + "s")));
        assertThat((Integer) r.podSpec().get("terminationGracePeriodSeconds"))
                .isEqualTo(60).isGreaterThan(preStopSleep + drainSeconds);
        assertThatThrownBy(() -> render(DEFAULT_VALUES, "terminationGracePeriodSeconds", 40))
                .hasMessageContaining("terminationGracePeriodSeconds (40) must exceed");
    }

    @Test
    void configMapIsMountedAndPassedWithConfig() {
        Rendered r = render(DEFAULT_VALUES);
        Map<String, Object> configMap = r.one("ConfigMap");
        String name = (String) at(configMap, "metadata", "name");

        assertThat(at(volume(r.podSpec(), "config"), "configMap", "name")).isEqualTo(name);
        assertThat(mount(r.container(), "config"))
                .containsEntry("mountPath", "/etc/nemotron/config").containsEntry("readOnly", true);
        assertThat(map(configMap.get("data"))).containsOnlyKeys("application.yaml");
        // without auth and tls the config only holds the drain period: no security or ssl keys
        assertThat(r.config()).containsOnlyKeys("nemotron");
        // a config change rolls the pods
        assertThat(at(r.one("Deployment"), "spec", "template", "metadata", "annotations")).asString()
                .containsPattern("checksum/config=[0-9a-f]{64}");
    }

    @Test
    void freeFormConfigWinsOverTheChartsKeys() {
        Rendered r = render(DEFAULT_VALUES, "config.nemotron.drain.grace-period", "5s",
                "config.nemotron.engine.max-num-seqs", 128);

        assertThat(r.config()).isEqualTo(Map.of("nemotron", Map.of(
                "drain", Map.of("grace-period", "5s"), "engine", Map.of("max-num-seqs", 128))));
    }

    @Test
    void serviceExposesGrpcHttpAndMetricsPorts() {
        Rendered r = render(DEFAULT_VALUES);
        Map<String, Object> service = r.one("Service");
        List<Object> ports = list(at(service, "spec", "ports"));

        assertThat(ports).hasSize(3);
        assertThat(port(ports, "grpc")).containsEntry("port", 50051).containsEntry("targetPort", "grpc")
                .containsEntry("appProtocol", "kubernetes.io/h2c");
        assertThat(port(ports, "http")).containsEntry("port", 8000).containsEntry("targetPort", "http")
                .containsEntry("appProtocol", "http");
        assertThat(port(list(r.container().get("ports")), "http")).containsEntry("containerPort", 8000);
        assertThat(port(ports, "metrics")).containsEntry("port", 9090).containsEntry("targetPort", "management");
        assertThat(port(list(r.container().get("ports")), "grpc")).containsEntry("containerPort", 50051);
        assertThat(port(list(r.container().get("ports")), "management")).containsEntry("containerPort", 9090);
        assertThat(at(service, "spec", "selector")).isEqualTo(at(r.one("Deployment"), "spec", "selector", "matchLabels"));
    }

    @Test
    void podDisruptionBudgetIsOnByDefaultServiceMonitorAndHpaAreNot() {
        Rendered r = render(DEFAULT_VALUES);
        Map<String, Object> pdb = r.one("PodDisruptionBudget");

        assertThat(pdb.get("apiVersion")).isEqualTo("policy/v1");
        assertThat(at(pdb, "spec", "maxUnavailable")).isEqualTo(1);
        assertThat(at(pdb, "spec", "selector", "matchLabels"))
                .isEqualTo(Map.of("app.kubernetes.io/name", "nemotron-serve", "app.kubernetes.io/instance", RELEASE));
        assertThat(r.all("ServiceMonitor")).isEmpty();
        assertThat(r.all("HorizontalPodAutoscaler")).isEmpty();
        assertThat(r.kinds()).containsExactlyInAnyOrder("Deployment", "Service", "ConfigMap", "PodDisruptionBudget");

        assertThat(render(DEFAULT_VALUES, "podDisruptionBudget.enabled", false).all("PodDisruptionBudget")).isEmpty();
    }

    // ---- TLS, mutual TLS and API keys ------------------------------------------------------------------------

    @Test
    void tlsValuesMountTheSecretAndConfigureTheSslBundle() {
        Rendered r = render(TLS_VALUES);
        Map<String, Object> tlsMount = mount(r.container(), "tls");

        assertThat(volume(r.podSpec(), "tls").get("secret")).isEqualTo(Map.of("secretName", "nemotron-tls", "defaultMode", 0440));
        assertThat(tlsMount).containsEntry("mountPath", "/etc/nemotron/tls").containsEntry("readOnly", true);
        assertThat(at(r.config(), "spring", "ssl", "bundle", "pem", "grpc")).isEqualTo(Map.of(
                "keystore", Map.of("certificate", "/etc/nemotron/tls/tls.crt", "private-key", "/etc/nemotron/tls/tls.key"),
                "truststore", Map.of("certificate", "/etc/nemotron/tls/ca.crt")));
        assertThat(at(r.config(), "spring", "grpc", "server", "ssl"))
                .isEqualTo(Map.of("enabled", true, "bundle", "grpc", "client-auth", "REQUIRE"));
        // the Service no longer claims cleartext HTTP/2
        assertThat(port(list(at(r.one("Service"), "spec", "ports")), "grpc")).doesNotContainKey("appProtocol");
        assertThat(port(list(at(r.one("Service"), "spec", "ports")), "http")).containsEntry("appProtocol", "https");
    }

    @Test
    void serverOnlyTlsHasNoTruststore() {
        Rendered r = render(TLS_VALUES, "tls.clientAuth", "NONE");

        assertThat(at(r.config(), "spring", "ssl", "bundle", "pem", "grpc")).isEqualTo(Map.of(
                "keystore", Map.of("certificate", "/etc/nemotron/tls/tls.crt", "private-key", "/etc/nemotron/tls/tls.key")));
        assertThat(at(r.config(), "spring", "grpc", "server", "ssl", "client-auth")).isEqualTo("NONE");
    }

    @Test
    void apiKeysComeFromTheSecretFileAndAreRequired() {
        Rendered r = render(TLS_VALUES);
        Map<String, Object> keysMount = mount(r.container(), "api-keys");
        Map<String, Object> secret = map(volume(r.podSpec(), "api-keys").get("secret"));

        assertThat(secret).containsEntry("secretName", "nemotron-api-keys")
                .containsEntry("items", List.of(Map.of("key", "keys", "path", "keys")));
        assertThat(keysMount).containsEntry("mountPath", "/etc/nemotron/api-keys").containsEntry("readOnly", true);
        assertThat(at(r.config(), "nemotron", "security"))
                .isEqualTo(Map.of("require-api-key", true, "api-keys-file", "/etc/nemotron/api-keys/keys"));
        // another key name in the Secret still lands in the file the config names
        assertThat(volume(render(TLS_VALUES, "auth.secretKey", "api-keys.txt").podSpec(), "api-keys").get("secret"))
                .isEqualTo(Map.of("secretName", "nemotron-api-keys", "defaultMode", 0440,
                        "items", List.of(Map.of("key", "api-keys.txt", "path", "keys"))));
    }

    /** The kubelet's gRPC probe cannot do TLS, so with TLS on (probes.mode auto) every probe is a TCP connect. */
    @Test
    void tlsTurnsProbesIntoTcpConnects() {
        Map<String, Object> container = render(TLS_VALUES).container();

        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            assertThat(map(container.get(probe))).as(probe)
                    .containsEntry("tcpSocket", Map.of("port", "grpc")).doesNotContainKey("grpc");
        }
        assertThatThrownBy(() -> render(TLS_VALUES, "probes.mode", "grpc")).hasMessageContaining("does not speak TLS");
        assertThatThrownBy(() -> render(DEFAULT_VALUES, "tls.enabled", true)).hasMessageContaining("tls.existingSecret");
        assertThatThrownBy(() -> render(DEFAULT_VALUES, "auth.enabled", true)).hasMessageContaining("auth.existingSecret");
    }

    @Test
    void serviceMonitorScrapesTheMetricsPortWhenEnabled() {
        Rendered r = render(TLS_VALUES);
        Map<String, Object> monitor = r.one("ServiceMonitor");

        assertThat(monitor.get("apiVersion")).isEqualTo("monitoring.coreos.com/v1");
        assertThat(at(monitor, "metadata", "labels")).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                .containsEntry("release", "kube-prometheus-stack");
        assertThat(list(at(monitor, "spec", "endpoints"))).containsExactly(Map.of(
                "port", "metrics", "path", "/actuator/prometheus", "interval", "15s", "scrapeTimeout", "10s", "scheme", "http"));
        assertThat(at(monitor, "spec", "selector", "matchLabels")).isEqualTo(at(r.one("Service"), "spec", "selector"));
    }

    @Test
    void hpaScalesTheDeploymentOnACustomPodMetric() {
        Rendered r = render(TLS_VALUES);
        Map<String, Object> hpa = r.one("HorizontalPodAutoscaler");

        assertThat(hpa.get("apiVersion")).isEqualTo("autoscaling/v2");
        assertThat(at(hpa, "spec", "scaleTargetRef"))
                .isEqualTo(Map.of("apiVersion", "apps/v1", "kind", "Deployment", "name", FULLNAME));
        assertThat(at(hpa, "spec", "minReplicas")).isEqualTo(2);
        assertThat(at(hpa, "spec", "maxReplicas")).isEqualTo(6);
        assertThat(list(at(hpa, "spec", "metrics"))).containsExactly(Map.of("type", "Pods", "pods", Map.of(
                "metric", Map.of("name", "nemotron_requests_waiting"),
                "target", Map.of("type", "AverageValue", "averageValue", "8"))));
        // the HPA owns the replica count
        assertThat(map(at(r.one("Deployment"), "spec"))).doesNotContainKey("replicas");

        Map<String, Object> other = render(DEFAULT_VALUES, "autoscaling.enabled", true,
                "autoscaling.metric.name", "inference_pool_queue_size").one("HorizontalPodAutoscaler");
        assertThat(at(other, "spec", "metrics")).asString().contains("name=inference_pool_queue_size");
    }

    // ---- CPU only --------------------------------------------------------------------------------------------

    @Test
    void cpuValuesRequestNoGpuAndServeTheDemoModel() {
        Rendered r = render(CPU_VALUES);
        Map<String, Object> pod = r.podSpec();
        Map<String, Object> container = r.container();

        assertThat(r.text()).doesNotContain("nvidia.com/gpu");
        assertThat(list(container.get("args"))).containsExactly(
                "--model", "demo", "--backend", "cpu", "--tensor-parallel", "1",
                "--port", "50051", "--http-port", "8000", "--management-port", "9090", "--config",
                "/etc/nemotron/config/application.yaml");
        assertThat(map(container.get("resources"))).isEqualTo(Map.of(
                "requests", Map.of("cpu", "2", "memory", "2Gi"), "limits", Map.of("memory", "4Gi")));
        assertThat(pod).doesNotContainKeys("tolerations", "runtimeClassName");
        // no model volume: the demo checkpoint is written to the writable cache volume
        assertThat(names(pod.get("volumes"))).containsExactly("config", "dshm", "tmp", "cache");
        assertThat(env(container, "NEMOTRON_CACHE_DIR")).isEqualTo(mount(container, "cache").get("mountPath"));
        assertThat(volume(pod, "dshm").get("emptyDir")).isEqualTo(Map.of("medium", "Memory", "sizeLimit", "64Mi"));
        assertThat(at(container, "startupProbe", "grpc")).isEqualTo(Map.of("port", 50051, "service", ""));
        assertThat(at(r.config(), "nemotron", "engine", "kv-cache-size")).isEqualTo("256MB");
    }

    @Test
    void cpuWithAModelVolumePutsTheWeightCacheOnItsOwnWritableVolume() {
        Rendered r = render(CPU_VALUES, "model.demo", false);
        Map<String, Object> container = r.container();
        assertThat(r.args()).containsSequence("--weight-cache-dir", "/var/cache/nemotron-weights");
        assertThat(mount(container, "weight-cache").get("mountPath")).isEqualTo("/var/cache/nemotron-weights");
        assertThat(mount(container, "weight-cache")).doesNotContainKey("readOnly");
        // no limit by default: one below the cache's size would get every pod evicted mid-build
        assertThat(volume(r.podSpec(), "weight-cache").get("emptyDir")).isEqualTo(Map.of());
        Rendered limited = render(CPU_VALUES, "model.demo", false, "weightCache.sizeLimit", "600Gi");
        assertThat(volume(limited.podSpec(), "weight-cache").get("emptyDir")).isEqualTo(Map.of("sizeLimit", "600Gi"));

        Rendered claim = render(CPU_VALUES, "model.demo", false, "weightCache.existingClaim", "weights-cache");
        assertThat(volume(claim.podSpec(), "weight-cache").get("persistentVolumeClaim"))
                .isEqualTo(Map.of("claimName", "weights-cache"));

        Rendered off = render(CPU_VALUES, "model.demo", false, "weightCache.enabled", false);
        assertThat(off.args()).containsSequence("--weight-cache", "off").doesNotContain("--weight-cache-dir");
        assertThat(names(off.podSpec().get("volumes"))).doesNotContain("weight-cache");
    }

    @Test
    void theCudaBackendHasNoWeightCache() {
        Rendered r = render(DEFAULT_VALUES);
        assertThat(r.args()).doesNotContain("--weight-cache", "--weight-cache-dir");
        assertThat(names(r.podSpec().get("volumes"))).doesNotContain("weight-cache");
    }

    @Test
    void backendCpuDropsAGpuLimitGivenByHand() {
        Rendered r = render(CPU_VALUES, "resources.limits.nvidia\\.com/gpu", 2);

        assertThat(r.text()).doesNotContain("nvidia.com/gpu");
    }

    // ---- documentation ---------------------------------------------------------------------------------------

    /** Every leaf of values.yaml is in the chart README's table, itself or under a documented parent. */
    @Test
    void everyValueIsDocumentedInTheChartReadme() throws IOException {
        String readme = Files.readString(CHART.resolve("README.md"));
        List<String> undocumented = new ArrayList<>();
        for (String key : leafKeys("", loadYaml(CHART.resolve("values.yaml")))) {
            boolean documented = false;
            for (String prefix = key; !prefix.isEmpty() && !documented;
                    prefix = prefix.contains(".") ? prefix.substring(0, prefix.lastIndexOf('.')) : "") {
                documented = readme.contains("`" + prefix + "`") || readme.contains("`" + prefix + ".*`");
            }
            if (!documented) {
                undocumented.add(key);
            }
        }
        assertThat(undocumented).isEmpty();
    }

    // ---- rendering and navigation ----------------------------------------------------------------------------

    /** The manifests {@code helm template} rendered, parsed. */
    public record Rendered(String text, List<Map<String, Object>> docs) {
        public List<Map<String, Object>> all(String kind) {
            return docs.stream().filter(d -> kind.equals(d.get("kind"))).toList();
        }

        public Map<String, Object> one(String kind) {
            List<Map<String, Object>> found = all(kind);
            assertThat(found).as("rendered %s", kind).hasSize(1);
            return found.getFirst();
        }

        public List<Object> kinds() {
            return docs.stream().map(d -> d.get("kind")).toList();
        }

        public Map<String, Object> podSpec() {
            return map(at(one("Deployment"), "spec", "template", "spec"));
        }

        public Map<String, Object> container() {
            List<Object> containers = list(podSpec().get("containers"));
            assertThat(containers).hasSize(1);
            return map(containers.getFirst());
        }

        /** The server's flags: the container's args (the image's entry point is {@code nemotron serve}). */
        public List<String> args() {
            return list(container().get("args")).stream().map(String::valueOf).toList();
        }

        /** The server's application.yaml from the ConfigMap, as the pod reads it with {@code --config}. */
        public String configYaml() {
            return (String) at(one("ConfigMap"), "data", "application.yaml");
        }

        /** {@link #configYaml()}, parsed. */
        public Map<String, Object> config() {
            return map(new Yaml().load(configYaml()));
        }
    }

    /** {@code helm template} of the chart with {@code valuesFile} and {@code --set} pairs (name, value, ...). */
    public static Rendered render(Path valuesFile, Object... setPairs) {
        TemplateCommand command = new Helm(CHART).template().withName(RELEASE).withNamespace("llm").withValuesFile(valuesFile);
        for (int i = 0; i < setPairs.length; i += 2) {
            command = command.set((String) setPairs[i], setPairs[i + 1]);
        }
        String text = command.call();
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object doc : new Yaml().loadAll(text)) {
            if (doc != null) {
                docs.add(map(doc));
            }
        }
        return new Rendered(text, docs);
    }

    private static Map<String, Object> volume(Map<String, Object> podSpec, String name) {
        return named(podSpec.get("volumes"), name);
    }

    private static Map<String, Object> mount(Map<String, Object> container, String name) {
        return named(container.get("volumeMounts"), name);
    }

    private static Map<String, Object> port(List<Object> ports, String name) {
        return named(ports, name);
    }

    private static Object env(Map<String, Object> container, String name) {
        return named(container.get("env"), name).get("value");
    }

    private static Map<String, Object> named(Object items, String name) {
        return list(items).stream().map(HelmChartTest::map).filter(m -> name.equals(m.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no entry named " + name + " in " + items));
    }

    private static List<Object> names(Object items) {
        return list(items).stream().map(i -> map(i).get("name")).toList();
    }

    private static Object at(Object root, String... path) {
        Object node = root;
        for (String key : path) {
            assertThat(node).as("parent of %s in %s", key, String.join(".", path)).isInstanceOf(Map.class);
            node = map(node).get(key);
        }
        return node;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object node) {
        assertThat(node).isInstanceOf(Map.class);
        return (Map<String, Object>) node;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object node) {
        assertThat(node).isInstanceOf(List.class);
        return (List<Object>) node;
    }

    // ---- values files ----------------------------------------------------------------------------------------

    private static Map<String, Object> loadYaml(Path file) throws IOException {
        Object loaded = new Yaml().load(Files.readString(file));
        return loaded == null ? new LinkedHashMap<>() : map(loaded);
    }

    /** Helm's values coalescing: maps merge key by key, a list or scalar of the overlay replaces the base's. */
    private static Map<String, Object> merge(Map<String, Object> base, Map<String, Object> overlay) {
        Map<String, Object> merged = new LinkedHashMap<>(base);
        overlay.forEach((key, value) -> merged.merge(key, value,
                (old, add) -> old instanceof Map<?, ?> && add instanceof Map<?, ?> ? merge(map(old), map(add)) : add));
        return merged;
    }

    private static List<String> leafKeys(String prefix, Map<String, Object> values) {
        List<String> keys = new ArrayList<>();
        values.forEach((key, value) -> {
            String path = prefix.isEmpty() ? key : prefix + "." + key;
            if (value instanceof Map<?, ?> child && !child.isEmpty()) {
                keys.addAll(leafKeys(path, map(child)));
            } else {
                keys.add(path);
            }
        });
        return keys;
    }

    private static Path copyChart(Path target) throws IOException {
        try (Stream<Path> files = Files.walk(CHART)) {
            files.forEach(source -> {
                try {
                    Path dest = target.resolve(CHART.relativize(source).toString());
                    if (Files.isDirectory(source)) {
                        Files.createDirectories(dest);
                    } else {
                        Files.copy(source, dest);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        return target;
    }
}
