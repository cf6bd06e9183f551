package io.nemotron.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host emulator (build-emulator.sh) checked on its own:
 * <ul>
 *   <li>src/test/emulator/emu_checks.cpp: test-only kernels under the forward, reverse and seeded random thread orders.
 *       {@code __shared__} is one copy per block; a kernel missing its {@code __syncthreads} gives wrong results; a
 *       partial-warp shuffle is a deadlock naming the kernel, block, thread and barrier; divergent barriers, launch
 *       limits, dynamic shared memory (poisoned, limited by the function attribute), pointer arguments outside every
 *       allocation, out-of-bounds copies, unknown kernels, and stream capture with graph replay;</li>
 *   <li>src/test/emulator/cublas_nccl_checks.cpp: cublasGemmEx against a double-precision reference (every op
 *       combination, odd sizes, padded leading dimensions, ld validation, beta == 0 with NaN in C, out-of-bounds
 *       operands, capture and replay) and NCCL with 2, 4 and 8 rank threads (all-reduce, all-gather, mismatched calls,
 *       abort, a missing rank's timeout);</li>
 *   <li>libcuda.so.1 exports exactly the cu* symbols JCuda's native driver library imports.</li>
 * </ul>
 * The emulator is test tooling every CI run needs, so a missing build fails here rather than skipping.
 */
class EmulatorChecksTest {
    private static final Path LIB = Path.of("target/emulator/lib");
    private static final Path EMULATOR_SOURCES = Path.of("src/emulator");

    @BeforeAll
    static void built() throws IOException {
        Path missing = LIB.resolve("MISSING");
        if (Files.exists(missing)) {
            fail("the emulator was not built: " + Files.readString(missing).strip());
        }
        assertTrue(Files.exists(LIB.resolve("libcuda.so.1")), "no " + LIB.resolve("libcuda.so.1") + ": run the Maven build");
    }

    @Test
    void testKernelsBehaveUnderEveryThreadOrder(@TempDir Path dir) throws Exception {
        Path exe = dir.resolve("emu_checks");
        run(List.of("g++", "-std=c++20", "-O1", "-g", "-ffp-contract=off", "-Wno-unused-parameter",
                "-I", EMULATOR_SOURCES.toString(), "-I", cudaInclude(), "-include", EMULATOR_SOURCES.resolve("cuda_emu.h").toString(),
                "src/test/emulator/emu_checks.cpp", "-o", exe.toString(), "-L" + LIB.toAbsolutePath(), "-l:libcuda.so.1",
                "-Wl,-rpath," + LIB.toAbsolutePath()));
        String out = run(List.of(exe.toString()));
        assertTrue(out.contains("emulator checks passed"), out);
    }

    @Test
    void cublasAndNcclHonourTheirContracts(@TempDir Path dir) throws Exception {
        Path exe = dir.resolve("cublas_nccl_checks");
        String lib = LIB.toAbsolutePath().toString();
        run(List.of("g++", "-std=c++20", "-O2", "-g", "-ffp-contract=off", "-I", EMULATOR_SOURCES.toString(), "-I",
                cudaInclude(), "src/test/emulator/cublas_nccl_checks.cpp", "-o", exe.toString(), "-L" + lib,
                "-l:libcublas.so.13", "-l:libnccl.so.2", "-l:libcuda.so.1", "-Wl,-rpath," + lib, "-pthread"));
        String out = run(List.of(exe.toString()));
        assertTrue(!out.contains("FAIL"), out);
    }

    @Test
    void driverExportsExactlyWhatJCudaImports() throws Exception {
        Set<String> wanted = new TreeSet<>(Files.readAllLines(EMULATOR_SOURCES.resolve("jcuda-driver-symbols.txt")));
        Set<String> exported = new TreeSet<>();
        for (String line : run(List.of("nm", "-D", "--defined-only", LIB.resolve("libcuda.so.1").toString())).split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3 && f[2].startsWith("cu")) {
                exported.add(f[2]);
            }
        }
        assertEquals(312, wanted.size(), "JCuda 12.6.0's libJCudaDriver imports 312 cu* symbols");
        assertEquals(wanted, exported);
    }

    private static String cudaInclude() {
        for (String d : new String[] {System.getenv("CUDA_HOME") + "/include", "/usr/local/cuda/include"}) {
            if (Files.exists(Path.of(d, "cuda_bf16.h"))) {
                return d;
            }
        }
        throw new AssertionError("no CUDA headers (cuda_bf16.h) under $CUDA_HOME/include or /usr/local/cuda/include");
    }

    private static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
        assertEquals(0, p.exitValue(), () -> String.join(" ", command) + " failed:\n" + out);
        return out;
    }
}
