package io.nemotron.core.backend.cpu;

import io.nemotron.core.backend.Backend.Buf;
import java.util.Arrays;

/** The CPU backend's activation buffers for tests in other packages (the CUDA op-parity suite). */
public final class CpuBuffers {
    private CpuBuffers() {}

    /** {@code values} into the start of {@code buf} (rows at whatever width the op that reads them uses). */
    public static void write(CpuBackend backend, Buf buf, float[] values) {
        System.arraycopy(values, 0, backend.buffer(buf), 0, values.length);
    }

    /** The first {@code count} values of {@code buf}. */
    public static float[] read(CpuBackend backend, Buf buf, int count) {
        return Arrays.copyOf(backend.buffer(buf), count);
    }
}
