package io.nemotron.core.backend.cuda;

import io.nemotron.core.weights.DTypeCodec;
import io.nemotron.core.weights.Fp8E4m3;

/**
 * The Java twins of the FP8 kernels (fp8.cu, and the FP8 KV cache's write and read): scalar definitions from the E4M3
 * codec ({@link Fp8E4m3}), which the kernels must match bit for bit. BF16 values travel as their bits.
 */
final class Fp8Twins {
    private Fp8Twins() {}

    /** fp8_quantize_bf16 of one element: bf16(decode(saturate_e4m3(x / inputScale))), the division in float. */
    static short quantizeBf16(short x, float inputScale) {
        return DTypeCodec.floatToBf16(Fp8E4m3.decode(Fp8E4m3.encode(DTypeCodec.bf16ToFloat(x) / inputScale)));
    }

    /** fp8_dequantize_bf16 of one code: its value as BF16 (exact). */
    static short dequantizeBf16(byte code) {
        return DTypeCodec.floatToBf16(Fp8E4m3.decode(code));
    }

    /** An FP8 KV cache's write of one element: the code of saturate_e4m3(x / scale), the division in float. */
    static byte kvEncode(short x, float scale) {
        return Fp8E4m3.encode(DTypeCodec.bf16ToFloat(x) / scale);
    }

    /** An FP8 KV cache's read of one element, as the attention kernels compute it: decode(code) · scale in float. */
    static float kvDecode(byte code, float scale) {
        return Fp8E4m3.decode(code) * scale;
    }
}
