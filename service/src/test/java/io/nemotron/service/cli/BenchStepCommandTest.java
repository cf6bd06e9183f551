package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
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
    void aListOfKvCacheDtypesIsMeasuredSideBySideAndABadOneIsNamed() throws Exception {
        CliRun run = CliRun.of("bench", "step", "--model", "demo", "--batch", "2", "--context", "40", "--steps", "2",
                "--warmup-steps", "1", "--rounds", "1", "--threads", "1", "--kv-cache-dtype", "fp32,bf16,fp8");
        assertEquals(0, run.exitCode(), run.err());
        // the table: one line per dtype for the batch, attention time over fp32's (1.00x for fp32 itself)
        List<String> rows = run.out().lines().filter(l -> l.matches("2 +(fp32|bf16|fp8) .*x")).toList();
        assertEquals(3, rows.size(), run.out());
        assertTrue(rows.get(0).startsWith("2      fp32") && rows.get(0).endsWith("1.00x"), run.out());
        assertTrue(rows.get(1).contains("bf16") && rows.get(2).contains("fp8"), run.out());

        CliRun json = CliRun.of("bench", "step", "--model", "demo", "--batch", "1", "--context", "9", "--steps", "1",
                "--warmup-steps", "0", "--rounds", "1", "--threads", "1", "--kv-cache-dtype", "bf16,fp8",
                "--output", "json");
        assertEquals(0, json.exitCode(), json.err());
        JsonNode results = JsonMapper.builder().build().readTree(json.out()).get("results");
        assertEquals("bf16", results.get(0).get("kv_cache_dtype").asString());
        assertEquals("fp8", results.get(1).get("kv_cache_dtype").asString());
        assertTrue(results.get(1).get("attention_ms").asDouble() > 0, json.out());

        CliRun bad = CliRun.of("bench", "step", "--model", "demo", "--kv-cache-dtype", "fp32,fp4");
        assertNotEquals(0, bad.exitCode());
        assertEquals("error: --kv-cache-dtype 'fp4' is not one of auto, fp32, bf16, fp8", bad.err().strip());
    }

    @Test
    void refusesAnUnknownOutputFormat() {
        CliRun run = CliRun.of("bench", "step", "--model", "demo", "--output", "xml");
        assertNotEquals(0, run.exitCode());
        assertTrue(run.err().contains("--output must be text or json"), run.err());
    }
}
