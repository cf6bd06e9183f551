package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.nemotron.core.backend.cuda.CudaDevice;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class BenchGpuSliceCommandTest {
    @TempDir
    Path tmp;

    @Test
    void withoutAGpuTheBenchmarkWritesASkippedReportWithTheSliceItWouldRun() throws Exception {
        assumeTrue(CudaDevice.unavailableReason().isPresent(), "this machine has a GPU");
        Path out = tmp.resolve("slice.json");
        CliRun run = CliRun.of("bench", "gpu-slice", "--spec", Path.of("../scripts/gpu-slice.json").toString(),
                "--ultra-config", CliRun.reference("nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.config.json").toString(),
                "--output", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        JsonNode j = JsonMapper.builder().build().readTree(Files.readString(out));
        assertEquals("skipped", j.get("status").asString());
        // Ultra layers 134 (the widest FFN, no attention) and 157-159 (full attention), as scripts/gpu-slice.json says
        assertEquals("[134,157,158,159]", j.at("/slice/layers").toString());
    }
}
