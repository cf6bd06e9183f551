package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.cuda.CudaSourceDeclarations.SourceKernel;
import io.nemotron.core.backend.cuda.KernelSignature.Kind;
import io.nemotron.core.backend.cuda.KernelSignature.Param;
import io.nemotron.cuda.KernelFatbin;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every launcher's {@link KernelSignature} against the kernel's declaration in the .cu sources, without a GPU: a
 * parameter added, dropped, reordered or retyped on one side only would otherwise pass the wrong bits to the kernel
 * and show up, at best, as wrong numbers in a GPU test.
 */
class KernelSignaturesTest {
    /** Every signature the Java side can launch, launcher by launcher. */
    static final List<KernelSignature> DECLARED = Stream.of(RmsNormKernels.SIGNATURES, EmbeddingKernels.SIGNATURES,
            RopeKernels.SIGNATURES, ElementwiseKernels.SIGNATURES, KvCacheKernels.SIGNATURES,
            PagedAttentionKernels.SIGNATURES, SamplingKernels.SIGNATURES, FillKernels.SIGNATURES,
            LoopbackKernels.SIGNATURES, Fp8Kernels.SIGNATURES).flatMap(List::stream).toList();

    private static List<SourceKernel> source;   // every kernel of the .cu files

    @BeforeAll
    static void readSources() {
        source = CudaSourceDeclarations.read(CudaSourceDeclarations.sourcesDir());
    }

    /**
     * What differs between a declared signature and the source's parameters, one line per difference, each naming the
     * kernel and the 0-based parameter position; empty when they agree in count, kinds and names.
     */
    static List<String> mismatches(KernelSignature declared, SourceKernel source) {
        List<String> out = new ArrayList<>();
        String kernel = declared.kernel();
        if (!kernel.equals(source.name())) {
            out.add(kernel + " is compared with source kernel " + source.name());
        }
        List<Param> d = declared.params();
        List<Param> s = source.params();
        if (d.size() != s.size()) {
            out.add(kernel + " declares " + d.size() + " parameters, " + source.file().getFileName() + " has " + s.size());
        }
        for (int i = 0; i < Math.min(d.size(), s.size()); i++) {
            if (d.get(i).kind() != s.get(i).kind()) {
                out.add(kernel + " parameter " + i + ": declared " + d.get(i).kind() + " " + d.get(i).name() + ", "
                        + source.file().getFileName() + " has " + s.get(i).kind() + " " + s.get(i).name());
            } else if (!d.get(i).name().equals(s.get(i).name())) {
                out.add(kernel + " parameter " + i + ": declared name " + d.get(i).name() + ", "
                        + source.file().getFileName() + " has " + s.get(i).name());
            }
        }
        return out;
    }

    private static Map<String, SourceKernel> sourceByName() {
        return source.stream().collect(Collectors.toMap(SourceKernel::name, Function.identity()));
    }

