package io.nemotron.core.weights;

import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.weights.TensorSpec.Split;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The tensors a Hugging Face Llama / nemotron-nas (DeciLM) checkpoint of a given config holds, in the order HF
 * writes them, and a check that a {@link WeightSource} holds exactly those.
 *
 * <p>Naming follows {@code modeling_decilm.py}: a {@code no_op} sub-block has no weights and no norm (so a block
 * that is no-op in both slots has no tensors at all); a linear replacement is {@code self_attn.linear_attn} or
 * {@code mlp.linear_mlp}, [hidden, hidden], behind the usual norm.
 */
public final class CheckpointLayout {
    /** Extras that older HF exports saved and that carry nothing the config does not already say. */
    private static final Pattern HARMLESS_EXTRA = Pattern.compile("(.*\\.)?rotary_emb\\.inv_freq");
    private static final int MAX_REPORTED_PROBLEMS = 20;

    private final List<TensorSpec> tensors;
    private final ModelOptConfig quantization;
    private final List<String> kvScaleNames;   // optional k/v cache scales of FULL layers, every accepted spelling

    private CheckpointLayout(List<TensorSpec> tensors, ModelOptConfig quantization, List<String> kvScaleNames) {
        this.tensors = List.copyOf(tensors);
        this.quantization = quantization;
        this.kvScaleNames = List.copyOf(kvScaleNames);
    }

    public static CheckpointLayout of(ModelConfig config) {
        return of(config, ModelOptConfig.NONE);
    }

    /**
     * The layout of a checkpoint quantized as {@code quantization} says: each FP8 linear's weight is F8_E4M3 and has two
     * F32 scalar scales beside it ({@link Fp8Scales}); a FULL layer may have K/V cache scales.
     */
    public static CheckpointLayout of(ModelConfig config, ModelOptConfig quantization) {
        long hidden = config.hiddenSize();
        long vocab = config.vocabSize();
        long qRows = (long) config.numAttentionHeads() * config.headDim();
        List<TensorSpec> t = new ArrayList<>();
        t.add(spec("model.embed_tokens.weight", Split.VOCAB, vocab, hidden));
        for (int i = 0; i < config.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            BlockConfig block = config.blocks().get(i);
            switch (block.attention()) {
                case AttentionKind.Full full -> {
                    long kvRows = (long) full.kvHeads() * config.headDim();
                    t.add(spec(p + "input_layernorm.weight", Split.REPLICATED, hidden));
                    t.add(spec(p + "self_attn.q_proj.weight", Split.OUT_FEATURES, qRows, hidden));
                    t.add(spec(p + "self_attn.k_proj.weight", Split.KV_HEADS, kvRows, hidden));
                    t.add(spec(p + "self_attn.v_proj.weight", Split.KV_HEADS, kvRows, hidden));
                    t.add(spec(p + "self_attn.o_proj.weight", Split.IN_FEATURES, hidden, qRows));
                }
                case AttentionKind.Linear linear -> {
                    t.add(spec(p + "input_layernorm.weight", Split.REPLICATED, hidden));
                    t.add(spec(p + "self_attn.linear_attn.weight", Split.OUT_FEATURES, hidden, hidden));
                }
                case AttentionKind.None none -> { }
            }
            switch (block.ffn()) {
                case FfnKind.Mlp mlp -> {
                    long inter = mlp.intermediateSize();
                    t.add(spec(p + "post_attention_layernorm.weight", Split.REPLICATED, hidden));
                    t.add(spec(p + "mlp.gate_proj.weight", Split.OUT_FEATURES, inter, hidden));
                    t.add(spec(p + "mlp.up_proj.weight", Split.OUT_FEATURES, inter, hidden));
                    t.add(spec(p + "mlp.down_proj.weight", Split.IN_FEATURES, hidden, inter));
                }
                case FfnKind.Linear linear -> {
                    t.add(spec(p + "post_attention_layernorm.weight", Split.REPLICATED, hidden));
                    t.add(spec(p + "mlp.linear_mlp.weight", Split.OUT_FEATURES, hidden, hidden));
                }
                case FfnKind.None none -> { }
            }
        }
        t.add(spec("model.norm.weight", Split.REPLICATED, hidden));
        // Tied: the head reuses embed_tokens; some exports still save a copy (stories260K does), which is allowed.
        t.add(new TensorSpec("lm_head.weight", new long[] {vocab, hidden}, Split.VOCAB, !config.tieWordEmbeddings()));
        List<String> kvScales = new ArrayList<>();
        if (quantization.fp8()) {
            for (int i = 0; i < config.numLayers(); i++) {
                if (config.blocks().get(i).attention() instanceof AttentionKind.Full) {
                    kvScales.addAll(Fp8Scales.kvScaleNames(i));
                }
            }
        }
        return new CheckpointLayout(t, quantization, kvScales);
    }

    private static TensorSpec spec(String name, Split split, long... shape) {
        return new TensorSpec(name, shape, split, true);
    }

