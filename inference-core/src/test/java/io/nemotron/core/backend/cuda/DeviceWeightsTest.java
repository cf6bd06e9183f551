package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nemotron.core.testing.Reference;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.SafetensorsReader;
import io.nemotron.core.weights.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The upload conversion, without a GPU: an F32 checkpoint rounded to BF16 must give exactly the BF16 checkpoint that
 * was exported from it (nemotron-nas-tiny ships both; its README: "the same weights rounded to BF16").
 */
class DeviceWeightsTest {

    @Test
    void f32CheckpointRoundsToTheShippedBf16Checkpoint() {
        try (SafetensorsReader f32 = SafetensorsReader.open(Reference.tinyF32());
             SafetensorsReader bf16 = SafetensorsReader.open(Reference.tinyBf16())) {
            java.util.Set<String> names = f32.names();
            assertEquals(34, names.size());
            for (String name : names) {
                Tensor a = f32.tensor(name);
                Tensor b = bf16.tensor(name);
                assertEquals(DType.F32, a.dtype());
                assertEquals(DType.BF16, b.dtype());
                int n = (int) a.numel();
                short[] rounded = new short[n];
                short[] copied = new short[n];
                // two halves: the chunked path starts mid-tensor
                int half = n / 2;
                short[] part = new short[n - half];
                DeviceWeights.toBf16(a, 0, rounded, half);
                DeviceWeights.toBf16(a, half, part, n - half);
                System.arraycopy(part, 0, rounded, half, n - half);
                DeviceWeights.toBf16(b, 0, copied, n);
                assertArrayEquals(copied, rounded, name);
            }
        }
    }

    @Test
    void roundingIsToNearestEven() {
        // 1 + 2^-8 is halfway between BF16 1.0 (0x3F80) and 1 + 2^-7 (0x3F81): ties go to the even 0x3F80;
        // 1 + 3·2^-8 is halfway between 0x3F81 and 0x3F82: ties go to 0x3F82
        float[] values = {1f + 0x1p-8f, 1f + 3 * 0x1p-8f, -2.5f};
        java.lang.foreign.MemorySegment seg = java.lang.foreign.Arena.ofAuto().allocate(values.length * 4L);
        for (int i = 0; i < values.length; i++) {
            seg.set(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), i * 4L,
                    values[i]);
        }
        Tensor t = new Tensor("t", DType.F32, new long[] {3}, seg);
        short[] out = new short[3];
        DeviceWeights.toBf16(t, 0, out, 3);
        assertArrayEquals(new short[] {0x3F80, 0x3F82, (short) 0xC020}, out);
    }
}
