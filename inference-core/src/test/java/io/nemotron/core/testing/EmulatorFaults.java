package io.nemotron.core.testing;


import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The host emulator's fault switches and memory counter (cuda-kernels/src/emulator/emu_api.h), for tests: the next
 * {@code count} calls of a site after {@code skip} successful ones fail. Sites: {@code "alloc"} (cuMemAlloc answers
 * CUDA_ERROR_OUT_OF_MEMORY), {@code "launch"} (cuLaunchKernel answers CUDA_ERROR_LAUNCH_FAILED, not sticky),
 * {@code "graph"} (cuGraphLaunch answers CUDA_ERROR_LAUNCH_FAILED before any of the graph's work runs),
 * {@code "nccl"} (a collective answers ncclSystemError on the fault rank and its communicator is aborted). The fault
 * rank ({@link #onRank}, -1 = any) filters every site by device ordinal / NCCL rank.
 *
 * <p>The switches are process-global: a test that sets them calls {@link #reset()} afterwards (in {@code @AfterEach}),
 * so that the next test class of the same surefire fork starts clean. Usable once JCuda has loaded libcuda.so.1
 * (after {@code CudaDevice.open}): {@code SymbolLookup.libraryLookup} then returns that library.
 */
public final class EmulatorFaults {
    public static final String ALLOC = "alloc";
    public static final String LAUNCH = "launch";
    public static final String NCCL = "nccl";
    public static final String GRAPH = "graph";

    private static volatile Handles handles;

    private record Handles(MethodHandle inject, MethodHandle onRank, MethodHandle usedBytes) {}

    private EmulatorFaults() {}

    /** Skips the calling test unless the emulated driver, with its fault switches, is the loaded libcuda.so.1. */
    public static void assumeEmulator() {
        CudaAvailability.require("1".equals(System.getenv("NEMOTRON_CUDA_EMULATOR")),
                () -> "the fault switches are the host emulator's (NEMOTRON_CUDA_EMULATOR=1)");
        CudaAvailability.require(bind() != null, () -> "libcuda.so.1 has no nemotronEmuInjectFault: not the host emulator");
    }

    private static Handles bind() {
        Handles h = handles;
        if (h != null) {
            return h;
        }
        synchronized (EmulatorFaults.class) {
            if (handles == null) {
                SymbolLookup cuda;
                try {
                    cuda = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
                } catch (IllegalArgumentException e) {
                    return null;
                }
                var inject = cuda.find("nemotronEmuInjectFault");
                var onRank = cuda.find("nemotronEmuSetFaultRank");
                var used = cuda.find("nemotronEmuUsedBytes");
                if (inject.isEmpty() || onRank.isEmpty() || used.isEmpty()) {
                    return null;
                }
                Linker linker = Linker.nativeLinker();
                handles = new Handles(
                        linker.downcallHandle(inject.get(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)),
                        linker.downcallHandle(onRank.get(), FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT)),
                        linker.downcallHandle(used.get(), FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_INT)));
            }
            return handles;
        }
    }

    private static Handles require() {
        Handles h = bind();
        if (h == null) {
            throw new IllegalStateException("the emulator's fault switches are not loaded (call assumeEmulator first)");
        }
        return h;
    }

    /** The next {@code count} calls of {@code site} after {@code skip} successful ones fail (count 0: off). */
    public static void inject(String site, int skip, int count) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocateFrom(site);
            require().inject().invokeExact(s, skip, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Only calls on this device / NCCL rank take faults; -1 = any. */
    public static void onRank(int rank) {
        try {
            require().onRank().invokeExact(rank);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Bytes allocated (cuMemAlloc, exact sizes) on emulated device {@code device} now. */
    public static long usedBytes(int device) {
        try {
            return (long) require().usedBytes().invokeExact(device);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Every site off and the fault rank back to any; a no-op when the switches were never bound. */
    public static void reset() {
        if (handles == null) {
            return;
        }
        for (String site : new String[] {ALLOC, LAUNCH, NCCL, GRAPH}) {
            inject(site, 0, 0);
        }
        onRank(-1);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
