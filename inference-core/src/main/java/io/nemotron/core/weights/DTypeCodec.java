package io.nemotron.core.weights;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Reads and writes single elements of a little-endian F32 / BF16 / F16 / F8_E4M3 tensor as floats (an F8_E4M3 element
 * is its code's value, unscaled; writing one saturates and rounds as {@link Fp8E4m3#encode}).
 */
public final class DTypeCodec {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private DTypeCodec() {}

    public static float get(DType dtype, MemorySegment data, long index) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32, index);
            case BF16 -> bf16ToFloat(data.getAtIndex(U16, index));
            case F16 -> Float.float16ToFloat(data.getAtIndex(U16, index));
            case F8_E4M3 -> Fp8E4m3.decode(data.get(ValueLayout.JAVA_BYTE, index));
        };
    }

    public static void set(DType dtype, MemorySegment data, long index, float value) {
        switch (dtype) {
            case F32 -> data.setAtIndex(F32, index, value);
            case BF16 -> data.setAtIndex(U16, index, floatToBf16(value));
            case F16 -> data.setAtIndex(U16, index, Float.floatToFloat16(value));
            case F8_E4M3 -> data.set(ValueLayout.JAVA_BYTE, index, Fp8E4m3.encode(value));
        }
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Round to nearest, ties to even, as PyTorch's {@code .to(torch.bfloat16)}; NaN stays a quiet NaN. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }
}
