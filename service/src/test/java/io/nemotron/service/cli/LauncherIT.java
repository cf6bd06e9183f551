package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The real {@code ./nemotron} launcher as a user runs it (the must-show commands of the foundation issue), after
 * {@code package}. Runs in the {@code slow} profile through failsafe.
 */
class LauncherIT {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    record Result(int code, String out, String err) {}

    static Path root() {
        return Path.of(System.getProperty("nemotron.root.dir", "..")).toAbsolutePath().normalize();
    }

    static Result nemotron(Map<String, String> env, String stdin, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(root().resolve("nemotron").toString());
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(root().toFile());
        pb.environment().putAll(env);
        Path out = Files.createTempFile("nemotron-out", ".txt");
        Path err = Files.createTempFile("nemotron-err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "launcher timed out: " + cmd);
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    static Result nemotron(String... args) throws IOException, InterruptedException {
        return nemotron(Map.of(), null, args);
    }

    private static boolean usrBinJavaIs25OrNewer() throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of("/usr/bin/java"))) {
            return false;
        }
        Process p = new ProcessBuilder("/usr/bin/java", "-XshowSettings:properties", "-version").redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        var m = java.util.regex.Pattern.compile("java.specification.version = (\\d+)").matcher(text);
        return m.find() && Integer.parseInt(m.group(1)) >= 25;
    }

    static int[] ints(JsonNode a) {
        return IntStream.range(0, a.size()).map(i -> a.get(i).asInt()).toArray();
    }

    @Test
    void generateReproducesStories260kThroughTheLauncher() throws Exception {
        JsonNode cases = JSON.readTree(Files.readString(CliRun.reference("stories260k/expected.json"))).get("cases");
        for (JsonNode c : cases) {
            int[] expected = ints(c.get("generated_ids"));
            String ids = Arrays.stream(ints(c.get("prompt_ids"))).mapToObj(Integer::toString).collect(Collectors.joining(","));
            Result r = nemotron("generate", "--model", CliRun.reference("stories260k/hf").toString(), "--prompt-ids", ids,
                    "--max-tokens", Integer.toString(expected.length), "--temperature", "0", "--ignore-eos",
                    // run.c's cache is FP32; auto (BF16 on the CPU) keeps these ids only as far as the top-2 gap allows
                    "--kv-cache-dtype", "fp32", "--output", "json");
            assertEquals(0, r.code(), r.err());
            assertArrayEquals(expected, ints(JSON.readTree(r.out()).get("output_ids")), c.get("name").asString());
        }
    }

    @Test
    void tokenizeReadsStdinAndMatchesAReferenceVector() throws Exception {
        // meta-llama3-tests.json / llama.cpp vectors: "Hello, world!" -> 9906, 11, 1917, 0 (without BOS)
        Result r = nemotron(Map.of(), "Hello, world!", "tokenize", "--tokenizer",
                CliRun.reference("llama-3.1-tokenizer").toString(), "--text", "-");
        assertEquals(0, r.code(), r.err());
        assertEquals("[9906,11,1917,0]", r.out().strip());
    }

    @Test
    void inspectReportsUltraNumbers() throws Exception {
        Result r = nemotron("inspect", "--config",
                CliRun.reference("nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.config.json").toString(), "--output", "json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = JSON.readTree(r.out());
        assertEquals(253_401_268_224L, j.get("parameters").asLong());
        assertEquals(262_144L, j.get("kv_bytes_per_token").asLong());
    }

    @Test
    void badInputIsOneLineOnStderrWithExitCode1() throws Exception {
        Result r = nemotron("generate", "--model", CliRun.reference("stories260k/hf").toString(), "--prompt-ids", "1",
                "--temperature", "-1");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("error: ") && r.err().contains("temperature"), r.err());
        assertTrue(!r.err().contains("\tat ") && !r.out().contains("\tat "), "no stack trace");
    }

    @Test
    void noJdk25IsAClearMessage() throws Exception {
        // only meaningful where the java on /usr/bin is older than 25 (as on the CI machines: JDK 17)
        org.junit.jupiter.api.Assumptions.assumeFalse(usrBinJavaIs25OrNewer(), "/usr/bin/java is already a JDK 25");
        Result r = nemotron(Map.of("JAVA_HOME", "/nonexistent-jdk", "NEMOTRON_JVM_DIRS", "/nonexistent-dir",
                "PATH", "/nonexistent-bin:/usr/bin:/bin"), null, "inspect", "--help");
        // /usr/bin/java may be an older JDK: it must be passed over, not used
        assertEquals(3, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("no JDK 25 found"), r.err());
    }

    // ---- the server's JVM memory (issue 19): heap for the KV pool, direct memory not capped by it, the override --------

    /** {@code -XX:+PrintFlagsFinal}'s value and origin of each flag the JVM started with. */
    private static Map<String, String[]> finalFlags(String javaOpts, String... args) throws Exception {
        Result r = nemotron(Map.of("NEMOTRON_JAVA_OPTS", javaOpts + " -XX:+PrintFlagsFinal"), null, args);
        assertEquals(0, r.code(), r.err());
        Map<String, String[]> flags = new java.util.HashMap<>();
        var line = java.util.regex.Pattern.compile("^\\s*\\S+\\s+(\\w+)\\s+=\\s+(\\S*)\\s+\\{[^}]*\\}\\s+\\{([^}]*)\\}");
        r.out().lines().map(line::matcher).filter(java.util.regex.Matcher::find)
                .forEach(m -> flags.put(m.group(1), new String[] {m.group(2), m.group(3)}));
        assertTrue(flags.containsKey("MaxHeapSize"), r.out());
        return flags;
    }

    /** MemTotal, or the cgroup v2 limit when lower: the machine's memory as the launcher reads it. */
    private static long machineMemory() throws IOException {
        long total = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", "")) * 1024).findFirst().orElseThrow();
        Path cgroup = Path.of("/sys/fs/cgroup/memory.max");
        String limit = Files.isReadable(cgroup) ? Files.readString(cgroup).strip() : "max";
        return limit.matches("\\d+") ? Math.min(total, Long.parseLong(limit)) : total;
    }

    @Test
    void serveGetsAHeapForTheKvPoolAndDirectMemoryUpToTheMachine() throws Exception {
        Map<String, String[]> f = finalFlags("", "serve", "--help");
        // application.yaml's kv-cache-size 1GB + 512 MiB (README "Memory")
        assertArrayEquals(new String[] {Long.toString(1536L << 20), "command line"}, f.get("MaxHeapSize"));
        // Arena.allocate counts against MaxDirectMemorySize, which would default to the heap's size
        assertEquals(Long.toString(machineMemory()), f.get("MaxDirectMemorySize")[0]);
        assertEquals("60000", f.get("G1PeriodicGCInterval")[0]);
        assertEquals("false", f.get("AlwaysPreTouch")[0]);
        assertEquals("true", f.get("UseG1GC")[0]);
    }

    @Test
    void nemotronJavaOptsReplacesTheHeapAndDirectMemoryDefaults() throws Exception {
        Map<String, String[]> f = finalFlags("-Xmx3g -XX:MaxDirectMemorySize=1g", "serve", "--help");
        assertEquals(Long.toString(3L << 30), f.get("MaxHeapSize")[0]);
        assertEquals(Long.toString(1L << 30), f.get("MaxDirectMemorySize")[0]);
        // a percentage of the machine is a heap limit too: the launcher's -Xmx, which would win over it, is left out
        Map<String, String[]> pct = finalFlags("-XX:MaxRAMPercentage=10", "serve", "--help");
        assertEquals("ergonomic", pct.get("MaxHeapSize")[1]);
        // an initial heap above the launcher's default maximum would stop the JVM ("Initial heap size set to a
        // larger value than the maximum heap size"): it replaces the default too
        Map<String, String[]> initial = finalFlags("-Xms2g", "serve", "--help");
        assertEquals(Long.toString(2L << 30), initial.get("InitialHeapSize")[0]);
        assertEquals("ergonomic", initial.get("MaxHeapSize")[1]);
    }

    @Test
    void theOneShotToolsKeepTheJvmsDefaults() throws Exception {
        Map<String, String[]> f = finalFlags("", "inspect", "--help");
        assertEquals("ergonomic", f.get("MaxHeapSize")[1]);
        assertEquals("default", f.get("G1PeriodicGCInterval")[1]);
    }
}
