package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.demo.DemoModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code --model demo}: written into the cache on first use, then generating like any checkpoint. */
class DemoCliTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @RegisterExtension
    final DemoCacheDir demoCache = new DemoCacheDir();

    @Test
    void generateWithDemoModelGivesEightIdsAndSaysTheWeightsAreRandom() throws Exception {
        assertEquals(demoCache.dir(), DemoModel.defaultCacheDir());
        CliRun run = CliRun.of("generate", "--model", "demo", "--prompt", "Hello", "--max-tokens", "8", "--output", "json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode out = JSON.readTree(run.out());
        assertEquals(8, out.get("output_ids").size(), run.out());
        assertEquals("length", out.get("finish_reason").asString());
        assertEquals(1, run.err().lines().filter(l -> l.contains("RANDOM weights")).count(), run.err());
        assertTrue(DemoModel.isDemo(demoCache.dir().resolve("checkpoint")));

        // the second start reuses the cache and, greedy, repeats itself
        CliRun again = CliRun.of("generate", "--model", "demo", "--prompt", "Hello", "--max-tokens", "8", "--output", "json");
        assertEquals(0, again.exitCode(), again.err());
        assertEquals(out.get("output_ids"), JSON.readTree(again.out()).get("output_ids"));
    }
}
