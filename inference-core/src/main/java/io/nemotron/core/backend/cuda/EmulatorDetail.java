package io.nemotron.core.backend.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * The host emulator's explanation of the last failed call on this thread ({@code nemotronEmuLastError} of its
 * libcuda.so.1: which bytes lay outside which allocation, which barrier deadlocked, ...), so that a
 * {@link CudaException} raised under the emulator says more than the CUresult. Looked up only when
 * NEMOTRON_CUDA_EMULATOR=1; a real driver has no such symbol, and then this is always empty.
 */
final class EmulatorDetail {
    private static final MethodHandle LAST_ERROR = bind();

    private EmulatorDetail() {}

    private static MethodHandle bind() {
        if (!"1".equals(System.getenv("NEMOTRON_CUDA_EMULATOR"))) {
            return null;
        }
        try {
            // already loaded by JCuda's native library: dlopen returns that handle
            SymbolLookup lib = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
            return lib.find("nemotronEmuLastError")
                    .map(s -> Linker.nativeLinker().downcallHandle(s, FunctionDescriptor.of(ADDRESS)))
                    .orElse(null);
        } catch (IllegalArgumentException | IllegalCallerException e) {
            return null;
        }
    }

    static Optional<String> lastError() {
        if (LAST_ERROR == null) {
            return Optional.empty();
        }
        try {
            MemorySegment s = (MemorySegment) LAST_ERROR.invokeExact();
            String detail = s.reinterpret(4096).getString(0);
            return detail.isEmpty() ? Optional.empty() : Optional.of(detail);
        } catch (Throwable t) {
            return Optional.empty();
        }
    }
}
