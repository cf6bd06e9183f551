package io.nemotron.core.weights;

import io.nemotron.core.config.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Writes a checkpoint in NVIDIA ModelOpt's FP8 layout (what {@link ModelOptConfig} and {@link CheckpointLayout} read):
 * each linear not excluded becomes F8_E4M3 codes of {@code W / weight_scale} with {@code weight_scale = amax(|W|) / 448}
 * (ModelOpt's per-tensor max calibration of weights) and {@code input_scale = amax(|x|) / 448} from the caller's
 * calibration of that linear's inputs; everything else (embedding, norms, excluded linears) is written in
 * {@code highPrecision}. Beside it: {@code hf_quant_config.json}, the source's config.json, and the tokenizer files.
 */
public final class ModelOptFp8Writer {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final List<String> COPIED = List.of("config.json", "tokenizer.json", "tokenizer_config.json",
            "generation_config.json", "special_tokens_map.json");

    private ModelOptFp8Writer() {}

    /**
     * Quantizes the checkpoint {@code source} (of {@code config}) into the folder {@code target}. {@code inputAmax} maps
     * each quantized linear's module name ({@code model.layers.0.self_attn.q_proj}) to the largest |x| its input
     * reached over the calibration data; {@code kvAmax}, when not null, maps {@code model.layers.<i>.self_attn.k_proj}
     * and {@code ...v_proj} to the largest |k| / |v| written to the cache, giving {@code k_scale}/{@code v_scale} and
     * {@code kv_cache_quant_algo: FP8}.
     */
    public static void write(ModelConfig config, WeightSource source, Path sourceDir, Path target,
                             Map<String, Double> inputAmax, Map<String, Double> kvAmax, List<String> exclude,
                             DType highPrecision) {
        ModelOptConfig quant = new ModelOptConfig(true, kvAmax != null, exclude, "the quantizer");
        try {
            Files.createDirectories(target);
            for (String name : COPIED) {
                if (Files.isRegularFile(sourceDir.resolve(name))) {
                    Files.copy(sourceDir.resolve(name), target.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.writeString(target.resolve(ModelOptConfig.HF_QUANT_CONFIG), quantConfigJson(kvAmax != null, exclude));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target, e);
        }
        List<PendingTensor> out = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {   // the writer may fill from its own threads
            for (TensorSpec spec : CheckpointLayout.of(config).tensors()) {
                if (!source.contains(spec.name())) {
                    continue;   // a tied lm_head
                }
                Tensor t = source.tensor(spec.name());
                boolean linear = spec.linear();
                if (linear && quant.quantizes(spec.name())) {
                    String module = ModelOptConfig.module(spec.name());
                    Double amax = inputAmax.get(module);
                    if (amax == null || !(amax > 0) || !Double.isFinite(amax)) {
                        throw new IllegalArgumentException("no positive calibration amax for the input of " + module);
                    }
                    float weightScale = scaleOf(maxAbs(t));
                    out.add(quantized(t, weightScale, arena));
                    out.add(scalar(module + ".weight_scale", weightScale));
                    out.add(scalar(module + ".input_scale", scaleOf(amax)));
                } else {
                    out.add(converted(t, highPrecision, arena));
                }
            }
            if (kvAmax != null) {
                for (Map.Entry<String, Double> e : kvAmax.entrySet()) {
                    String which = e.getKey().endsWith("k_proj") ? "k_scale" : "v_scale";
                    out.add(scalar(e.getKey() + "." + which, scaleOf(e.getValue())));
                }
            }
            SafetensorsWriter.write(target.resolve(SafetensorsReader.SINGLE_FILE), out);
        }
    }

    /** The hf_quant_config.json ModelOpt writes for an FP8 export. */
    public static String quantConfigJson(boolean kvCacheFp8, List<String> exclude) {
        String modules = exclude.stream().map(m -> "\"" + m.replace("\\", "\\\\").replace("\"", "\\\"") + "\"")
                .collect(Collectors.joining(", "));
        return "{\n  \"producer\": {\"name\": \"modelopt\", \"version\": \"0.27.0\"},\n  \"quantization\": {\n"
                + "    \"quant_algo\": \"FP8\",\n    \"kv_cache_quant_algo\": " + (kvCacheFp8 ? "\"FP8\"" : "null") + ",\n"
                + "    \"exclude_modules\": [" + modules + "]\n  }\n}\n";
    }

    /**
     * ModelOpt's per-tensor scale, amax / 448, as a float (a zero amax, an all-zero tensor, gets the smallest positive
     * scale, which maps it to 0). Both FP8 writers use it.
     */
    static float scaleOf(double amax) {
        float s = (float) (amax / Fp8E4m3.MAX);
        return s > 0f ? s : Float.MIN_NORMAL;
    }

    static double maxAbs(Tensor t) {
        double m = 0;
        for (long i = 0; i < t.numel(); i++) {
            m = Math.max(m, Math.abs(DTypeCodec.get(t.dtype(), t.data(), i)));
        }
        return m;
    }

    private static PendingTensor quantized(Tensor t, float weightScale, Arena arena) {
        MemorySegment codes = arena.allocate(t.numel());
        for (long i = 0; i < t.numel(); i++) {
            codes.set(ValueLayout.JAVA_BYTE, i, Fp8E4m3.encode(DTypeCodec.get(t.dtype(), t.data(), i) / weightScale));
        }
        return bytes(t.name(), DType.F8_E4M3, t.shape(), codes);
    }

    private static PendingTensor converted(Tensor t, DType dtype, Arena arena) {
        if (t.dtype() == dtype) {
            return PendingTensor.copyOf(t);
        }
        MemorySegment data = arena.allocate(t.numel() * dtype.bytes(), 8);
        for (long i = 0; i < t.numel(); i++) {
            DTypeCodec.set(dtype, data, i, DTypeCodec.get(t.dtype(), t.data(), i));
        }
        return bytes(t.name(), dtype, t.shape(), data);
    }

    /** An F32 scalar tensor (shape []), as ModelOpt stores scales. */
    static PendingTensor scalar(String name, float value) {
        return new PendingTensor(name, DType.F32, new long[0], (first, dst) -> dst.set(F32, 0, value));
    }

    private static PendingTensor bytes(String name, DType dtype, long[] shape, MemorySegment data) {
        return new PendingTensor(name, dtype, shape,
                (first, dst) -> MemorySegment.copy(data, first * dtype.bytes(), dst, 0, dst.byteSize()));
    }
}
