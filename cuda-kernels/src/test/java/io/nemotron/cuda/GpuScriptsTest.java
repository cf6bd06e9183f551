package io.nemotron.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The logic of scripts/gpu-bundle.sh --check and scripts/gpu-run.sh on synthetic bundles (a shell script stands in
 * for the bundled java, another for nvidia-smi), so it runs in seconds on any machine with bash. Building a real
 * bundle takes about a minute and is the documented dry run in README.md ("GPU").
 */
class GpuScriptsTest {
    private static final Path SCRIPTS = Path.of("..", "scripts").toAbsolutePath().normalize();
    private static final long MIB = 1L << 20;

    /** A bundle with every required entry; {@code java} is a script that writes what {@code javaScript} says. */
    private static Path fakeBundle(Path dir, String javaScript) throws IOException {
        Path b = dir.resolve("bundle");
        executable(b.resolve("jdk/bin/java"), "#!/bin/bash\n" + javaScript);
        Files.copy(SCRIPTS.resolve("gpu-run.sh"), Files.createDirectories(b).resolve("gpu-run.sh"));
        Files.writeString(b.resolve("bundle.properties"),
                "commit=abc\nbuilt=now\njava.version=25\njvm.flags=--add-modules jdk.incubator.vector\nbenchmark.main=\n");
        for (String f : List.of("junit/junit-platform-console-standalone-6.0.3.jar", "lib/inference-core-0.1.jar",
                "lib/cuda-kernels-0.1.jar", "gpu-slice.json", "gpu-slice-torch.py",
                "reference/stories260k/hf/model.safetensors",
                "reference/nemotron-nas-tiny/nas-tiny-a-bf16/model.safetensors",
                "reference/nemotron-nas-tiny/nas-tiny-a-f32/model.safetensors",
                "reference/nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.config.json")) {
            Files.writeString(Files.createDirectories(b.resolve(f).getParent()).resolve(b.resolve(f).getFileName()), "x");
        }
        Files.createDirectories(b.resolve("test-classes/inference-core"));
        return b;
    }

