package io.nemotron.core.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.testing.TinyFp8Checkpoint;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FP8 linear's per-call activation quantization reuses its grow-only scratch: decode steps of the tiny ModelOpt
 * FP8 checkpoint allocate nothing once warm ({@link DecodeAllocations}; the tiny model's linears are below the pool's
 * hand-off threshold, so they run on this thread).
 */
class Fp8DecodeAllocationTest {
    @TempDir
    Path dir;

    @Test
    void steadyStateFp8DecodeStepsAllocateNothing() {
        Path fp8 = TinyFp8Checkpoint.write(dir.resolve("fp8"), false);
        try (LoadedModel m = LoadedModel.openCpu(fp8, 2)) {
            long allocated = DecodeAllocations.steadyStateBytes(m);
            assertTrue(allocated < DecodeAllocations.LIMIT, "FP8 decode allocated " + allocated + " bytes over "
                    + DecodeAllocations.STEPS + " steps");
        }
    }
}
