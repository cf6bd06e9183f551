package io.nemotron.core.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The oracle's rounding points against hand-computed values (BF16: 8 significant bits; E4M3: 4). */
class PrecisionTest {
    private static final double ULP_AT_ONE = 0x1p-7;   // BF16 spacing in [1, 2)

    @Test
    void bf16RoundsToNearestWithTiesToEven() {
        assertEquals(1.0, Precision.bf16(1.0));
        assertEquals(1 + ULP_AT_ONE, Precision.bf16(1 + ULP_AT_ONE * 0.75), "above the midpoint: up");
        assertEquals(1.0, Precision.bf16(1 + ULP_AT_ONE * 0.25), "below the midpoint: down");
        assertEquals(1.0, Precision.bf16(1 + ULP_AT_ONE / 2), "tie between mantissas 0 and 1: the even 0");
        assertEquals(1 + 2 * ULP_AT_ONE, Precision.bf16(1 + 1.5 * ULP_AT_ONE), "tie between 1 and 2: the even 2");
        assertEquals(-(1 + 2 * ULP_AT_ONE), Precision.bf16(-(1 + 1.5 * ULP_AT_ONE)), "symmetric in the sign");
        assertEquals(2.0, Precision.bf16(2 - ULP_AT_ONE / 4), "a carry into the exponent");
        assertEquals(0x1p-130, Precision.bf16(0x1p-130), "a float subnormal that BF16 holds");
    }

    @Test
    void bf16RoundsThroughFp32AsAKernelStoresItsFloatResult() {
        // 1 + 2^-8 + 2^-30 is above the BF16 midpoint, but its FP32 value is the midpoint itself (2^-30 is below
        // half an FP32 ulp at 1, 2^-24), which then ties to the even 1.0, as __float2bfloat16_rn of that float does
        assertEquals(1.0, Precision.bf16(1 + ULP_AT_ONE / 2 + 0x1p-30));
        assertEquals(1 + ULP_AT_ONE, Precision.bf16(1 + ULP_AT_ONE / 2 + 0x1p-22), "2^-22 survives FP32: up");
    }

    @Test
    void bf16KeepsNaNAndOverflowsToInfinityPastItsLargestValue() {
        assertTrue(Double.isNaN(Precision.bf16(Double.NaN)));
        assertEquals(Double.POSITIVE_INFINITY, Precision.bf16(Float.MAX_VALUE), "3.4028e38 > BF16's 3.3895e38 + ulp/2");
        assertEquals(0x1.FEp127, Precision.bf16(0x1.FEp127), "the largest BF16 value");
    }

    @Test
    void float64StoresNothingAndQuantizesTheExactQuotient() {
        Precision p = Precision.FLOAT64;
        assertEquals(1 + ULP_AT_ONE / 3, p.store(1 + ULP_AT_ONE / 3));
        assertEquals(1, p.rowParallelParts());
        assertEquals(1.0, p.fp8(2.125, 2), "1.0625 ties between 1 and 1.125: the even 1");
        assertEquals(1.25, p.fp8(2.375, 2), "1.1875 ties between 1.125 and 1.25: the even 1.25");
        assertEquals(448.0, p.fp8(1000, 1), "saturated");
        assertEquals(-0x1p-9, p.fp8(-0x1p-9, 1), "the smallest subnormal");
    }

    @Test
    void bf16ActivationsStoreBf16AndSplitRowParallelSums() {
        Precision p = new Precision.Bf16Activations(2);
        assertEquals(1.0, p.store(1 + ULP_AT_ONE / 3));
        assertEquals(2, p.rowParallelParts());
        assertEquals(1.0, p.fp8(2.125, 2));
        assertEquals(1.125, p.fp8(3.375 + 0x1p-20, 3), "1.125 + 2^-20/3: the FP32 quotient is not 1.125 exactly");
        assertThrows(IllegalArgumentException.class, () -> new Precision.Bf16Activations(0));
    }
}
