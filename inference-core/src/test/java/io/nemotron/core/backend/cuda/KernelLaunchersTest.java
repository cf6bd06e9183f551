package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.nemotron.core.backend.cuda.KernelSignature.Kind;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The typed launchers without a GPU: each method's arguments against its kernel's signature (the check CudaModule
 * runs before every launch), and each launch geometry against the rule its .cu header states, computed by hand.
 */
class KernelLaunchersTest {
    private record Launch(KernelSignature kernel, LaunchGeometry geometry, KernelArgs args) {}

    private final List<Launch> launches = new ArrayList<>();
    private final KernelLauncher recorder = (kernel, geometry, args) -> launches.add(new Launch(kernel, geometry, args));

    private final RmsNormKernels norms = new RmsNormKernels(recorder);
    private final EmbeddingKernels embedding = new EmbeddingKernels(recorder);
    private final RopeKernels rope = new RopeKernels(recorder);
    private final ElementwiseKernels elementwise = new ElementwiseKernels(recorder);
    private final KvCacheKernels kvCache = new KvCacheKernels(recorder);
    private final PagedAttentionKernels attention = new PagedAttentionKernels(recorder);
    private final SamplingKernels sampling = new SamplingKernels(recorder);
    private final FillKernels fill = new FillKernels(recorder);
    private final LoopbackKernels loopback = new LoopbackKernels(recorder);
    private final Fp8Kernels fp8 = new Fp8Kernels(recorder);

    private Launch last() {
        return launches.getLast();
    }

    private LaunchGeometry geometry() {
        return last().geometry();
    }

    /** rmsnorm_bf16 -> rmsnormBf16: the method carries its kernel's name. */
    private static String methodName(String kernel) {
        String[] parts = kernel.split("_");
        StringBuilder b = new StringBuilder(parts[0]);
        for (int i = 1; i < parts.length; i++) {
            b.append(parts[i].substring(0, 1).toUpperCase(Locale.ROOT)).append(parts[i].substring(1));
        }
        return b.toString();
    }

    @Test
    void everyLauncherMethodLaunchesItsNamesakeKernelWithArgumentsOfItsSignature() throws ReflectiveOperationException {
        List<KernelSignature> launched = new ArrayList<>();
        for (Object launcher : List.of(norms, embedding, rope, elementwise, kvCache, attention, sampling, fill, loopback,
                fp8)) {
            for (Method m : launcher.getClass().getDeclaredMethods()) {
                if (Modifier.isStatic(m.getModifiers()) || Modifier.isPrivate(m.getModifiers()) || m.isSynthetic()) {
                    continue;
                }
                // 1 for every size: valid for every geometry rule (one row, one head, one rank, one partition)
                Object[] ones = Arrays.stream(m.getParameterTypes())
                        .map(t -> t == int.class ? (Object) 1 : t == long.class ? (Object) 1L : (Object) 1f)
                        .toArray();
                int before = launches.size();
                try {
                    m.invoke(launcher, ones);
                } catch (InvocationTargetException e) {
                    throw new AssertionError(m + " failed: " + e.getCause(), e.getCause());
                }
                assertEquals(before + 1, launches.size(), m + " launches once");
                KernelSignature k = last().kernel();
                assertEquals(methodName(k.kernel()), m.getName(), "the method that launches " + k.kernel());
                k.check(last().args());   // what CudaModule.launch checks: count and kinds, in order
                launched.add(k);
            }
        }
        assertEquals(KernelSignaturesTest.DECLARED.stream().map(KernelSignature::kernel).sorted().toList(),
                launched.stream().map(KernelSignature::kernel).sorted().toList(),
                "one launcher method per declared signature");
    }

    @Test
    void rowKernelsRunOneBlockPerRowWithAPackPerThread() {
        norms.rmsnormBf16(1, 2, 3, 16384, 1e-5f, 3);   // Ultra's hidden: 2048 packs, capped at 1024 threads
        assertEquals(new LaunchGeometry(3, 1, 1, 1024), geometry());
        norms.rmsnormBf16(1, 2, 3, 2048, 1e-5f, 5);    // 256 packs of 8
        assertEquals(new LaunchGeometry(5, 1, 1, 256), geometry());
        norms.rmsnormF32(1, 2, 3, 1000, 1e-5f, 3);     // 250 packs of 4 -> 8 warps
        assertEquals(new LaunchGeometry(3, 1, 1, 256), geometry());
        norms.rmsnormRowsBf16(1, 2, 3, 4, 64, 1e-5f, 7);   // 8 packs: still one whole warp
        assertEquals(new LaunchGeometry(7, 1, 1, 32), geometry());
        embedding.embeddingGatherBf16(1, 2, 3, 4096, 0, 128256, 9);
        assertEquals(new LaunchGeometry(9, 1, 1, 512), geometry());
        rope.ropeBf16(1, 4096, 2, 3, 32, 128, 11);
        assertEquals(new LaunchGeometry(11, 1, 1, 128), geometry());
        kvCache.kvWriteBf16(1, 2, 3, 4, 1024, 5, 8, 128, 4, 13);
        assertEquals(new LaunchGeometry(13, 1, 1, 128), geometry());
        kvCache.kvWriteFp8(1, 2, 3, 4, 1024, 5, 8, 128, 4, 0.5f, 0.25f, 13);
        assertEquals(new LaunchGeometry(13, 1, 1, 128), geometry());
        sampling.samplePenaltiesF32(1, 128256, 128256, 2, 3, 4, 5, 6, 7, 4);
        assertEquals(new LaunchGeometry(4, 1, 1, 128), geometry());
        sampling.sampleTokensF32(1, 2, 128256, 128256, 3, 4, 5, 6, 7, 8, 4);
        assertEquals(new LaunchGeometry(4, 1, 1, 1024), geometry());
    }

