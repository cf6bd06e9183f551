package io.nemotron.service.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.demo.DemoModel;
import io.nemotron.service.cli.LauncherIT.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Issue 19, must-show 1: {@code ./nemotron bench memory} serves the demo model (the server's default) through the real
 * launcher and its resident memory after serving stays within 1.15 × weight bytes + KV pool + 1 GiB. Slow profile.
 */
class BenchMemoryIT {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final long GIB = 1L << 30;

    @TempDir
    Path tmp;

    @Test
    void theServedDemoModelStaysWithinTheBound() throws Exception {
        Path cache = Files.createDirectories(tmp.resolve("cache"));
        Result r = LauncherIT.nemotron(Map.of("NEMOTRON_CACHE_DIR", cache.toString()), null, "bench", "memory",
                "--model", "demo", "--requests", "4", "--threads", "2", "--workdir", tmp.resolve("work").toString(),
                "--output", "json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = JSON.readTree(r.out());
        System.out.println("bench memory --model demo: " + j);

        // the parts, each from its own source
        Path demo = DemoModel.ensure(cache);
        long safetensors;
        try (Stream<Path> files = Files.list(demo)) {
            safetensors = files.filter(p -> p.toString().endsWith(".safetensors")).mapToLong(p -> p.toFile().length())
                    .sum();
        }
        assertEquals(safetensors, j.get("weight_bytes").asLong());
        assertEquals(expectedKvPool(DemoModel.config(), GIB, 16), j.get("kv_pool_bytes").asLong());
        assertEquals(4 * 32, j.get("generated_tokens").asLong());
        // the launcher's heap reached the measured server: kv-cache-size 1 GiB + 512 MiB
        assertEquals(1536L << 20, j.get("heap_max_bytes").asLong());
        // the kernel's own identity VmRSS = RssAnon + RssFile + RssShmem
        assertEquals(j.get("vm_rss_bytes").asLong(), j.get("rss_anon_bytes").asLong()
                + j.get("rss_file_bytes").asLong() + j.get("rss_shmem_bytes").asLong());
        // the KV pool is allocated (and zeroed, so resident) on the heap at load
        assertThat(j.get("heap_used_bytes").asLong()).isGreaterThanOrEqualTo(j.get("kv_pool_bytes").asLong());
        assertThat(j.get("rss_anon_bytes").asLong()).isGreaterThanOrEqualTo(j.get("kv_pool_bytes").asLong());

        long bound = (long) Math.floor(1.15 * j.get("weight_bytes").asLong()) + j.get("kv_pool_bytes").asLong() + GIB;
        assertEquals(bound, j.get("bound_bytes").asLong());
        assertThat(j.get("vm_rss_bytes").asLong()).as("resident memory after serving").isLessThanOrEqualTo(bound);
        assertTrue(j.get("within_bound").asBoolean());
    }

    /** Whole blocks of {@code blockSize} tokens in {@code kvBytes}; a token is K and V of every FULL layer in BF16. */
    private static long expectedKvPool(ModelConfig config, long kvBytes, int blockSize) {
        long perToken = 0;
        for (BlockConfig b : config.blocks()) {
            if (b.attention() instanceof AttentionKind.Full full) {
                perToken += 2L * full.kvHeads() * config.headDim() * 2; // K and V, 2 bytes a BF16 value
            }
        }
        long perBlock = perToken * blockSize;
        return kvBytes / perBlock * perBlock;
    }
}