    @Test
    void everySignatureMatchesItsSourceDeclaration() {
        Map<String, SourceKernel> source = sourceByName();
        List<String> problems = new ArrayList<>();
        for (KernelSignature s : DECLARED) {
            SourceKernel k = source.get(s.kernel());
            if (k == null) {
                problems.add(s.kernel() + " is declared by a launcher but no .cu file defines it");
            } else {
                problems.addAll(mismatches(s, k));
            }
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void everySourceKernelHasExactlyOneSignatureAndIsInTheFatbinList() {
        Map<String, Long> sourceCounts = source.stream()
                .collect(Collectors.groupingBy(SourceKernel::name, TreeMap::new, Collectors.counting()));
        Map<String, Long> declaredCounts = DECLARED.stream()
                .collect(Collectors.groupingBy(KernelSignature::kernel, TreeMap::new, Collectors.counting()));
        assertTrue(sourceCounts.values().stream().allMatch(n -> n == 1), () -> "defined twice: " + sourceCounts);
        assertTrue(declaredCounts.values().stream().allMatch(n -> n == 1), () -> "declared twice: " + declaredCounts);
        assertEquals(sourceCounts.keySet(), declaredCounts.keySet(), "kernels in the sources vs launcher signatures");
        assertEquals(KernelFatbin.KERNELS.size(), new TreeSet<>(KernelFatbin.KERNELS).size(), "KernelFatbin.KERNELS repeats");
        assertEquals(sourceCounts.keySet(), new TreeSet<>(KernelFatbin.KERNELS), "kernels in the sources vs KernelFatbin.KERNELS");
    }

    @Test
    void aSwappedPairOfParametersIsReportedAtItsPositions() {
        // rmsnorm_bf16 with hidden and eps swapped: the mistake the comparison exists to catch
        KernelSignature swapped = KernelSignature.of("rmsnorm_bf16", KernelSignature.ptr("out"), KernelSignature.ptr("x"),
                KernelSignature.ptr("weight"), KernelSignature.f32("eps"), KernelSignature.i32("hidden"));
        List<String> found = mismatches(swapped, sourceByName().get("rmsnorm_bf16"));
        assertEquals(2, found.size(), found::toString);
        assertTrue(found.get(0).startsWith("rmsnorm_bf16 parameter 3: declared FLOAT eps"), found.get(0));
        assertTrue(found.get(0).endsWith("has INT hidden"), found.get(0));
        assertTrue(found.get(1).startsWith("rmsnorm_bf16 parameter 4: declared INT hidden"), found.get(1));
    }

    @Test
    void aSwapOfTheSameKindIsReportedByName() {
        KernelSignature swapped = KernelSignature.of("add_bf16", KernelSignature.ptr("delta"), KernelSignature.ptr("acc"),
                KernelSignature.i64("n"));
        List<String> found = mismatches(swapped, sourceByName().get("add_bf16"));
        assertEquals(List.of("add_bf16 parameter 0: declared name delta, elementwise.cu has acc",
                "add_bf16 parameter 1: declared name acc, elementwise.cu has delta"), found);
    }

    @Test
    void aMissingParameterIsReported() {
        KernelSignature shorter = KernelSignature.of("add_bf16", KernelSignature.ptr("acc"), KernelSignature.ptr("delta"));
        assertEquals(List.of("add_bf16 declares 2 parameters, elementwise.cu has 3"),
                mismatches(shorter, sourceByName().get("add_bf16")));
    }

    @Test
    void theParserMapsEveryCTypeToItsKind() {
        String source = """
                extern "C" __global__ void __launch_bounds__(nemotron::attention::kThreads)
                k(const float* __restrict__ a, const unsigned long long* __restrict__ b, int c, long long d,
                  unsigned long long e, unsigned int f, unsigned g, float h, __nv_bfloat16* i) {
                }
                extern "C" __global__ void none() {}
                """;
        List<SourceKernel> kernels = CudaSourceDeclarations.parse(source, Path.of("test.cu"));
        assertEquals(2, kernels.size());
        assertEquals(List.of(new Param("a", Kind.PTR), new Param("b", Kind.PTR), new Param("c", Kind.INT),
                new Param("d", Kind.LONG), new Param("e", Kind.U64), new Param("f", Kind.U32), new Param("g", Kind.U32),
                new Param("h", Kind.FLOAT), new Param("i", Kind.PTR)), kernels.get(0).params());
        assertEquals(new SourceKernel("none", List.of(), Path.of("test.cu")), kernels.get(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaSourceDeclarations.parse(
                "extern \"C\" __global__ void k(double x) {}", Path.of("test.cu")));
        assertTrue(e.getMessage().contains("'double' of k"), e.getMessage());
    }

    @Test
    void aLaunchWithArgumentsOfAnotherKindIsRefused() {
        // what CudaModule.launch runs before packing: eps and hidden given in the wrong order
        KernelArgs swapped = new KernelArgs().ptr(1).ptr(2).ptr(3).f32(1e-5f).i32(4096);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RmsNormKernels.RMSNORM_BF16.check(swapped));
        assertTrue(e.getMessage().startsWith("rmsnorm_bf16 parameter 3 (hidden) is INT, got FLOAT"), e.getMessage());
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> RmsNormKernels.RMSNORM_BF16.check(new KernelArgs().ptr(1).ptr(2).ptr(3).i32(4096)));
        assertTrue(count.getMessage().startsWith("rmsnorm_bf16 takes 5 arguments, got 4"), count.getMessage());
    }
}
