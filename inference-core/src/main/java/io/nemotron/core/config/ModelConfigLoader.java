package io.nemotron.core.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads Hugging Face {@code config.json} for {@code LlamaForCausalLM} and {@code DeciLMForCausalLM} (nemotron-nas).
 * Anything that would change the math and that we do not implement is refused, never ignored.
 */
public final class ModelConfigLoader {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Set<String> LLAMA_ARCHS = Set.of("LlamaForCausalLM");
    private static final Set<String> NAS_ARCHS = Set.of("DeciLMForCausalLM");

    private ModelConfigLoader() {}

    /** {@code path} is a config.json file or a checkpoint folder holding one. */
    public static ModelConfig load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new ModelConfigException("no config.json at " + file);
        }
        try {
            return parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new ModelConfigException("cannot read " + file + ": " + e.getMessage());
        }
    }

    public static ModelConfig parse(String json, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new ModelConfigException(source + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ModelConfigException(source + ": config must be a JSON object");
        }
        return new Reader(root, source).read();
    }

    private static final class Reader {
        private final JsonNode root;
        private final String source;

        Reader(JsonNode root, String source) {
            this.root = root;
            this.source = source;
        }

        ModelConfig read() {
            String arch = architecture();
            boolean nas = NAS_ARCHS.contains(arch);
            String modelType = optText(root, "model_type", nas ? "nemotron-nas" : "llama");
            String act = optText(root, "hidden_act", "silu");
            if (!act.equals("silu")) {
                throw fail("hidden_act", "'" + act + "' is not supported (only silu)");
            }
            refuseTrue(root, "attention_bias", "attention biases are not supported");
            refuseTrue(root, "mlp_bias", "MLP biases are not supported");
            JsonNode tp = root.get("pretraining_tp");
            if (tp != null && !tp.isNull() && tp.asInt() != 1) {
                throw fail("pretraining_tp", "must be 1, got " + tp);
            }
            if (root.has("sliding_window") && !root.get("sliding_window").isNull()
                    && !(root.has("use_sliding_window") && !root.get("use_sliding_window").asBoolean())) {
                throw fail("sliding_window", "sliding-window attention is not supported");
            }

            int hidden = reqPositiveInt(root, "hidden_size");
            int heads = reqPositiveInt(root, "num_attention_heads");
            int layers = reqPositiveInt(root, "num_hidden_layers");
            int vocab = reqPositiveInt(root, "vocab_size");
            int maxPos = reqPositiveInt(root, "max_position_embeddings");
            double eps = reqPositiveDouble(root, "rms_norm_eps");
            double theta = optDouble(root, "rope_theta", 10000.0);
            if (!(theta > 0)) {
                throw fail("rope_theta", "must be > 0, got " + theta);
            }
            int headDim = optPositiveInt(root, "head_dim", -1);
            if (headDim < 0) {
                if (hidden % heads != 0) {
                    throw fail("num_attention_heads", "hidden_size " + hidden + " is not divisible by " + heads + " heads");
                }
                headDim = hidden / heads;
            }
            if (headDim % 2 != 0) {
                throw fail("head_dim", "must be even for rotary embeddings, got " + headDim);
            }

            List<BlockConfig> blocks = nas ? nasBlocks(hidden, heads, layers) : llamaBlocks(hidden, heads, layers);
            boolean tied = optBoolean(root, "tie_word_embeddings", false);
            int bos = optInt(root, "bos_token_id", -1);
            List<Integer> eos = eosIds(vocab);
            return new ModelConfig(arch, modelType, hidden, heads, headDim, vocab, maxPos, eps, theta,
                    ropeScaling(), tied, bos, eos, optText(root, "torch_dtype", "float32"), blocks);
        }

        private String architecture() {
            JsonNode archs = root.get("architectures");
            if (archs == null || !archs.isArray() || archs.isEmpty()) {
                throw fail("architectures", "missing (expected [\"LlamaForCausalLM\"] or [\"DeciLMForCausalLM\"])");
            }
            String arch = archs.get(0).asString();
            if (!LLAMA_ARCHS.contains(arch) && !NAS_ARCHS.contains(arch)) {
                throw fail("architectures", "'" + arch + "' is not supported (LlamaForCausalLM, DeciLMForCausalLM)");
            }
            return arch;
        }

        private List<BlockConfig> llamaBlocks(int hidden, int heads, int layers) {
            int kvHeads = optPositiveInt(root, "num_key_value_heads", heads);
            checkGqa(heads, kvHeads, "num_key_value_heads");
            int inter = reqPositiveInt(root, "intermediate_size");
            List<BlockConfig> blocks = new ArrayList<>(layers);
            for (int i = 0; i < layers; i++) {
                blocks.add(new BlockConfig(new AttentionKind.Full(kvHeads), new FfnKind.Mlp(inter)));
            }
            return blocks;
        }

        private List<BlockConfig> nasBlocks(int hidden, int heads, int layers) {
            JsonNode list = root.get("block_configs");
            if (list == null || !list.isArray()) {
                throw fail("block_configs", "missing (a DeciLM / nemotron-nas config needs one entry per layer)");
            }
            if (list.size() != layers) {
                throw fail("block_configs", "has " + list.size() + " entries but num_hidden_layers is " + layers);
            }
            List<BlockConfig> blocks = new ArrayList<>(layers);
            for (int i = 0; i < layers; i++) {
                JsonNode block = list.get(i);
                String where = "block_configs[" + i + "]";
                blocks.add(new BlockConfig(attention(block.get("attention"), where + ".attention", heads),
                        ffn(block.get("ffn"), where + ".ffn", hidden)));
            }
            return blocks;
        }

        private AttentionKind attention(JsonNode a, String where, int heads) {
            if (a == null || !a.isObject()) {
                throw new ModelConfigException(source + ": " + where + " is missing");
            }
            for (String unsupported : List.of("num_sink_tokens", "window_length", "sparsify")) {
                JsonNode v = a.get(unsupported);
                if (v != null && !v.isNull()) {
                    throw new ModelConfigException(source + ": " + where + "." + unsupported + " = " + v
                            + " is not supported (sink tokens, windowed and sparse attention are not implemented)");
                }
            }
            for (String unsupported : List.of("unshifted_sink", "use_prefill_window_in_sink_attention")) {
                if (a.has(unsupported) && a.get(unsupported).asBoolean(false)) {
                    throw new ModelConfigException(source + ": " + where + "." + unsupported + " = true is not supported");
                }
            }
            boolean noOp = a.path("no_op").asBoolean(false);
            boolean linear = a.path("replace_with_linear").asBoolean(false);
            if (noOp && linear) {
                throw new ModelConfigException(source + ": " + where + " is both no_op and replace_with_linear");
            }
            if (noOp) {
                return new AttentionKind.None();
            }
            if (linear) {
                return new AttentionKind.Linear();
            }
            JsonNode group = a.get("n_heads_in_group");
            if (group == null || group.isNull() || !group.canConvertToInt() || group.asInt() <= 0) {
                throw new ModelConfigException(source + ": " + where + ".n_heads_in_group is missing or not a positive integer");
            }
            int g = group.asInt();
            if (heads % g != 0) {
                throw new ModelConfigException(source + ": " + where + ".n_heads_in_group " + g
                        + " does not divide num_attention_heads " + heads);
            }
            return new AttentionKind.Full(heads / g);
        }

        private FfnKind ffn(JsonNode f, String where, int hidden) {
            if (f == null || !f.isObject()) {
                throw new ModelConfigException(source + ": " + where + " is missing");
            }
            JsonNode sparsify = f.get("sparsify");
            if (sparsify != null && !sparsify.isNull()) {
                throw new ModelConfigException(source + ": " + where + ".sparsify = " + sparsify + " is not supported");
            }
            boolean noOp = f.path("no_op").asBoolean(false);
            boolean linear = f.path("replace_with_linear").asBoolean(false);
            if (noOp && linear) {
                throw new ModelConfigException(source + ": " + where + " is both no_op and replace_with_linear");
            }
            if (noOp) {
                return new FfnKind.None();
            }
            if (linear) {
                return new FfnKind.Linear();
            }
            JsonNode mult = f.get("ffn_mult");
            if (mult == null || mult.isNull() || !mult.isNumber() || !(mult.asDouble() > 0)) {
                throw new ModelConfigException(source + ": " + where + ".ffn_mult is missing or not a positive number");
            }
            return new FfnKind.Mlp(ModelConfig.ffnMultToIntermediateSize(mult.asDouble(), hidden));
        }

        private void checkGqa(int heads, int kvHeads, String key) {
            if (heads % kvHeads != 0) {
                throw fail(key, kvHeads + " does not divide num_attention_heads " + heads);
            }
        }

        private RopeScaling ropeScaling() {
            JsonNode rs = root.get("rope_scaling");
            if (rs == null || rs.isNull()) {
                return null;
            }
            String type = rs.has("rope_type") ? rs.get("rope_type").asString() : rs.path("type").asString("");
            if (type.equals("default")) {
                return null;
            }
            if (!type.equals("llama3")) {
                throw fail("rope_scaling.rope_type", "'" + type + "' is not supported (only llama3)");
            }
            double factor = reqPositiveDouble(rs, "factor", "rope_scaling.factor");
            double low = reqPositiveDouble(rs, "low_freq_factor", "rope_scaling.low_freq_factor");
            double high = reqPositiveDouble(rs, "high_freq_factor", "rope_scaling.high_freq_factor");
            if (!(high > low)) {
                throw fail("rope_scaling.high_freq_factor", "must be greater than low_freq_factor");
            }
            int orig = (int) reqPositiveDouble(rs, "original_max_position_embeddings",
                    "rope_scaling.original_max_position_embeddings");
            return new RopeScaling(factor, low, high, orig);
        }

        private List<Integer> eosIds(int vocab) {
            JsonNode eos = root.get("eos_token_id");
            List<Integer> ids = new ArrayList<>();
            if (eos == null || eos.isNull()) {
                return ids;
            }
            if (eos.isArray()) {
                for (JsonNode id : eos) {
                    ids.add(tokenId(id, vocab));
                }
            } else {
                ids.add(tokenId(eos, vocab));
            }
            return ids;
        }

        private int tokenId(JsonNode id, int vocab) {
            if (!id.canConvertToInt() || !id.isIntegralNumber() || id.asInt() < 0) {
                throw fail("eos_token_id", "must be a non-negative integer or a list of them, got " + id);
            }
            return id.asInt();
        }

        private ModelConfigException fail(String key, String why) {
            return new ModelConfigException(source + ": " + key + " " + why);
        }

        private int reqPositiveInt(JsonNode node, String key) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) {
                throw fail(key, "is missing");
            }
            if (!v.isIntegralNumber() || v.asLong() <= 0 || v.asLong() > Integer.MAX_VALUE) {
                throw fail(key, "must be a positive integer, got " + v);
            }
            return v.asInt();
        }

        private int optPositiveInt(JsonNode node, String key, int fallback) {
            JsonNode v = node.get(key);
            return v == null || v.isNull() ? fallback : reqPositiveInt(node, key);
        }

        private int optInt(JsonNode node, String key, int fallback) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) {
                return fallback;
            }
            if (v.isArray() && !v.isEmpty()) {
                return v.get(0).asInt();
            }
            return v.asInt();
        }

        private double reqPositiveDouble(JsonNode node, String key) {
            return reqPositiveDouble(node, key, key);
        }

        private double reqPositiveDouble(JsonNode node, String key, String name) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) {
                throw fail(name, "is missing");
            }
            if (!v.isNumber() || !(v.asDouble() > 0)) {
                throw fail(name, "must be a positive number, got " + v);
            }
            return v.asDouble();
        }

        private static double optDouble(JsonNode node, String key, double fallback) {
            JsonNode v = node.get(key);
            return v == null || v.isNull() ? fallback : v.asDouble();
        }

        private static boolean optBoolean(JsonNode node, String key, boolean fallback) {
            JsonNode v = node.get(key);
            return v == null || v.isNull() ? fallback : v.asBoolean();
        }

        private static String optText(JsonNode node, String key, String fallback) {
            JsonNode v = node.get(key);
            return v == null || v.isNull() ? fallback : v.asString();
        }

        private void refuseTrue(JsonNode node, String key, String why) {
            if (node.has(key) && node.get(key).asBoolean(false)) {
                throw fail(key, "= true: " + why);
            }
        }
    }

}
