package io.nemotron.core.bench;

import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelStats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The GPU benchmark's slice of Ultra, as {@code scripts/gpu-slice.json} states it (the file the PyTorch twin reads
 * too), and what a step of it must read and compute. The slice's blocks are taken from the real config by layer index
 * ({@link #config}), and the spec's own statement of their shapes must agree with it, so neither side can drift.
 *
 * <p>Counting conventions (the same in gpu-slice-torch.py): bytes of a step = every block weight once (BF16, norms
 * included; embedding rows and activations left out, they are under 0.1 %) + the K and V each attention row reads
 * (its context and itself, every FULL layer); FLOPs = 2 per weight of a linear layer per token + 4·heads·headDim per
 * attended position per FULL layer (QKᵀ and PV, causal: only the positions a row sees).
 */
public record GpuSlice(List<Integer> layers, int vocabSize, long seed, int blockSize, List<Integer> decodeBatches,
                       int decodeContext, int prefillTokens, int prefillChunk, int warmup, int repeats, JsonNode spec) {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    public GpuSlice {
        layers = List.copyOf(layers);
        decodeBatches = List.copyOf(decodeBatches);
        if (repeats < 20) {
            throw new IllegalArgumentException("the benchmark times at least 20 repeats, the spec says " + repeats);
        }
    }

    public static GpuSlice read(Path spec) {
        try {
            return parse(Files.readString(spec));
        } catch (IOException e) {
            throw new UncheckedIOException("reading the GPU slice spec " + spec, e);
        }
    }

    public static GpuSlice parse(String json) {
        JsonNode n = JSON.readTree(json);
        return new GpuSlice(ints(n.get("layers")), n.get("vocab_size").asInt(), n.get("seed").asLong(),
                n.get("block_size").asInt(), ints(n.get("decode").get("batches")), n.get("decode").get("context").asInt(),
                n.get("prefill").get("tokens").asInt(), n.get("prefill").get("chunk").asInt(), n.get("warmup").asInt(),
                n.get("repeats").asInt(), n);
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(v -> out.add(v.asInt()));
        return out;
    }

    /**
     * The slice as a model: {@code ultra}'s blocks at {@link #layers}, in that order, with the slice's vocabulary.
     * Fails, naming the difference, where the spec's hidden size, heads, head_dim or any block disagree with Ultra.
     */
    public ModelConfig config(ModelConfig ultra) {
        List<BlockConfig> blocks = new ArrayList<>();
        for (int layer : layers) {
            if (layer < 0 || layer >= ultra.numLayers()) {
                throw new IllegalArgumentException("slice layer " + layer + " outside the model's " + ultra.numLayers());
            }
            blocks.add(ultra.blocks().get(layer));
        }
        ModelConfig c = new ModelConfig(ultra.architecture(), ultra.modelType(), ultra.hiddenSize(),
                ultra.numAttentionHeads(), ultra.headDim(), vocabSize, ultra.maxPositionEmbeddings(), ultra.rmsNormEps(),
                ultra.ropeTheta(), ultra.ropeScaling(), false, 0, List.of(1), ultra.torchDtype(), blocks);
        List<String> drift = new ArrayList<>();
        same(drift, "hidden_size", spec.get("hidden_size").asInt(), c.hiddenSize());
        same(drift, "num_attention_heads", spec.get("num_attention_heads").asInt(), c.numAttentionHeads());
        same(drift, "head_dim", spec.get("head_dim").asInt(), c.headDim());
        same(drift, "rope_theta", spec.get("rope_theta").asDouble(), c.ropeTheta());
        same(drift, "rms_norm_eps", spec.get("rms_norm_eps").asDouble(), c.rmsNormEps());
        JsonNode specBlocks = spec.get("blocks");
        same(drift, "number of blocks", specBlocks.size(), layers.size());
        for (int i = 0; i < Math.min(specBlocks.size(), layers.size()); i++) {
            JsonNode b = specBlocks.get(i);
            BlockConfig real = blocks.get(i);
            String at = "block " + i + " (layer " + layers.get(i) + ") ";
            same(drift, at + "layer", b.get("layer").asInt(), layers.get(i));
            same(drift, at + "attention", b.get("attention").asString(), switch (real.attention()) {
                case AttentionKind.Full f -> "full";
                case AttentionKind.Linear l -> "linear";
                case AttentionKind.None none -> "no_op";
            });
            same(drift, at + "kv_heads", b.get("kv_heads").asInt(), kvHeads(real));
            same(drift, at + "ffn", b.get("ffn").asString(), switch (real.ffn()) {
                case FfnKind.Mlp m -> "mlp";
                case FfnKind.Linear l -> "linear";
                case FfnKind.None none -> "no_op";
            });
            same(drift, at + "intermediate_size", b.get("intermediate_size").asInt(), intermediate(real));
        }
        if (!drift.isEmpty()) {
            throw new IllegalArgumentException("the GPU slice spec disagrees with the Ultra config: " + String.join("; ", drift));
        }
        return c;
    }

    private static void same(List<String> drift, String what, Object spec, Object real) {
        if (!spec.equals(real)) {
            drift.add(what + ": spec " + spec + ", config " + real);
        }
    }

    private static int kvHeads(BlockConfig b) {
        return b.attention() instanceof AttentionKind.Full f ? f.kvHeads() : 0;
    }

    private static int intermediate(BlockConfig b) {
        return b.ffn() instanceof FfnKind.Mlp m ? m.intermediateSize() : 0;
    }

    /** Weights of the slice's linear layers (what a token multiplies through: 2 FLOPs each). */
    public static long linearParams(ModelConfig c) {
        long h = c.hiddenSize();
        long q = (long) c.numAttentionHeads() * c.headDim();
        long n = 0;
        for (BlockConfig b : c.blocks()) {
            switch (b.attention()) {
                case AttentionKind.Full f -> n += 2 * h * q + 2 * h * (long) f.kvHeads() * c.headDim();
                case AttentionKind.Linear l -> n += h * h;
                case AttentionKind.None none -> { }
            }
            switch (b.ffn()) {
                case FfnKind.Mlp m -> n += 3 * h * m.intermediateSize();
                case FfnKind.Linear l -> n += h * h;
                case FfnKind.None none -> { }
            }
        }
        return n;
    }

    /** Bytes of the blocks' weights in BF16: linear layers and each sub-block's norm (not embedding, final norm, head). */
    public static long blockWeightBytes(ModelConfig c) {
        long norms = 0;
        for (BlockConfig b : c.blocks()) {
            norms += (b.attention() instanceof AttentionKind.None ? 0 : 1) + (b.ffn() instanceof FfnKind.None ? 0 : 1);
        }
        return 2 * (linearParams(c) + norms * c.hiddenSize());
    }

    private static int fullLayers(ModelConfig c) {
        return (int) c.blocks().stream().filter(b -> b.attention() instanceof AttentionKind.Full).count();
    }

    /** Attention FLOPs of rows at positions {@code [from, to)} of one sequence, each seeing itself and all before. */
    public static long attentionFlops(ModelConfig c, long from, long to) {
        long seen = (to * (to + 1) - from * (from + 1)) / 2;   // Σ (p + 1) for p in [from, to)
        return 4L * c.numAttentionHeads() * c.headDim() * seen * fullLayers(c);
    }

    /** One decode step: {@code batch} sequences, each adding the token at position {@code context}. */
    public static long decodeBytes(ModelConfig c, int batch, int context) {
        return blockWeightBytes(c) + (long) batch * (context + 1) * ModelStats.of(c).kvBytesPerToken(2);
    }

    public static long decodeFlops(ModelConfig c, int batch, int context) {
        return batch * (2 * linearParams(c) + attentionFlops(c, context, context + 1));
    }

    /** A prefill of {@code tokens} in chunks of {@code chunk}: weights once per chunk, each chunk reads its prefix's K/V. */
    public static long prefillBytes(ModelConfig c, int tokens, int chunk) {
        long bytes = 0;
        long weights = blockWeightBytes(c);
        long kvPerToken = ModelStats.of(c).kvBytesPerToken(2);
        for (int start = 0; start < tokens; start += chunk) {
            bytes += weights + (long) Math.min(tokens, start + chunk) * kvPerToken;
        }
        return bytes;
    }

    public static long prefillFlops(ModelConfig c, int tokens) {
        return 2 * linearParams(c) * tokens + attentionFlops(c, 0, tokens);
    }

    /** HBM peak in bytes/s: memory clock (kHz) × 2 transfers per clock (DDR) × bus width (bits) / 8. */
    public static double peakBandwidth(long memoryClockKHz, long busWidthBits) {
        return memoryClockKHz * 1000.0 * 2 * busWidthBits / 8;
    }
}