    @Test
    void elementwiseKernelsCoverTheirElementsInPacksOf256Threads() {
        elementwise.siluMulBf16(1, 28672, 1, 2, 28672, 28672, 5);   // 28672 / (256 * 8) = 14 blocks a row
        assertEquals(new LaunchGeometry(14, 5, 1, 256), geometry());
        elementwise.siluMulF32(1, 1000, 1, 2, 1000, 1000, 3);       // 1000 < 256 * 4: one block a row
        assertEquals(new LaunchGeometry(1, 3, 1, 256), geometry());
        elementwise.addBf16(1, 2, 3L * 8192 + 1);                     // 24577 elements: 12 full blocks and a tail
        assertEquals(new LaunchGeometry(13, 1, 1, 256), geometry());
        fill.fillUniformBf16(1, 5L << 30, 42, 0, -1f, 1f);           // grid-stride: the grid does not grow with n
        assertEquals(new LaunchGeometry(8192, 1, 1, 256), geometry());
        fp8.fp8QuantizeBf16(1, 2, 17L * 8192 + 3, 0.5f);              // 139267 elements: 68 full blocks of 2048 and a tail
        assertEquals(new LaunchGeometry(69, 1, 1, 256), geometry());
        fp8.fp8DequantizeBf16(1, 2, 16384L * 6656);                   // Ultra's up_proj at TP 8: 53248 blocks
        assertEquals(new LaunchGeometry(53248, 1, 1, 256), geometry());
    }

    @Test
    void attentionRunsACtaPerRowKvHeadChunkAndPartition() {
        // Ultra: 128 heads over 8 kv heads (group 16): one chunk of 16 query heads per kv head
        attention.pagedAttentionDecodeBf16(1, 16384, 2, 16384, 3, 4, 5, 40, 6, 7, 128, 8, 128, 4, 0.088f, 0, 0, 0, 0, 0, 3);
        assertEquals(new LaunchGeometry(3, 8, 1, 128), geometry());
        Launch unsplit = last();
        for (int i : new int[] {16, 17, 18}) {   // part_out, part_max, part_sum: null pointers
            assertEquals(Kind.PTR, unsplit.kernel().params().get(i).kind());
            assertEquals(0L, unsplit.args().bits(i));
        }
        // group 20: two chunks (16 + 4) per kv head; split into 5 partitions of 256 tokens
        attention.pagedAttentionDecodeBf16(1, 2560, 2, 2560, 3, 4, 5, 40, 6, 7, 40, 2, 64, 4, 0.125f, 256, 8, 9, 10, 5, 2);
        assertEquals(new LaunchGeometry(2, 4, 5, 128), geometry());
        // the FP8 cache's kernels run the same grids
        attention.pagedAttentionDecodeFp8(1, 2560, 2, 2560, 3, 4, 5, 40, 6, 7, 40, 2, 64, 4, 0.125f, 256, 8, 9, 10, 5,
                0.5f, 0.25f, 2);
        assertEquals(new LaunchGeometry(2, 4, 5, 128), geometry());
        attention.pagedAttentionPrefillFp8(1, 2560, 2, 2560, 3, 4, 5, 40, 6, 7, 8, 9, 40, 2, 64, 4, 0.125f, 0.5f, 0.25f,
                11);
        assertEquals(new LaunchGeometry(11, 4, 1, 128), geometry());
        attention.pagedAttentionReduceBf16(1, 2560, 2, 3, 4, 5, 40, 16, 256, 5, 2);   // head_dim 16: one warp
        assertEquals(new LaunchGeometry(2, 40, 1, 32), geometry());
        attention.pagedAttentionPrefillBf16(1, 64, 2, 64, 3, 4, 5, 8, 6, 7, 8, 9, 8, 2, 8, 4, 0.35f, 6);
        assertEquals(new LaunchGeometry(6, 2, 1, 128), geometry());
    }

    @Test
    void loopbackCollectivesRunAThreadPerElement() {
        loopback.loopbackAllReduceBf16(1, 4, 1000);
        assertEquals(new LaunchGeometry(4, 1, 1, 256), geometry());
        loopback.loopbackAllGatherU16(1, 2, 4, 256);   // one block of units, one plane per (source, destination) rank
        assertEquals(new LaunchGeometry(1, 4, 4, 256), geometry());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> loopback.loopbackAllReduceF32(1, 2, 256L * Integer.MAX_VALUE + 1));
        assertEquals("loopback collective of " + (256L * Integer.MAX_VALUE + 1) + " elements exceeds one launch",
                e.getMessage());
    }

    @Test
    void argumentsArePassedInTheSignaturesOrderWithTheirOwnBits() {
        fill.fillUniformBf16(0x7000_0000_0100L, -1L, 0x1234_5678_9abc_def0L, -2, -0.25f, 0.25f);
        KernelArgs a = last().args();
        assertEquals(List.of(0x7000_0000_0100L, -1L, 0x1234_5678_9abc_def0L, -2L,
                (long) Float.floatToRawIntBits(-0.25f), (long) Float.floatToRawIntBits(0.25f)),
                IntStream.range(0, a.size()).mapToObj(a::bits).toList());
        assertEquals("fill_uniform_bf16(PTR out, U64 n, U64 seed, U32 stream, FLOAT lo, FLOAT hi)",
                last().kernel().toString());
    }
}
