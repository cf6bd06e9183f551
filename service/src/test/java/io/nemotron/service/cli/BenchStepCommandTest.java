package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code bench step}: the forward pass alone per batch size, split by backend op. */
class BenchStepCommandTest {
    @RegisterExtension
    final DemoCacheDir demoCache = new DemoCacheDir();

    @Test
    void reportsEveryBatchSizeWithItsOpsAsJson() throws Exception {
        CliRun run = CliRun.of("bench", "step", "--model", "demo", "--batch", "1,3", "--context", "9", "--steps", "3",
                "--warmup-steps", "1", "--rounds", "2", "--threads", "1", "--output", "json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode j = JsonMapper.builder().build().readTree(run.out());
        assertEquals(2, j.get("results").size());
        for (int i = 0; i < 2; i++) {
            JsonNode r = j.get("results").get(i);
            int batch = i == 0 ? 1 : 3;
            assertEquals(batch, r.get("batch").asInt());
            assertEquals(9, r.get("context").asInt());
            assertEquals(3, r.get("steps").asInt());
            // the demo model has six full-attention blocks (DemoShape: blocks 0, 1, 3, 6, 7 and 9)
            assertEquals(6.0, r.at("/ops/attention/calls_per_step").asDouble(), run.out());
        }
        assertEquals(4, run.err().lines().filter(l -> l.startsWith("round ")).count(), run.err());
    }

    @Test
    void refusesAnUnknownOutputFormat() {
        CliRun run = CliRun.of("bench", "step", "--model", "demo", "--output", "xml");
        assertNotEquals(0, run.exitCode());
        assertTrue(run.err().contains("--output must be text or json"), run.err());
    }
}
