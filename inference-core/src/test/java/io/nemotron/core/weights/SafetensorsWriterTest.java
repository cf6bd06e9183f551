package io.nemotron.core.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.nemotron.core.testing.Reference;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** Written files read back byte for byte, both through the reader and through the test's own raw parser. */
class SafetensorsWriterTest {
    @TempDir
    Path dir;

    private static byte[] randomBytes(Random rnd, long n) {
        byte[] b = new byte[(int) n];
        rnd.nextBytes(b);
        return b;
    }

    @Test
    void roundTripOfMixedDtypesAndShapes() throws Exception {
        Random rnd = new Random(42);
        List<String> names = List.of("scalar", "empty", "vec", "mat", "cube");
        List<DType> dtypes = List.of(DType.F32, DType.BF16, DType.F16, DType.BF16, DType.F32);
        List<long[]> shapes = List.of(new long[] {}, new long[] {0, 4}, new long[] {7}, new long[] {3, 5}, new long[] {2, 3, 4});
        List<byte[]> contents = new ArrayList<>();
        List<PendingTensor> tensors = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            long numel = 1;
            for (long d : shapes.get(i)) {
                numel *= d;
            }
            byte[] bytes = randomBytes(rnd, numel * dtypes.get(i).bytes());
            contents.add(bytes);
            MemorySegment src = MemorySegment.ofArray(bytes);
            int elementBytes = dtypes.get(i).bytes();
            tensors.add(new PendingTensor(names.get(i), dtypes.get(i), shapes.get(i),
                    (first, dst) -> MemorySegment.copy(src, first * elementBytes, dst, 0, dst.byteSize())));
        }
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter.write(file, tensors, 8); // tiny chunks exercise the chunk arithmetic
        assertEquals(0, RawSafetensors.headerLength(file) % 8, "header padded to a multiple of 8");
        JsonNode header = RawSafetensors.header(file);
        assertEquals("pt", header.get("__metadata__").get("format").asString());
        long expectedOffset = 0;
        for (int i = 0; i < names.size(); i++) {
            JsonNode entry = header.get(names.get(i));
            assertEquals(dtypes.get(i).name(), entry.get("dtype").asString());
            assertEquals(expectedOffset, entry.get("data_offsets").get(0).asLong(), "packed back to back");
            expectedOffset += contents.get(i).length;
            assertArrayEquals(contents.get(i), RawSafetensors.tensorBytes(file, names.get(i)), names.get(i));
        }
        assertEquals(8 + RawSafetensors.headerLength(file) + expectedOffset, Files.size(file));
        try (var r = SafetensorsReader.open(file)) {
            for (int i = 0; i < names.size(); i++) {
                Tensor t = r.tensor(names.get(i));
                assertEquals(dtypes.get(i), t.dtype());
                assertArrayEquals(shapes.get(i), t.shape());
                assertArrayEquals(contents.get(i), t.data().toArray(ValueLayout.JAVA_BYTE));
            }
        }
        assertFalse(Files.exists(dir.resolve("model.safetensors.tmp")));
    }

    @Test
    void fillSeesAbsoluteElementIndicesAcrossChunks() throws Exception {
        Path file = dir.resolve("idx.safetensors");
        ValueLayout.OfFloat f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        SafetensorsWriter.write(file, List.of(new PendingTensor("w", DType.F32, new long[] {10, 10}, (first, dst) -> {
            for (long i = 0; i < dst.byteSize() / 4; i++) {
                dst.setAtIndex(f32, i, first + i);
            }
        })), 12); // 3 elements per chunk, the last chunk holds 1
        try (var r = SafetensorsReader.open(file)) {
            MemorySegment data = r.tensor("w").data();
            for (int i = 0; i < 100; i++) {
                assertEquals(i, data.getAtIndex(f32, i));
            }
        }
    }

    @Test
    void copyOfAReferenceCheckpointIsByteIdenticalPerTensor() throws Exception {
        Path src = Reference.stories().resolve("model.safetensors");
        Path copy = dir.resolve("model.safetensors");
        try (var r = SafetensorsReader.open(src)) {
            SafetensorsWriter.writeTensors(copy, r.names().stream().map(r::tensor).toList());
            for (String name : r.names()) {
                assertArrayEquals(RawSafetensors.tensorBytes(src, name), RawSafetensors.tensorBytes(copy, name), name);
            }
        }
        assertEquals(Files.size(src) - 8 - RawSafetensors.headerLength(src), Files.size(copy) - 8 - RawSafetensors.headerLength(copy));
    }

    @Test
    void duplicateNamesAreRefused() {
        PendingTensor t = new PendingTensor("w", DType.F32, new long[] {1}, (first, dst) -> dst.fill((byte) 0));
        assertThrows(WeightsException.class, () -> SafetensorsWriter.write(dir.resolve("d.safetensors"), List.of(t, t)));
        assertFalse(Files.exists(dir.resolve("d.safetensors")));
    }

    @Test
    void bf16RoundingIsToNearestEven() {
        // 1 + 2^-8 is exactly halfway between bf16 1.0 and 1 + 2^-7: ties go to the even mantissa (1.0)
        assertEquals(1.0f, DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(1f + 0x1p-8f)));
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): goes up
        assertEquals(1f + 0x1p-6f, DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(1f + 3 * 0x1p-8f)));
        assertEquals(-2.5f, DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(-2.5f)));
        assertEquals(Float.POSITIVE_INFINITY, DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(Float.POSITIVE_INFINITY)));
        assertEquals(true, Float.isNaN(DTypeCodec.bf16ToFloat(DTypeCodec.floatToBf16(Float.NaN))));
    }
}
