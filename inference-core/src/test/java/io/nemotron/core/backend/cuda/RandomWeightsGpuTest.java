package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.cpu.CpuBackend;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.model.BlockWeights;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.model.SingleSequence;
import io.nemotron.core.model.Transformer;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Random weights made on the device (the GPU benchmark's path): {@code fill_uniform_bf16} against a host twin of its
 * definition (Philox4x32-10, itself checked here against the Random123 known-answer vectors, on the CPU), and a
 * {@link CudaBackend#withRandomWeights} model against the CPU backend on the same values read back. The GPU tests are
 * tagged gpu and skip without a GPU.
 */
class RandomWeightsGpuTest {

    /** Philox4x32-10 as philox.cuh: counter c0..c3, key k0, k1. */
    static int[] philox(int c0, int c1, int c2, int c3, int k0, int k1) {
        int[] c = {c0, c1, c2, c3};
        for (int round = 0; round < 10; round++) {
            long p0 = (0xD2511F53L) * (c[0] & 0xffffffffL);
            long p1 = (0xCD9E8D57L) * (c[2] & 0xffffffffL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0, hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            c = new int[] {hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0};
            k0 += 0x9E3779B9;
            k1 += 0xBB67AE85;
        }
        return c;
    }

    /** Element i of fill_uniform_bf16(n, seed, stream, lo, hi), by the definition in fill.cu. */
    static short fillTwin(long i, long seed, int stream, float lo, float hi) {
        long p = i / 8;
        int j = (int) (i % 8);
        int[] r = philox((int) p, (int) (p >>> 32), stream, 0, (int) seed, (int) (seed >>> 32));
        int bits = j % 2 == 0 ? r[j / 2] & 0xffff : r[j / 2] >>> 16;
        float u = ((bits & 0xffff) + 0.5f) * 0x1.0p-16f;
        return CudaKernelsGpuTest.bf16(Math.fma(hi - lo, u, lo));
    }

    @Test
    void philoxTwinMatchesRandom123() {
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, philox(0, 0, 0, 0, 0, 0));
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}, philox(-1, -1, -1, -1, -1, -1));
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                philox(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0));
    }

    private static CudaDevice gpu() {
        CudaAvailability.assumeDevice();
        return CudaDevice.open(0);
    }

    @Test
    @Tag("gpu")
    void fillMatchesItsTwinBitForBitAlignedOrNot() {
        long seed = 0x1234_5678_9abc_def0L;
        int n = 1005;   // not a multiple of 8: the tail
        try (CudaDevice device = gpu(); CudaModule kernels = device.loadKernels();
             DeviceBuffer buf = device.allocate(2L * (n + 8), "fill test")) {
            FillKernels fill = new FillKernels(kernels);
            for (int offsetElements : new int[] {0, 1}) {   // 16-byte aligned packs, then every store scalar
                buf.fill((byte) 0);
                fill.fillUniformBf16(buf.address() + 2L * offsetElements, n, seed, 7, -0.25f, 0.25f);
                short[] got = new short[n + 8];
                buf.download(got);
                for (int i = 0; i < n; i++) {
                    assertEquals(fillTwin(i, seed, 7, -0.25f, 0.25f), got[offsetElements + i],
                            "element " + i + " at offset " + offsetElements);
                }
                assertEquals(0, got[offsetElements + n], "no store past n");
            }
            fill.fillUniformBf16(buf.address(), 16L, seed, 0, 1f, 1f);
            short[] ones = new short[16];
            buf.download(ones);
            for (short s : ones) {
                assertEquals((short) 0x3f80, s, "lo == hi == 1 writes BF16 1.0");
            }
        }
    }

    /** The random weights read back into host tensors, the same structure. */
    private static ModelWeights hostCopy(CudaBackend b, Arena arena) {
        Map<Tensor, Tensor> done = new IdentityHashMap<>();
        UnaryOperator<Tensor> r = t -> t == null ? null : done.computeIfAbsent(t, x -> {
            short[] bits = new short[(int) x.numel()];
            b.deviceWeights().of(x).download(bits);
            MemorySegment seg = arena.allocate(2L * bits.length, 16);
            MemorySegment.copy(bits, 0, seg, ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0,
                    bits.length);
            return new Tensor(x.name(), DType.BF16, x.shape().clone(), seg);
        });
        ModelWeights w = b.model();
        List<BlockWeights> blocks = new ArrayList<>();
        for (BlockWeights k : w.blocks()) {
            blocks.add(new BlockWeights(k.config(), r.apply(k.inputLayernorm()), r.apply(k.qProj()), r.apply(k.kProj()),
                    r.apply(k.vProj()), r.apply(k.oProj()), r.apply(k.linearAttn()), r.apply(k.postAttentionLayernorm()),
                    r.apply(k.gateProj()), r.apply(k.upProj()), r.apply(k.downProj()), r.apply(k.linearMlp())));
        }
        return new ModelWeights(r.apply(w.embedTokens()), blocks, r.apply(w.norm()), r.apply(w.lmHead()));
    }

    @Test
    @Tag("gpu")
    void randomWeightsRunTheSameModelAsTheCpuBackendOnThoseValues() {
        ModelConfig config = ModelConfigLoader.load(Reference.existing("nemotron-nas-tiny/nas-tiny-a-bf16"));
        try (CudaDevice device = gpu(); Arena arena = Arena.ofShared();
             CudaBackend gpu = CudaBackend.withRandomWeights(config, device, 32, 42);
             CudaBackend again = CudaBackend.withRandomWeights(config, device, 32, 42)) {
            ModelWeights host = hostCopy(gpu, arena);
            short[] a = new short[(int) host.embedTokens().numel()];
            short[] b = new short[a.length];
            gpu.deviceWeights().of(gpu.model().embedTokens()).download(a);
            again.deviceWeights().of(again.model().embedTokens()).download(b);
            assertArrayEquals(a, b, "same seed, same weights");
            try (CpuBackend cpuBackend = new CpuBackend(config, host.embedTokens(), 2, 32)) {
                SingleSequence cpu = new SingleSequence(new Transformer(config, host, cpuBackend), 64);
                SingleSequence dev = new SingleSequence(new Transformer(config, gpu.model(), gpu), 64);
                int vocab = config.vocabSize();
                float[] lc = new float[vocab];
                float[] lg = new float[vocab];
                int[] prompt = new int[20];
                for (int i = 0; i < prompt.length; i++) {
                    prompt[i] = (i * 7919 + 13) % vocab;
                }
                cpu.forward(prompt, prompt.length, lc);
                dev.forward(prompt, prompt.length, lg);
                double worst = 0;
                for (int i = 0; i < vocab; i++) {
                    assertTrue(Float.isFinite(lg[i]), "logit " + i + " is " + lg[i]);
                    worst = Math.max(worst, Math.abs((double) lc[i] - lg[i]));
                }
                assertTrue(worst <= 2e-2, "max |logit gpu - cpu| = " + worst);
            }
        }
    }
}
