package io.nemotron.core.weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The quantization an NVIDIA ModelOpt checkpoint declares, read as vLLM's {@code ModelOptFp8Config} reads it: from
 * {@code hf_quant_config.json} ({@code {"quantization": {"quant_algo": ..., "kv_cache_quant_algo": ...,
 * "exclude_modules": [...]}}}) or else from {@code config.json}'s {@code quantization_config} with
 * {@code quant_method: "modelopt"} (its fields flat or under {@code quantization}). Only {@code quant_algo: FP8}
 * (per-tensor static scales) is served; anything else is refused naming the field, never ignored, because it changes
 * the math. A folder with neither file is {@link #NONE}.
 *
 * @param fp8         every linear not excluded is F8_E4M3 with a {@code weight_scale} and an {@code input_scale}
 * @param kvCacheFp8  {@code kv_cache_quant_algo: FP8}: the checkpoint was calibrated for an FP8 KV cache (its k/v scales)
 * @param exclude     fnmatch patterns of modules that stay in the checkpoint's high precision (usually lm_head)
 * @param source      the file it came from, for error messages
 */
public record ModelOptConfig(boolean fp8, boolean kvCacheFp8, List<String> exclude, String source) {
    public static final ModelOptConfig NONE = new ModelOptConfig(false, false, List.of(), "no quantization config");
    public static final String HF_QUANT_CONFIG = "hf_quant_config.json";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    public ModelOptConfig {
        exclude = List.copyOf(exclude);
    }

    /** The quantization of the checkpoint folder {@code dir}; {@link #NONE} when it declares none. */
    public static ModelOptConfig load(Path dir) {
        Path hf = dir.resolve(HF_QUANT_CONFIG);
        if (Files.isRegularFile(hf)) {
            JsonNode q = read(hf).get("quantization");
            if (q == null || !q.isObject()) {
                throw new WeightsException(hf + ": no \"quantization\" object");
            }
            return parse(q, hf.toString());
        }
        Path config = dir.resolve("config.json");
        if (Files.isRegularFile(config)) {
            JsonNode qc = read(config).get("quantization_config");
            if (qc != null && !qc.isNull()) {
                String method = text(qc, "quant_method", config + " quantization_config");
                if (!"modelopt".equalsIgnoreCase(method)) {
                    throw new WeightsException(config + ": quantization_config.quant_method '" + method
                            + "' is not supported (modelopt)");
                }
                JsonNode nested = qc.get("quantization");
                return parse(nested != null && nested.isObject() ? nested : qc, config + " quantization_config");
            }
        }
        return NONE;
    }

    static ModelOptConfig parse(JsonNode q, String source) {
        String algo = text(q, "quant_algo", source);
        if (!"FP8".equalsIgnoreCase(algo)) {
            throw new WeightsException(source + ": quant_algo '" + algo + "' is not supported (FP8)");
        }
        JsonNode kv = q.get("kv_cache_quant_algo");
        boolean kvFp8 = false;
        if (kv != null && !kv.isNull()) {
            if (!kv.isString() || !"FP8".equalsIgnoreCase(kv.asString())) {
                throw new WeightsException(source + ": kv_cache_quant_algo '" + kv + "' is not supported (FP8 or null)");
            }
            kvFp8 = true;
        }
        List<String> exclude = new ArrayList<>();
        JsonNode ex = q.get("exclude_modules");
        if (ex != null && !ex.isNull()) {
            if (!ex.isArray()) {
                throw new WeightsException(source + ": exclude_modules must be a list of module name patterns");
            }
            for (JsonNode e : ex) {
                if (!e.isString()) {
                    throw new WeightsException(source + ": exclude_modules holds a non-string entry " + e);
                }
                exclude.add(e.asString());
            }
        }
        return new ModelOptConfig(true, kvFp8, exclude, source);
    }

    /**
     * Whether the module (a weight's name without {@code .weight}, e.g. {@code lm_head} or
     * {@code model.layers.3.self_attn.q_proj}) stays unquantized: some pattern matches its whole name with fnmatch
     * rules ({@code *}, {@code ?}, {@code [seq]}, {@code [!seq]}), or, for a pattern without wildcards, its last
     * dot-separated components (vLLM matches a plain {@code lm_head} entry against the prefix {@code lm_head}).
     */
    public boolean excluded(String module) {
        for (String pattern : exclude) {
            if (fnmatch(pattern).matcher(module).matches()) {
                return true;
            }
            boolean plain = pattern.chars().noneMatch(c -> c == '*' || c == '?' || c == '[');
            if (plain && (module.equals(pattern) || module.endsWith("." + pattern))) {
                return true;
            }
        }
        return false;
    }

    /** Whether the linear whose weight is {@code weightName} ({@code <module>.weight}) is FP8 in this checkpoint. */
    public boolean quantizes(String weightName) {
        return fp8 && !excluded(module(weightName));
    }

    /** The module of a weight: its name without the trailing {@code .weight}. */
    public static String module(String weightName) {
        return weightName.endsWith(".weight") ? weightName.substring(0, weightName.length() - ".weight".length())
                : weightName;
    }

    /** Python's fnmatch.translate, for the subset of syntax module patterns use. */
    static Pattern fnmatch(String pattern) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                case '[' -> {
                    int close = pattern.indexOf(']', i + 2);
                    if (close < 0) {
                        re.append("\\[");
                    } else {
                        String set = pattern.substring(i + 1, close).replace("\\", "\\\\").replace("[", "\\[");
                        if (set.startsWith("!")) {
                            set = "^" + set.substring(1);
                        } else if (set.startsWith("^")) {
                            set = "\\" + set;
                        }
                        re.append('[').append(set).append(']');
                        i = close;
                    }
                }
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }

    private static JsonNode read(Path file) {
        try {
            return JSON.readTree(Files.readString(file));
        } catch (IOException | JacksonException e) {
            throw new WeightsException("cannot read " + file + ": " + e.getMessage());
        }
    }

    private static String text(JsonNode node, String field, String source) {
        JsonNode v = node.get(field);
        if (v == null || !v.isString()) {
            throw new WeightsException(source + ": missing or non-string \"" + field + "\"");
        }
        return v.asString();
    }
}
