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
    void engineModeSplitsEveryFullDecodeStepIntoForwardAndTheStepThreadsOwnTime() throws Exception {
        CliRun run = CliRun.of("bench", "step", "--model", "demo", "--engine", "--service-listener", "--batch", "3",
                "--context", "5", "--gen-len", "6", "--rounds", "1", "--threads", "1", "--output", "json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode r = JsonMapper.builder().build().readTree(run.out()).get("results").get(0);
        assertEquals(3, r.get("concurrency").asInt());
        // 6 tokens each: the first comes from a prefill step (5 rows a sequence, not a decode step), the other 5
        // from decode steps; only steps with all 3 sequences count, and a request submitted after the step thread
        // took the first one into a step starts a step later, so 1 to 5 of them are full
        int steps = r.get("decode_steps").asInt();
        assertTrue(steps >= 1 && steps <= 5, run.out());
        double step = r.get("step_ms").asDouble();
        double forward = r.get("forward_ms").asDouble();
        assertTrue(forward > 0 && forward <= step, run.out());
        assertTrue(r.get("step_thread_own_ms").asDouble() > 0, run.out());
        assertTrue(r.get("step_thread_own_cpu_ms").asDouble() > 0, run.out());
    }

    @Test
    void refusesAnUnknownOutputFormat() {
        CliRun run = CliRun.of("bench", "step", "--model", "demo", "--output", "xml");
        assertNotEquals(0, run.exitCode());
        assertTrue(run.err().contains("--output must be text or json"), run.err());
    }
}
