package io.nemotron.core.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.testing.Reference;
import org.junit.jupiter.api.Test;

/** The decode hot loop allocates nothing per token ({@link DecodeAllocations}: the JVM's allocation counter). */
class DecodeAllocationTest {

    @Test
    void steadyStateDecodeStepsAllocateNothing() {
        try (LoadedModel m = LoadedModel.openCpu(Reference.path("nemotron-nas-tiny/nas-tiny-a-bf16"), 2)) {
            long allocated = DecodeAllocations.steadyStateBytes(m);
            assertTrue(allocated < DecodeAllocations.LIMIT, "decode allocated " + allocated + " bytes over "
                    + DecodeAllocations.STEPS + " steps");
        }
    }
}
