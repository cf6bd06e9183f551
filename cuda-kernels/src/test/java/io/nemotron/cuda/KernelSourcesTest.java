package io.nemotron.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks on the kernel sources that need no GPU: every {@code extern "C"} entry point is in the list the fatbin
 * test looks for (so a kernel cannot be added without the fatbin check covering it), and the
 * {@code __host__ __device__} helpers pass their host-side known-answer checks (src/test/cuda/host_checks.cu,
 * compiled with nvcc for the host and run here).
 */
class KernelSourcesTest {
    private static final Path SOURCES = Path.of("src/main/cuda");
    private static final Pattern ENTRY = Pattern.compile(
            "extern \"C\" __global__ void(?:\\s+__launch_bounds__\\([^)]*\\))?\\s+(\\w+)\\s*\\(");

    @Test
    void everyEntryPointIsListed() throws IOException {
        Set<String> found = new TreeSet<>();
        try (Stream<Path> files = Files.list(SOURCES)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cu")).toList()) {
                Matcher m = ENTRY.matcher(Files.readString(f));
                while (m.find()) {
                    found.add(m.group(1));
                }
            }
        }
        assertEquals(new TreeSet<>(KernelFatbinTest.KERNELS), found);
    }

    @Test
    void hostChecksPass(@TempDir Path dir) throws Exception {
        Path nvcc = nvcc();
        assumeTrue(nvcc != null, "nvcc not installed here");
        Path exe = dir.resolve("host_checks");
        run(nvcc.toString(), "-std=c++17", "-I", SOURCES.toString(), "-o", exe.toString(), "src/test/cuda/host_checks.cu");
        String out = run(exe.toString());
        assertTrue(out.contains("host checks passed"), out);
    }

    private static Path nvcc() {
        String pinned = System.getenv("NVCC");
        if (pinned != null && !pinned.isEmpty()) {
            return Files.isExecutable(Path.of(pinned)) ? Path.of(pinned) : null;
        }
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/local/cuda/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nvcc"))) {
                return Path.of(dir, "nvcc");
            }
        }
        return null;
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
        assertEquals(0, p.exitValue(), () -> String.join(" ", command) + " failed:\n" + out);
        return out;
    }
}
