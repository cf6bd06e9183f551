package io.nemotron.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nemotron.core.testing.Reference;
import java.nio.file.Files;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Ultra's sizes against two oracles: the numbers published with the task (253,401,268,224 parameters, 262,144 KV
 * bytes per token in bf16, 64/0/98 attention and 81/0/81 FFN) and a computation written here from the raw JSON,
 * sharing no code with the loader or {@link ModelStats}.
 */
class UltraStatsTest {
    private static JsonNode raw;
    private static ModelStats stats;

    @BeforeAll
    static void load() throws Exception {
        raw = JsonMapper.builder().build().readTree(Files.readString(Reference.ultraConfig()));
        stats = ModelStats.of(ModelConfigLoader.load(Reference.ultraConfig()));
    }

    /** DeciLM: find_multiple(int(2 * ffn_mult * hidden / 3), 256), evaluated left to right like Python. */
    private static long intermediate(double ffnMult, long hidden) {
        long n = (long) (2 * ffnMult * hidden / 3);
        return (n + 255) / 256 * 256;
    }

    @Test
    void intermediateSizesByHand() {
        // 2·0.4875·16384/3 = 5324.8 → 5324 → next multiple of 256: 21·256 = 5376
        assertEquals(5376, ModelConfig.ffnMultToIntermediateSize(0.4875, 16384));
        // 2·4.875·16384/3 = 53248 exactly = 208·256
        assertEquals(53248, ModelConfig.ffnMultToIntermediateSize(4.875, 16384));
        // 2·36.5625·16384/3 = 399360 = 1560·256
        assertEquals(399360, ModelConfig.ffnMultToIntermediateSize(36.5625, 16384));
        // 2·2.4375·16384/3 = 26624 = 104·256
        assertEquals(26624, ModelConfig.ffnMultToIntermediateSize(2.4375, 16384));
        // tiny, hidden 128: 1.0 → 85 → 256; 2.5 → 213 → 256; 0.5 → 42 → 256
        assertEquals(256, ModelConfig.ffnMultToIntermediateSize(1.0, 128));
        assertEquals(256, ModelConfig.ffnMultToIntermediateSize(2.5, 128));
        assertEquals(256, ModelConfig.ffnMultToIntermediateSize(0.5, 128));
    }

    @Test
    void parametersMatchIndependentSumAndPublishedNumber() {
        long hidden = raw.get("hidden_size").asLong();
        long heads = raw.get("num_attention_heads").asLong();
        long headDim = hidden / heads; // Ultra has no head_dim key
        long vocab = raw.get("vocab_size").asLong();
        long params = 2 * vocab * hidden + hidden; // embed_tokens + untied lm_head + final norm
        for (JsonNode block : raw.get("block_configs")) {
            JsonNode attn = block.get("attention");
            if (!attn.get("no_op").asBoolean()) {
                long kv = heads / attn.get("n_heads_in_group").asLong();
                params += hidden                                   // input_layernorm
                        + 2 * heads * headDim * hidden             // q_proj, o_proj
                        + 2 * kv * headDim * hidden;               // k_proj, v_proj
            }
            JsonNode ffn = block.get("ffn");
            if (!ffn.get("no_op").asBoolean()) {
                long inter = intermediate(ffn.get("ffn_mult").asDouble(), hidden);
                params += hidden + 3 * inter * hidden;             // post_attention_layernorm, gate, up, down
            }
        }
        assertEquals(253_401_268_224L, params, "the independent sum disagrees with the published number");
        assertEquals(params, stats.parameters());
    }

    @Test
    void kvBytesPerToken() {
        long headDim = raw.get("hidden_size").asLong() / raw.get("num_attention_heads").asLong();
        long expected = 0;
        for (JsonNode block : raw.get("block_configs")) {
            JsonNode attn = block.get("attention");
            if (!attn.get("no_op").asBoolean()) {
                long kv = raw.get("num_attention_heads").asLong() / attn.get("n_heads_in_group").asLong();
                expected += 2 * kv * headDim * 2; // K and V, bf16
            }
        }
        assertEquals(262_144L, expected);
        assertEquals(expected, stats.kvBytesPerToken(2));
        assertEquals(expected / 2, stats.kvBytesPerToken(1)); // fp8 KV
    }

    @Test
    void blockCensus() {
        int full = 0, noAttn = 0, mlp = 0, noFfn = 0;
        for (JsonNode block : raw.get("block_configs")) {
            if (block.get("attention").get("no_op").asBoolean()) noAttn++; else full++;
            if (block.get("ffn").get("no_op").asBoolean()) noFfn++; else mlp++;
        }
        assertEquals(new BlockCounts(64, 0, 98, 81, 0, 81), stats.blockCounts());
        assertEquals(new BlockCounts(full, 0, noAttn, mlp, 0, noFfn), stats.blockCounts());
    }

    @Test
    void layerMapDerivedTotalsAgree() throws Exception {
        // The derived per-layer table (SOURCE.md) carries its own per-layer params; its sum must be ours too.
        JsonNode map = JsonMapper.builder().build().readTree(Files.readString(
                Reference.existing("nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.layer_map.derived.json")));
        long total = 0;
        for (JsonNode g : map.get("global_tensors")) {
            total += numel(g.get(1));
        }
        for (JsonNode layer : map.get("layers")) {
            total += layer.get("params").asLong();
        }
        assertEquals(stats.parameters(), total);
    }

    @Test
    void perRankWeightsUnderTensorParallel8ByHand() {
        long h = 16384, v = 128256, d = 128;
        // tp 8: q/o split by 8 (16 heads each), k/v split by 8 (1 kv head each), FFN split, vocab split, norms whole.
        long perRank = 2 * (v / 8) * h + h; // embed + lm_head shards + final norm (128256 / 8 = 16032 exactly)
        for (JsonNode block : raw.get("block_configs")) {
            if (!block.get("attention").get("no_op").asBoolean()) {
                perRank += h + 2 * (128 / 8) * d * h + 2 * d * h;
            }
            if (!block.get("ffn").get("no_op").asBoolean()) {
                long inter = intermediate(block.get("ffn").get("ffn_mult").asDouble(), h);
                perRank += h + 3 * (inter / 8) * h; // every Ultra width is a multiple of 256, so of 8
            }
        }
        assertEquals(perRank * 2, stats.perRankWeightBytes(8, 2));
        // tp 1 bf16 is simply every parameter at 2 bytes
        assertEquals(253_401_268_224L * 2, stats.perRankWeightBytes(1, 2));
    }

    private static long numel(JsonNode shape) {
        long n = 1;
        for (JsonNode d : shape) {
            n *= d.asLong();
        }
        return n;
    }
}