    private static void executable(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void checkListsWhatAnIncompleteBundleLacks(@TempDir Path dir) throws Exception {
        Path b = fakeBundle(dir, "exit 0\n");
        Files.delete(b.resolve("lib/cuda-kernels-0.1.jar"));
        Files.delete(b.resolve("reference/stories260k/hf/model.safetensors"));
        Result r = run(Map.of(), "bash", SCRIPTS.resolve("gpu-bundle.sh").toString(), "--check", b.toString());
        assertEquals(1, r.code, r.out);
        assertTrue(r.out.contains("missing: lib/cuda-kernels-*.jar reference/stories260k/hf/model.safetensors"), r.out);
    }

    @Test
    void checkEnforcesTheSixtyMibLimit(@TempDir Path dir) throws Exception {
        Path b = fakeBundle(dir, "exit 0\n");
        Result ok = run(Map.of(), "bash", SCRIPTS.resolve("gpu-bundle.sh").toString(), "--check", b.toString());
        assertEquals(0, ok.code, ok.out);
        assertTrue(ok.out.contains("limit 62914560 bytes (60 MiB)"), ok.out);
        // a sparse file: 60 MiB of apparent size, which du -b counts, without using the disk
        try (RandomAccessFile f = new RandomAccessFile(b.resolve("lib/big.jar").toFile(), "rw")) {
            f.setLength(60 * MIB);
        }
        Result over = run(Map.of(), "bash", SCRIPTS.resolve("gpu-bundle.sh").toString(), "--check", b.toString());
        assertEquals(1, over.code, over.out);
        assertTrue(over.out.contains("over the limit by"), over.out);
    }

    @Test
    void runWithoutGpuSkipsCleanlyAndSaysSoInJson(@TempDir Path dir) throws Exception {
        Path b = fakeBundle(dir, "exit 0\n");   // the self-check "passes"
        Path results = dir.resolve("results");
        Result r = run(Map.of("NEMOTRON_NVIDIA_SMI", dir.resolve("no-such-nvidia-smi").toString()),
                "bash", b.resolve("gpu-run.sh").toString(), b.toString(), results.toString());
        assertEquals(0, r.code, r.out);
        String json = Files.readString(results.resolve("gpu-run.json"));
        assertTrue(json.contains("\"status\": \"skipped\""), json);
        assertTrue(json.contains("\"gpu\": {\"present\": false}"), json);
        assertTrue(json.contains("nvidia-smi not found"), json);
        assertTrue(json.contains("\"selfcheck\": {\"passed\": true}"), json);
        assertTrue(json.contains("\"tests\": null"), json);
    }

    @Test
    void failingNvidiaSmiCountsAsNoGpu(@TempDir Path dir) throws Exception {
        Path b = fakeBundle(dir, "exit 0\n");
        Path smi = dir.resolve("nvidia-smi");
        executable(smi, "#!/bin/sh\necho 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.'\nexit 9\n");
        Path results = dir.resolve("results");
        Result r = run(Map.of("NEMOTRON_NVIDIA_SMI", smi.toString()), "bash", b.resolve("gpu-run.sh").toString(),
                b.toString(), results.toString());
        assertEquals(0, r.code, r.out);
        String json = Files.readString(results.resolve("gpu-run.json"));
        assertTrue(json.contains("\"status\": \"skipped\""), json);
        assertTrue(json.contains("nvidia-smi failed: NVIDIA-SMI has failed"), json);
    }

    @Test
    void withGpuTheJUnitReportIsSummedAndFailuresFailTheRun(@TempDir Path dir) throws Exception {
        // The fake java writes two JUnit XML reports where the console would (--reports-dir) and exits 1 as the
        // console does on failures: 3 + 2 tests, 1 failure, 1 skipped.
        String java = """
                while [ $# -gt 0 ]; do
                  if [ "$1" = --reports-dir ]; then
                    mkdir -p "$2"
                    echo '<testsuite name="a" tests="3" skipped="1" failures="1" errors="0">' > "$2/TEST-a.xml"
                    echo '<testsuite name="b" tests="2" skipped="0" failures="0" errors="0">' > "$2/TEST-b.xml"
                    exit 1
                  fi
                  shift
                done
                exit 0
                """;
        Path b = fakeBundle(dir, java);
        Path smi = dir.resolve("nvidia-smi");
        executable(smi, "#!/bin/sh\nif [ \"$1\" = -L ]; then echo 'GPU 0: NVIDIA H100 80GB HBM3'; else echo 'NVIDIA H100 80GB HBM3, 81559 MiB, 580.65, 9.0'; fi\n");
        Path results = dir.resolve("results");
        Result r = run(Map.of("NEMOTRON_NVIDIA_SMI", smi.toString()), "bash", b.resolve("gpu-run.sh").toString(),
                b.toString(), results.toString());
        assertEquals(1, r.code, r.out);
        String json = Files.readString(results.resolve("gpu-run.json"));
        assertTrue(json.contains("\"status\": \"failed\""), json);
        assertTrue(json.contains("\"name\": \"NVIDIA H100 80GB HBM3\""), json);
        assertTrue(json.contains("\"tests\": 5, \"failures\": 1, \"errors\": 0, \"skipped\": 1"), json);
        assertTrue(json.contains("\"ran\": false"), json);   // no benchmark.main in this bundle
    }

    @Test
    void gpuTestsThatAllSkipOnAGpuMachineFailTheRun(@TempDir Path dir) throws Exception {
        String java = """
                while [ $# -gt 0 ]; do
                  if [ "$1" = --reports-dir ]; then
                    mkdir -p "$2"
                    echo '<testsuite name="a" tests="2" skipped="2" failures="0" errors="0">' > "$2/TEST-a.xml"
                    exit 0
                  fi
                  shift
                done
                exit 0
                """;
        Path b = fakeBundle(dir, java);
        Path smi = dir.resolve("nvidia-smi");
        executable(smi, "#!/bin/sh\necho 'NVIDIA H100 80GB HBM3, 81559 MiB, 580.65, 9.0'\n");
        Path results = dir.resolve("results");
        Result r = run(Map.of("NEMOTRON_NVIDIA_SMI", smi.toString()), "bash", b.resolve("gpu-run.sh").toString(),
                b.toString(), results.toString());
        assertEquals(1, r.code, r.out);
        assertTrue(r.out.contains("every GPU test was skipped"), r.out);
        assertTrue(Files.readString(results.resolve("gpu-run.json")).contains("\"status\": \"failed\""));
    }

    @Test
    void ncclFromPythonsSitePackagesReachesTheGpuTests(@TempDir Path dir) throws Exception {
        // The fake java records the NEMOTRON_SITE_PACKAGES it was started with, and reports one passing test.
        String java = """
                echo "$NEMOTRON_SITE_PACKAGES" > "$(dirname "$0")/../../site-packages-seen.txt"
                while [ $# -gt 0 ]; do
                  if [ "$1" = --reports-dir ]; then
                    mkdir -p "$2"
                    echo '<testsuite name="a" tests="1" skipped="0" failures="0" errors="0">' > "$2/TEST-a.xml"
                    exit 0
                  fi
                  shift
                done
                exit 0
                """;
        Path b = fakeBundle(dir, java);
        Path smi = dir.resolve("nvidia-smi");
        executable(smi, "#!/bin/sh\necho 'NVIDIA H100 80GB HBM3, 81559 MiB, 580.65, 9.0'\n");
        Path empty = Files.createDirectories(dir.resolve("dist-packages"));
        Path site = dir.resolve("site-packages");
        Path lib = site.resolve("nvidia/nccl/lib/libnccl.so.2");
        Files.createDirectories(lib.getParent());
        Files.writeString(lib, "x");
        // python3 -c '...site.getsitepackages()...' prints the folders joined by os.pathsep
        Path python = dir.resolve("python3");
        executable(python, "#!/bin/sh\necho '" + empty + ":" + site + "'\n");
        Path results = dir.resolve("results");
        Result r = run(Map.of("NEMOTRON_NVIDIA_SMI", smi.toString(), "NEMOTRON_PYTHON", python.toString()), "bash",
                b.resolve("gpu-run.sh").toString(), b.toString(), results.toString());
        assertEquals(0, r.code, r.out);
        assertTrue(r.out.contains("NCCL: pip wheel " + lib + " "), r.out);
        assertEquals(empty + ":" + site, Files.readString(b.resolve("site-packages-seen.txt")).strip());

        // set by the caller: left alone, and Python is not asked
        Result given = run(Map.of("NEMOTRON_NVIDIA_SMI", smi.toString(), "NEMOTRON_PYTHON", "/no/python",
                "NEMOTRON_SITE_PACKAGES", empty.toString()), "bash", b.resolve("gpu-run.sh").toString(), b.toString(),
                results.toString());
        assertEquals(0, given.code, given.out);
        assertTrue(given.out.contains("NCCL: no pip wheel under NEMOTRON_SITE_PACKAGES='" + empty + "'"), given.out);
        assertEquals(empty.toString(), Files.readString(b.resolve("site-packages-seen.txt")).strip());
    }

    /** A fake java for a GPU machine: one passing GPU test; the benchmark writes {@code "status" : "<status>"}. */
    private static String javaWithBenchmark(String status) {
        return """
                all="$*"
                while [ $# -gt 0 ]; do
                  case "$1" in
                    --reports-dir)
                      mkdir -p "$2"
                      echo '<testsuite name="a" tests="1" skipped="0" failures="0" errors="0">' > "$2/TEST-a.xml"
                      exit 0 ;;
                    --output)
                      echo "$all" > "$(dirname "$2")/benchmark-args.txt"
                      printf '{\\n  "implementation" : "nemotron-cuda",\\n  "status" : "%s"\\n}\\n' STATUS > "$2"
                      exit 0 ;;
                  esac
                  shift
                done
                exit 0
                """.replace("STATUS", status);
    }

    /** A fake python3: site-packages for -c; as the torch twin, writes its JSON and the comparison with "status". */
    private static Path fakePython(Path dir, String status) throws IOException {
        Path python = dir.resolve("python3");
        executable(python, """
                #!/bin/bash
                if [ "$1" = -c ]; then echo /nonexistent; exit 0; fi
                echo "$*" > "$(dirname "$0")/python-args.txt"
                while [ $# -gt 0 ]; do
                  case "$1" in
                    --output) printf '{"implementation": "pytorch-eager", "status": "%s"}\\n' STATUS > "$2" ;;
                    --comparison) echo '{"status": "ok"}' > "$2" ;;
                  esac
                  shift
                done
                echo "gpu-slice-torch: STATUS"
                exit 0
                """.replace("STATUS", status));
        return python;
    }

    private static Result runBenchmarkBundle(Path dir, String javaStatus, String torchStatus) throws Exception {
        Path b = fakeBundle(dir, javaWithBenchmark(javaStatus));
        String props = Files.readString(b.resolve("bundle.properties"));
        Files.writeString(b.resolve("bundle.properties"),
                props.replace("benchmark.main=\n", "benchmark.main=io.nemotron.core.bench.GpuSliceBenchmark\n"));
        Path smi = dir.resolve("nvidia-smi");
        executable(smi, "#!/bin/sh\necho 'NVIDIA H100 80GB HBM3, 81559 MiB, 580.65, 9.0'\n");
        return run(Map.of("NEMOTRON_NVIDIA_SMI", smi.toString(), "NEMOTRON_PYTHON", fakePython(dir, torchStatus).toString()),
                "bash", b.resolve("gpu-run.sh").toString(), b.toString(), dir.resolve("results").toString());
    }

    @Test
    void benchmarkAndItsTorchTwinRunFromTheOneSpec(@TempDir Path dir) throws Exception {
        Result r = runBenchmarkBundle(dir, "ok", "ok");
        assertEquals(0, r.code, r.out);
        Path results = dir.resolve("results");
        String json = Files.readString(results.resolve("gpu-run.json"));
        assertTrue(json.contains("\"status\": \"ok\""), json);
        assertTrue(json.contains("\"benchmark\": {\"ran\": true, \"exit_code\": 0, \"status\": \"ok\""), json);
        assertTrue(json.contains("\"torch\": {\"exit_code\": 0, \"status\": \"ok\""), json);
        assertTrue(json.contains("\"comparison\": \"benchmark-comparison.json\""), json);
        Path bundle = dir.resolve("bundle");
        String javaArgs = Files.readString(results.resolve("benchmark-args.txt"));
        assertTrue(javaArgs.contains("io.nemotron.core.bench.GpuSliceBenchmark --spec " + bundle.resolve("gpu-slice.json")
                + " --ultra-config " + bundle.resolve("reference/nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.config.json")
                + " --output " + results.resolve("benchmark.json")), javaArgs);
        assertEquals(bundle.resolve("gpu-slice-torch.py") + " --spec " + bundle.resolve("gpu-slice.json") + " --output "
                + results.resolve("benchmark-torch.json") + " --compare " + results.resolve("benchmark.json")
                + " --comparison " + results.resolve("benchmark-comparison.json"),
                Files.readString(dir.resolve("python-args.txt")).strip());
        assertTrue(Files.exists(results.resolve("benchmark-comparison.json")));
    }

    @Test
    void aBenchmarkThatSkipsOnAGpuMachineFailsAndAMissingTorchIsIncomplete(@TempDir Path dir) throws Exception {
        Result skipped = runBenchmarkBundle(dir.resolve("a"), "skipped", "ok");
        assertEquals(1, skipped.code, skipped.out);
        assertTrue(skipped.out.contains("benchmark failed (exit 0, status 'skipped')"), skipped.out);

        Result noTorch = runBenchmarkBundle(dir.resolve("b"), "ok", "skipped");
        assertEquals(0, noTorch.code, noTorch.out);
        String json = Files.readString(dir.resolve("b/results/gpu-run.json"));
        assertTrue(json.contains("\"status\": \"incomplete\""), json);
        assertTrue(json.contains("no PyTorch baseline (gpu-slice-torch: skipped)"), json);
    }

    private record Result(int code, String out) {}

    private static Result run(Map<String, String> env, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(List.of(command))).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
        return new Result(p.exitValue(), out);
    }
}
