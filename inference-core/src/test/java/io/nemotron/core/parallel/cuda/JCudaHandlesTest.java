package io.nemotron.core.parallel.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import org.junit.jupiter.api.Test;

/** Addresses in and out of JCuda handles; no driver needed (the handles are plain Java objects until used). */
class JCudaHandlesTest {

    @Test
    void addressesRoundTripWithOffsets() {
        CUdeviceptr p = JCudaHandles.deviceptr(0x7f12_3456_7000L);
        assertEquals(0x7f12_3456_7000L, JCudaHandles.address(p));
        // withByteOffset is how a backend points into a buffer: the offset is part of the address NCCL must get
        assertEquals(0x7f12_3456_7000L + 4096, JCudaHandles.address(p.withByteOffset(4096)));
        assertEquals(0, JCudaHandles.address(new CUdeviceptr()), "a fresh, unallocated pointer is null");
    }

    @Test
    void streamsAreTheirRawHandle() {
        assertEquals(0, JCudaHandles.handle(null), "JCuda's null stream is the legacy default stream, 0 for NCCL");
        assertEquals(0, JCudaHandles.handle(new CUstream()));
        assertThrows(IllegalArgumentException.class, () -> JCudaHandles.handle(new CUdeviceptr()));
    }
}
