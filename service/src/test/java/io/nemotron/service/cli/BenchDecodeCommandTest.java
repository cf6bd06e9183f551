package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.weights.DType;
import org.junit.jupiter.api.Test;

/** {@code bench decode --dtypes}: fp8 names the ModelOpt FP8 checkpoint; an unknown dtype is refused by name. */
class BenchDecodeCommandTest {

    @Test
    void fp8AndThePlainDtypesParse() {
        assertEquals(DType.F8_E4M3, BenchDecodeCommand.dtype("fp8"));
        assertEquals(DType.F8_E4M3, BenchDecodeCommand.dtype("FP8"));
        assertEquals(DType.BF16, BenchDecodeCommand.dtype("bf16"));
        assertEquals(DType.F32, BenchDecodeCommand.dtype("f32"));
    }

    @Test
    void refusesAnUnknownDtypeBeforeAnyWork() {
        CliRun run = CliRun.of("bench", "decode", "--shapes", "110m", "--dtypes", "bf16,int4");
        assertNotEquals(0, run.exitCode());
        assertTrue(run.err().contains("--dtypes: unknown dtype 'int4'"), run.err());
    }
}
