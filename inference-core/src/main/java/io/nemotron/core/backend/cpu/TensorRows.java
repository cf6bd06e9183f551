package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.Fp8E4m3;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Widens rows of a tensor of any dtype to FP32 (embedding gathers and small vectors such as norm weights). */
final class TensorRows {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TensorRows() {}

    /** out[off .. off+cols) = row {@code row} of a [rows, cols] tensor (a 1-D tensor is one row). */
    static void read(Tensor t, int row, float[] out, int off) {
        int cols = t.shape().length == 1 ? (int) t.shape()[0] : t.cols();
        MemorySegment d = t.data();
        long base = (long) row * cols;
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(d, F32, base * 4, out, off, cols);
            case BF16 -> {
                for (int c = 0; c < cols; c++) {
                    out[off + c] = Float.intBitsToFloat((d.getAtIndex(U16, base + c) & 0xFFFF) << 16);
                }
            }
            case F16 -> {
                for (int c = 0; c < cols; c++) {
                    out[off + c] = Float.float16ToFloat(d.getAtIndex(U16, base + c));
                }
            }
            case F8_E4M3 -> {
                // only linears are FP8 (never an embedding or a norm); a row is its codes' values times the weight scale
                float scale = t.requireScales().weight();
                for (int c = 0; c < cols; c++) {
                    out[off + c] = Fp8E4m3.decode(d.get(ValueLayout.JAVA_BYTE, base + c)) * scale;
                }
            }
        }
    }

    static float[] vector(Tensor t) {
        float[] out = new float[(int) t.numel()];
        read(t, 0, out, 0);
        return out;
    }
}
