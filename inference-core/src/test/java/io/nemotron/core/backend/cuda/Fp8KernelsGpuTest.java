package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.nemotron.core.weights.DTypeCodec;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * fp8.cu's kernels against their Java twins ({@link Fp8Twins}), exhaustively and bit for bit: both are exact
 * definitions (a float division, then the E4M3 codec, whose every step is exact; decoding is exact), so any difference
 * is a bug. NaN results are compared as NaN (the payload is not part of the definition). Each kernel runs on the packed
 * path (aligned, whole packs) and on the element path (a misaligned start and a tail).
 */
@Tag("gpu")
class Fp8KernelsGpuTest {
    @RegisterExtension
    static final CudaTestDevice gpu = new CudaTestDevice();

    /** Every BF16 bit pattern once: zeros, subnormals, normals, infinities and NaNs of both signs. */
    private static short[] everyBf16() {
        short[] x = new short[1 << 16];
        for (int i = 0; i < x.length; i++) {
            x[i] = (short) i;
        }
        return x;
    }

    private static void assertSameBf16(short expected, short got, String what) {
        float e = DTypeCodec.bf16ToFloat(expected);
        float g = DTypeCodec.bf16ToFloat(got);
        if (Float.isNaN(e) ? !Float.isNaN(g) : expected != got) {
            fail(what + ": twin " + e + " (0x" + Integer.toHexString(expected & 0xFFFF) + "), kernel " + g + " (0x"
                    + Integer.toHexString(got & 0xFFFF) + ")");
        }
    }

    /**
     * Scales: 1 (the identity), 1.5/448 (calibrated for |x| <= 1.5: larger values saturate), 3.7 (inexact quotients,
     * ties and near-ties), 2^-20 (almost everything saturates) and 300 (most quotients fall into E4M3's subnormals or
     * to zero).
     */
    @ParameterizedTest
    @ValueSource(floats = {1f, 1.5f / 448f, 3.7f, 0x1p-20f, 300f})
    void quantizeEqualsItsTwinForEveryBf16Input(float scale) {
        short[] x = everyBf16();
        short[] expected = new short[x.length];
        for (int i = 0; i < x.length; i++) {
            expected[i] = Fp8Twins.quantizeBf16(x[i], scale);
        }
        Fp8Kernels kernels = new Fp8Kernels(gpu.kernels());
        try (DeviceBuffer in = gpu.upload(x, "x"); DeviceBuffer out = gpu.device().allocate(2L * x.length, "x8")) {
            kernels.fp8QuantizeBf16(out.address(), in.address(), x.length, scale);
            gpu.device().synchronize("fp8_quantize_bf16");
            short[] got = new short[x.length];
            out.download(got);
            for (int i = 0; i < x.length; i++) {
                assertSameBf16(expected[i], got[i], "x 0x" + Integer.toHexString(i) + " / " + scale);
            }
            // the element path: one element in (2-byte misalignment) and a tail of 5 past the last whole pack
            int n = x.length - 8 - 3;
            out.uploadAt(0, new short[x.length], x.length);
            kernels.fp8QuantizeBf16(out.address() + 2, in.address() + 2, n, scale);
            gpu.device().synchronize("fp8_quantize_bf16, misaligned");
            out.download(got);
            assertEquals(0, got[0], "before the first element");
            for (int i = 1; i <= n; i++) {
                assertSameBf16(expected[i], got[i], "misaligned x 0x" + Integer.toHexString(i) + " / " + scale);
            }
            assertEquals(0, got[n + 1], "past the last element");
        }
    }

    @Test
    void dequantizeEqualsItsTwinForEveryCode() {
        byte[] codes = new byte[256 * 4];
        for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) (i * 37 + i / 256);   // every code in each 256, in a scrambled order
        }
        Fp8Kernels kernels = new Fp8Kernels(gpu.kernels());
        try (DeviceBuffer in = gpu.upload(codes, "codes");
             DeviceBuffer out = gpu.device().allocate(2L * codes.length, "w")) {
            kernels.fp8DequantizeBf16(out.address(), in.address(), codes.length);
            gpu.device().synchronize("fp8_dequantize_bf16");
            short[] got = new short[codes.length];
            out.download(got);
            for (int i = 0; i < codes.length; i++) {
                assertSameBf16(Fp8Twins.dequantizeBf16(codes[i]), got[i], "code 0x" + Integer.toHexString(codes[i] & 0xFF));
            }
            // the element path: codes from byte 1 (not 8-byte aligned) into BF16 from element 1, a tail of 6
            int n = codes.length - 8 - 2;
            out.uploadAt(0, new short[codes.length], codes.length);
            kernels.fp8DequantizeBf16(out.address() + 2, in.address() + 1, n);
            gpu.device().synchronize("fp8_dequantize_bf16, misaligned");
            out.download(got);
            assertEquals(0, got[0], "before the first element");
            for (int i = 0; i < n; i++) {
                assertSameBf16(Fp8Twins.dequantizeBf16(codes[i + 1]), got[i + 1],
                        "misaligned code 0x" + Integer.toHexString(codes[i + 1] & 0xFF));
            }
            assertEquals(0, got[n + 1], "past the last element");
        }
    }
}
