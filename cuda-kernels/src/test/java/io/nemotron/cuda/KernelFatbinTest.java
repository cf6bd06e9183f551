package io.nemotron.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks the packaged fatbin against what this machine's CUDA toolkit says, found independently of
 * build-fatbin.sh so that a script that silently misses nvcc fails here.
 */
class KernelFatbinTest {

    /** Every extern "C" kernel the CUDA backend looks up by name with cuModuleGetFunction. */
    static final List<String> KERNELS = KernelFatbin.KERNELS;

    @Test
    void fatbinIsPackagedWhenNvccIsInstalled() {
        assumeTrue(cudaTool("nvcc").isPresent(), "nvcc not installed here: the build packages no fatbin");
        Optional<byte[]> fatbin = KernelFatbin.load();
        assertTrue(fatbin.isPresent(), () -> "nvcc is installed but the jar has no fatbin: " + KernelFatbin.whyMissing());
        // the fatbin header magic 0xBA55ED50, little-endian
        assertArrayEquals(new byte[] {0x50, (byte) 0xED, 0x55, (byte) 0xBA}, Arrays.copyOf(fatbin.get(), 4));
        assertEquals(Optional.empty(), KernelFatbin.whyMissing());
    }

    @Test
    void fatbinHoldsSassForSm80AndSm90aAndCompute80Ptx() {
        byte[] fatbin = fatbinOrSkip();
        assertEquals(Set.of("sm_80", "sm_90a", "compute_80"), Set.copyOf(KernelFatbin.targets(fatbin)));
    }

    @Test
    void kernelNamesAreNotMangled() {
        byte[] fatbin = fatbinOrSkip();
        // SASS ELFs are stored uncompressed, so their string tables hold the NUL-terminated symbol
        // names; a kernel that lost extern "C" appears only mangled (_Z12rmsnorm_bf16...).
        String text = new String(fatbin, StandardCharsets.ISO_8859_1);
        for (String kernel : KERNELS) {
            assertTrue(text.contains("\0" + kernel + "\0"), () -> kernel + " is missing or C++-mangled in the fatbin");
        }
    }

    @Test
    void cuobjdumpListsSm80Sm90aAndPtx(@TempDir Path dir) throws Exception {
        byte[] fatbin = fatbinOrSkip();
        Optional<Path> cuobjdump = cudaTool("cuobjdump");
        assumeTrue(cuobjdump.isPresent(), "cuobjdump not installed here");
        Path file = Files.write(dir.resolve("nemotron_kernels.fatbin"), fatbin);

        String elves = run(cuobjdump.get().toString(), "--list-elf", file.toString());
        assertTrue(elves.contains("sm_80"), elves);
        assertTrue(elves.contains("sm_90a"), elves);
        String ptx = run(cuobjdump.get().toString(), "--list-ptx", file.toString());
        assertTrue(ptx.contains("sm_80") && ptx.contains(".ptx"), ptx);
        assertFalse(ptx.contains("sm_90a"), () -> "arch-specific PTX does not run on newer GPUs: " + ptx);
    }

    @Test
    void missingFatbinSaysWhy() {
        assumeTrue(cudaTool("nvcc").isEmpty(), "nvcc is installed here, so the fatbin is present");
        assertEquals(Optional.empty(), KernelFatbin.load());
        String reason = KernelFatbin.whyMissing().orElseThrow();
        assertTrue(reason.contains("nvcc"), reason);
        IllegalStateException e = assertThrows(IllegalStateException.class, KernelFatbin::require);
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @Test
    void targetsReadsAHandWrittenFatbin() {
        // one header and two entries laid out as documented on KernelFatbin.targets: an sm_90a ELF
        // with a 4-byte payload, then a compute_80 PTX with none
        byte[] b = new byte[16 + 64 + 4 + 64];
        putLe(b, 0, 0xBA55ED50L, 4);
        putLe(b, 4, 1, 2);
        putLe(b, 6, 16, 2);
        putLe(b, 8, b.length - 16, 8);
        int e = 16;
        putLe(b, e, 2, 2);
        putLe(b, e + 4, 64, 4);
        putLe(b, e + 8, 4, 8);
        putLe(b, e + 28, 90, 4);
        putLe(b, e + 40, 0x100011, 8);
        e += 64 + 4;
        putLe(b, e, 1, 2);
        putLe(b, e + 4, 64, 4);
        putLe(b, e + 28, 80, 4);
        putLe(b, e + 40, 0x11, 8);
        assertEquals(List.of("sm_90a", "compute_80"), KernelFatbin.targets(b));
        assertEquals(List.of(), KernelFatbin.targets(new byte[] {1, 2, 3}));
    }

    private static void putLe(byte[] b, int offset, long value, int bytes) {
        for (int i = 0; i < bytes; i++) {
            b[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    private static byte[] fatbinOrSkip() {
        Optional<byte[]> fatbin = KernelFatbin.load();
        assumeTrue(fatbin.isPresent(), () -> "no fatbin in this build: " + KernelFatbin.whyMissing().orElse(""));
        return fatbin.get();
    }

    /** Where build-fatbin.sh also looks: $NVCC, else PATH, $CUDA_HOME/bin, /usr/local/cuda/bin, /usr/local/cuda-x.y/bin. */
    private static Optional<Path> cudaTool(String name) {
        String pinned = System.getenv("NVCC");
        if (pinned != null && !pinned.isEmpty()) {
            // build-fatbin.sh uses only $NVCC when it is set; its toolkit's other tools sit beside it
            Path tool = Path.of(pinned).resolveSibling(name);
            return Files.isExecutable(tool) ? Optional.of(tool) : Optional.empty();
        }
        List<Path> dirs = new ArrayList<>();
        for (String entry : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!entry.isEmpty()) {
                dirs.add(Path.of(entry));
            }
        }
        String cudaHome = System.getenv("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isEmpty()) {
            dirs.add(Path.of(cudaHome, "bin"));
        }
        dirs.add(Path.of("/usr/local/cuda/bin"));
        try (Stream<Path> local = Files.list(Path.of("/usr/local"))) {
            local.filter(p -> p.getFileName().toString().startsWith("cuda-")).sorted().forEach(p -> dirs.add(p.resolve("bin")));
        } catch (IOException ignored) {
            // no /usr/local: nothing more to search
        }
        return dirs.stream().map(d -> d.resolve(name)).filter(Files::isExecutable).findFirst();
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
        assertEquals(0, p.exitValue(), () -> String.join(" ", command) + " failed:\n" + out);
        return out;
    }
}