    /** Every tensor, required or not, in HF order. */
    public List<TensorSpec> tensors() {
        return tensors;
    }

    /** The tensors a checkpoint must hold (a tied {@code lm_head} is not among them). */
    public List<TensorSpec> required() {
        return tensors.stream().filter(TensorSpec::required).toList();
    }

    /** Sum of the required tensors' sizes: the model's parameter count (a tied head counts once, in the embedding). */
    public long parameters() {
        long n = 0;
        for (TensorSpec t : required()) {
            n = Math.addExact(n, t.numel());
        }
        return n;
    }

    /**
     * Checks that {@code weights} holds every required tensor with the expected shape, any optional one with the
     * expected shape, and nothing else but known harmless extras. All problems are reported at once, each naming the
     * tensor and the file it is in (or should be in).
     */
    public void validate(WeightSource weights) {
        List<String> problems = new ArrayList<>();
        Map<String, TensorSpec> expected = new LinkedHashMap<>();
        for (TensorSpec spec : tensors) {
            expected.put(spec.name(), spec);
            if (!weights.contains(spec.name())) {
                if (spec.required()) {
                    problems.add("missing tensor '" + spec.name() + "' " + spec.shapeString() + " in " + weights.description());
                }
                continue;
            }
            Tensor actual = weights.tensor(spec.name());
            if (!Arrays.equals(actual.shape(), spec.shape())) {
                problems.add("tensor '" + spec.name() + "' in " + weights.locationOf(spec.name()) + " has shape "
                        + actual.shapeString() + " but the config expects " + spec.shapeString());
            }
            checkQuantization(spec, actual, weights, expected, problems);
        }
        for (String name : kvScaleNames) {
            expected.put(name, null);
            if (weights.contains(name)) {
                Fp8Scales.checkScalar(weights, name, problems);
            }
        }
        List<String> extras = new ArrayList<>();
        for (String name : weights.names()) {
            if (!expected.containsKey(name) && !HARMLESS_EXTRA.matcher(name).matches()) {
                extras.add(name);
            }
        }
        Collections.sort(extras);
        for (String name : extras) {
            // An extra tensor means the config describes a different model (e.g. a block marked no_op that has
            // weights): serving it would silently drop those weights.
            problems.add("unexpected tensor '" + name + "' in " + weights.locationOf(name) + " is not part of the config's model");
        }
        if (!problems.isEmpty()) {
            throw new WeightsException(report(weights.description(), problems));
        }
    }

    /**
     * The dtype rules of a (possibly) quantized checkpoint: a linear the quantization config makes FP8 is F8_E4M3 with
     * valid scales (which become expected names); every other tensor is not F8_E4M3, so FP8 bytes are never read as
     * another type or without their scales.
     */
    private void checkQuantization(TensorSpec spec, Tensor actual, WeightSource weights, Map<String, TensorSpec> expected,
                                   List<String> problems) {
        boolean linear = spec.linear();
        String where = "tensor '" + spec.name() + "' in " + weights.locationOf(spec.name());
        if (linear && quantization.quantizes(spec.name())) {
            if (actual.dtype() != DType.F8_E4M3) {
                problems.add(where + " is " + actual.dtype() + " but " + quantization.source()
                        + " (quant_algo FP8) makes it F8_E4M3 (list its module in exclude_modules to keep it "
                        + actual.dtype() + ")");
            }
            for (String scale : Fp8Scales.scaleNames(spec.name())) {
                expected.put(scale, null);
                if (!weights.contains(scale)) {
                    problems.add("missing tensor '" + scale + "' (the F32 scale of FP8 linear '" + spec.name() + "') in "
                            + weights.description());
                } else {
                    Fp8Scales.checkScalar(weights, scale, problems);
                }
            }
        } else if (actual.dtype() == DType.F8_E4M3) {
            problems.add(where + " is F8_E4M3 but " + (!linear ? "only linear weights may be FP8"
                    : quantization.fp8() ? quantization.source() + " excludes module '"
                            + ModelOptConfig.module(spec.name()) + "' from FP8"
                    : "the checkpoint has no FP8 quantization config (" + ModelOptConfig.HF_QUANT_CONFIG
                            + " or config.json quantization_config)"));
        }
    }

    /** Validates a checkpoint against a config in one call. */
    public static void validate(ModelConfig config, WeightSource weights) {
        of(config).validate(weights);
    }

    private static String report(String source, List<String> problems) {
        StringBuilder sb = new StringBuilder("checkpoint ").append(source).append(" does not match its config (")
                .append(problems.size()).append(problems.size() == 1 ? " problem" : " problems").append("): ");
        int shown = Math.min(problems.size(), MAX_REPORTED_PROBLEMS);
        sb.append(String.join("; ", problems.subList(0, shown)));
        if (shown < problems.size()) {
            sb.append("; ... and ").append(problems.size() - shown).append(" more");
        }
        return sb.toString();
    }
}
