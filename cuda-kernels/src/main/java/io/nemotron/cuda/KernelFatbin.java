package io.nemotron.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The nvcc-compiled kernels (sm_80 and sm_90a SASS plus compute_80 PTX, see build-fatbin.sh) as
 * packaged in this jar, ready for {@code cuModuleLoadData}.
 *
 * <p>A jar built where nvcc was absent carries a marker resource with the reason instead of the
 * fatbin, so the CUDA backend can tell the user why rather than fail on a missing resource.
 */
public final class KernelFatbin {

    /** Classpath location of the fatbin. */
    public static final String RESOURCE = "io/nemotron/cuda/nemotron_kernels.fatbin";

    /** Written by build-fatbin.sh instead of the fatbin when nvcc was not found; holds the reason. */
    public static final String MISSING_MARKER = RESOURCE + ".missing";

    /**
     * Every {@code extern "C"} kernel in the fatbin, by the name the CUDA backend passes to cuModuleGetFunction
     * (each documented in its .cu file). KernelSourcesTest keeps this list equal to the sources.
     */
    public static final List<String> KERNELS = List.of(
            "rmsnorm_bf16", "rmsnorm_f32", "fused_add_rmsnorm_bf16", "fused_add_rmsnorm_f32",
            "rmsnorm_rows_bf16", "rmsnorm_rows_f32",
            "embedding_gather_bf16", "embedding_gather_f32",
            "rope_bf16", "rope_f32",
            "silu_mul_bf16", "silu_mul_f32", "add_bf16", "add_f32",
            "kv_write_bf16", "kv_write_fp8",
            "paged_attention_decode_bf16", "paged_attention_reduce_bf16", "paged_attention_prefill_bf16",
            "paged_attention_decode_fp8", "paged_attention_prefill_fp8",
            "sample_penalties_f32", "sample_tokens_f32",
            "loopback_all_reduce_f32", "loopback_all_reduce_bf16", "loopback_all_gather_u16",
            "fill_uniform_bf16",
            "fp8_quantize_bf16", "fp8_dequantize_bf16");

    /** First four bytes of every fatbin: the header magic 0xBA55ED50, stored little-endian. */
    public static final int MAGIC = 0xBA55ED50;

    private KernelFatbin() {}

    /** The fatbin bytes, or empty when this jar was built without nvcc (see {@link #whyMissing()}). */
    public static Optional<byte[]> load() {
        return read(RESOURCE).map(KernelFatbin::checkMagic);
    }

    /** The fatbin bytes; fails with the reason it is missing, for backends that cannot run without it. */
    public static byte[] require() {
        return load().orElseThrow(() -> new IllegalStateException("CUDA kernels unavailable: " + whyMissing().orElseThrow()));
    }

    /** Why {@link #load()} is empty, or empty when the fatbin is present. */
    public static Optional<String> whyMissing() {
        if (resourceExists(RESOURCE)) {
            return Optional.empty();
        }
        return Optional.of(read(MISSING_MARKER)
                .map(bytes -> new String(bytes, StandardCharsets.UTF_8).strip())
                .orElse("classpath resource " + RESOURCE + " not found, and no build marker explains why:"
                        + " is the cuda-kernels jar on the classpath?"));
    }

    /**
     * The code objects in a fatbin, as cuobjdump names them: {@code sm_80}, {@code sm_90a} for SASS,
     * {@code compute_80} for PTX. Lets the CUDA backend check at load time that the GPU is covered.
     *
     * <p>NVIDIA does not document the container; the layout read here is what nvcc 12/13 write and
     * cuobjdump reports. Header: u32 magic, u16 version, u16 header size, u64 size of the entries.
     * Entry: u16 kind (1 PTX, 2 ELF/SASS), u16 version, u32 header size, u64 payload size, ...,
     * u32 SM version at +28, u64 flags at +40 where 0x100000 marks an arch-specific ("a") target.
     */
    public static List<String> targets(byte[] fatbin) {
        List<String> targets = new ArrayList<>();
        int header = 0;
        // nvcc writes one header, but a linker may concatenate several fatbins
        while (header + 16 <= fatbin.length && littleEndianInt(fatbin, header) == MAGIC) {
            int headerSize = littleEndianShort(fatbin, header + 6);
            long end = header + headerSize + littleEndianLong(fatbin, header + 8);
            long entry = header + headerSize;
            while (entry + 48 <= end && end <= fatbin.length) {
                int e = Math.toIntExact(entry);
                int kind = littleEndianShort(fatbin, e);
                int sm = littleEndianInt(fatbin, e + 28);
                boolean archSpecific = (littleEndianLong(fatbin, e + 40) & 0x100000L) != 0;
                String prefix = switch (kind) {
                    case 1 -> "compute_";
                    case 2 -> "sm_";
                    default -> "kind" + kind + "_";
                };
                targets.add(prefix + sm + (archSpecific ? "a" : ""));
                entry += littleEndianInt(fatbin, e + 4) + littleEndianLong(fatbin, e + 8);
            }
            header = Math.toIntExact(end);
        }
        return List.copyOf(targets);
    }

    private static byte[] checkMagic(byte[] bytes) {
        if (bytes.length < 16 || littleEndianInt(bytes, 0) != MAGIC) {
            throw new IllegalStateException(RESOURCE + " is not a CUDA fatbin (bad header magic); the build wrote a corrupt file");
        }
        return bytes;
    }

    static int littleEndianInt(byte[] b, int offset) {
        return (b[offset] & 0xff) | (b[offset + 1] & 0xff) << 8 | (b[offset + 2] & 0xff) << 16 | (b[offset + 3] & 0xff) << 24;
    }

    private static int littleEndianShort(byte[] b, int offset) {
        return (b[offset] & 0xff) | (b[offset + 1] & 0xff) << 8;
    }

    private static long littleEndianLong(byte[] b, int offset) {
        return (littleEndianInt(b, offset) & 0xffffffffL) | (long) littleEndianInt(b, offset + 4) << 32;
    }

    private static boolean resourceExists(String name) {
        return KernelFatbin.class.getClassLoader().getResource(name) != null;
    }

    private static Optional<byte[]> read(String name) {
        try (InputStream in = KernelFatbin.class.getClassLoader().getResourceAsStream(name)) {
            return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("reading classpath resource " + name, e);
        }
    }
}
