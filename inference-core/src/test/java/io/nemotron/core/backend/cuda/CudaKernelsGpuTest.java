package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.cpu.Attention;
import io.nemotron.core.backend.cpu.RmsNorm;
import io.nemotron.core.backend.cpu.Rope;
import io.nemotron.core.backend.cpu.Silu;
import io.nemotron.core.config.RopeScaling;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each CUDA kernel against the CPU backend's own kernel on the same inputs (STYLE point 4: one parity suite for the
 * twins). Needs a GPU: skipped, with the reason, where JCuda or the driver cannot be loaded. Runs from the GPU bundle
 * (scripts/gpu-run.sh runs every test tagged gpu).
 */
@Tag("gpu")
class CudaKernelsGpuTest {
    @RegisterExtension
    static final CudaTestDevice gpu = new CudaTestDevice();

    static float[] random(SplittableRandom r, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
        return x;
    }

    /** Round to nearest even, as __float2bfloat16_rn (finite inputs). */
    static short bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    static float fromBf16(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    static short[] bf16(float[] x) {
        short[] out = new short[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = bf16(x[i]);
        }
        return out;
    }

    /** x with every value rounded to BF16, as floats: the inputs both backends then see exactly. */
    static float[] roundedToBf16(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = fromBf16(bf16(x[i]));
        }
        return out;
    }

    @ParameterizedTest
    @CsvSource({"1024", "1000", "16384"})   // packed, element-wise tail, Ultra's width
    void rmsnormF32MatchesCpu(int hidden) {
        SplittableRandom r = new SplittableRandom(hidden);
        int rows = 3;
        float[] x = random(r, rows * hidden, 3);
        float[] w = random(r, hidden, 1);
        float eps = 1e-5f;
        float[] expected = new float[rows * hidden];
        for (int row = 0; row < rows; row++) {
            RmsNorm.apply(x, row * hidden, w, eps, expected, row * hidden, hidden);
        }
        try (DeviceBuffer dx = gpu.upload(x, "x"); DeviceBuffer dw = gpu.upload(w, "weight");
             DeviceBuffer dout = gpu.device().allocate((long) rows * hidden * 4, "out")) {
            new RmsNormKernels(gpu.kernels()).rmsnormF32(dout.address(), dx.address(), dw.address(), hidden, eps, rows);
            gpu.device().synchronize("rmsnorm_f32");
            float[] got = new float[rows * hidden];
            dout.download(got);
            for (int i = 0; i < got.length; i++) {
                // summation order differs (block tree vs SIMD lanes) and rsqrtf is within 2 ulp
                assertEquals(expected[i], got[i], 1e-5f * Math.max(1f, Math.abs(expected[i])), "element " + i);
            }
        }
    }

    @Test
    void ropeF32MatchesCpuToOneUlp() {
        // Ultra's rope: head_dim 128, theta 500000, llama3 scaling factor 16 over 8192 original positions
        int headDim = 128;
        int heads = 4;
        Rope rope = new Rope(headDim, 500000.0, new RopeScaling(16.0, 1.0, 4.0, 8192), 131072);
        int[] positions = {0, 1, 7, 255, 256, 4095, 8191, 8192, 65537, 131071};
        int rows = positions.length;
        float[] x = random(new SplittableRandom(7), rows * heads * headDim, 2);
        float[] expected = x.clone();
        for (int row = 0; row < rows; row++) {
            rope.apply(expected, row * heads * headDim, heads, positions[row]);
        }
        try (DeviceBuffer dx = gpu.upload(x, "q"); DeviceBuffer dpos = gpu.upload(positions, "positions");
             DeviceBuffer dfreq = gpu.upload(rope.inverseFrequencies(), "inv_freq")) {
            new RopeKernels(gpu.kernels()).ropeF32(dx.address(), heads * headDim, dpos.address(), dfreq.address(), heads, headDim,
                    rows);
            gpu.device().synchronize("rope_f32");
            float[] got = new float[x.length];
            dx.download(got);
            for (int i = 0; i < got.length; i++) {
                // the same float angle, cos/sin rounded from double, unfused products: equal but for the rare
                // case where CUDA's and Java's double cos round to different floats
                assertTrue(Math.abs(expected[i] - got[i]) <= Math.ulp(expected[i]),
                        "element " + i + ": cpu " + expected[i] + ", gpu " + got[i]);
            }
        }
    }

    @Test
    void siluMulF32MatchesCpu() {
        int width = 1000;
        int rows = 3;
        SplittableRandom r = new SplittableRandom(3);
        float[] gate = random(r, rows * width, 10);
        float[] up = random(r, rows * width, 2);
        gate[0] = -100f;   // e^100 overflows: silu -> -0
        float[] expected = gate.clone();
        Silu.mulInPlace(expected, up, rows * width);
        try (DeviceBuffer dg = gpu.upload(gate, "gate"); DeviceBuffer du = gpu.upload(up, "up")) {
            new ElementwiseKernels(gpu.kernels()).siluMulF32(dg.address(), width, dg.address(), du.address(), width, width, rows);
            gpu.device().synchronize("silu_mul_f32");
            float[] got = new float[gate.length];
            dg.download(got);
            for (int i = 0; i < got.length; i++) {
                assertEquals(expected[i], got[i], 1e-6f * Math.max(1f, Math.abs(expected[i])), "element " + i);
            }
        }
    }

    /**
     * K/V of one sequence of {@code len} tokens written through kv_write into shuffled blocks of 16, then attention for
     * the last {@code queries} positions by the decode kernel (whole context, and split into 32-token partitions) and
     * the prefill kernel, against the CPU's contiguous Attention.decode on the same BF16 values.
     */
    @ParameterizedTest
    @CsvSource({
        "8, 2, 16, 75, 15",     // nemotron-nas-tiny's shape: group 4, head_dim 16
        "8, 4, 8, 40, 9",       // stories260K's: group 2, head_dim 8
        "4, 2, 6, 30, 5",       // head_dim not a multiple of 8: the 4-byte load path
        "32, 2, 128, 200, 4",   // Ultra's group of 16 and head_dim 128
        "40, 2, 64, 100, 3"     // group 20: two head chunks (16 + 4)
    })
    void pagedAttentionMatchesCpu(int heads, int kvHeads, int headDim, int len, int queries) {
        SplittableRandom r = new SplittableRandom(heads * 1000L + len);
        int blockSize = 16;
        int blocks = (len + blockSize - 1) / blockSize;
        int[] table = new int[blocks];
        // distinct, out of order, leaving blocks unused: the first `blocks` of a seeded permutation of the pool. (It
        // was (i * 5 + 3) % (blocks + 2), which maps every block to pool block 3 when blocks + 2 is a multiple of 5:
        // the emulator's random block order showed the colliding kv_write rows.)
        int[] pool = new int[blocks + 2];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = i;
        }
        for (int i = pool.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = pool[i];
            pool[i] = pool[j];
            pool[j] = t;
        }
        System.arraycopy(pool, 0, table, 0, blocks);
        int poolBlocks = blocks + 2;
        int kvWidth = kvHeads * headDim;
        int qWidth = heads * headDim;
        float[] k = roundedToBf16(random(r, len * kvWidth, 1));
        float[] v = roundedToBf16(random(r, len * kvWidth, 1));
        float[] q = roundedToBf16(random(r, queries * qWidth, 1));
        int[] slots = new int[len];
        for (int p = 0; p < len; p++) {
            slots[p] = table[p / blockSize] * blockSize + p % blockSize;
        }
        int[] positions = new int[queries];
        int[] seqOfRow = new int[queries];
        for (int i = 0; i < queries; i++) {
            positions[i] = len - queries + i;
        }
        float[] expected = new float[queries * qWidth];
        float[] scores = new float[len];
        for (int i = 0; i < queries; i++) {
            Attention.decode(q, i * qWidth, k, v, positions[i] + 1, heads, kvHeads, headDim, expected, i * qWidth, scores);
        }
        float scale = (float) (1.0 / Math.sqrt(headDim));
        int group = heads / kvHeads;
        long poolElements = (long) poolBlocks * kvHeads * blockSize * headDim;
        try (DeviceBuffer kc = gpu.device().allocate(poolElements * 2, "k cache");
             DeviceBuffer vc = gpu.device().allocate(poolElements * 2, "v cache");
             DeviceBuffer dk = gpu.upload(bf16(k), "k"); DeviceBuffer dv = gpu.upload(bf16(v), "v");
             DeviceBuffer dslots = gpu.upload(slots, "slot mapping"); DeviceBuffer dq = gpu.upload(bf16(q), "q");
             DeviceBuffer dtable = gpu.upload(table, "block table"); DeviceBuffer dseq = gpu.upload(seqOfRow, "seq of row");
             DeviceBuffer dpos = gpu.upload(positions, "positions");
             DeviceBuffer out = gpu.device().allocate((long) queries * qWidth * 2, "att")) {
            kc.fill((byte) 0x7f);   // 0x7f7f = 3.4e38 in BF16: any read of a slot not written would show
            vc.fill((byte) 0x7f);
            new KvCacheKernels(gpu.kernels()).kvWriteBf16(kc.address(), vc.address(), dk.address(), dv.address(), kvWidth,
                    dslots.address(), kvHeads, headDim, 4, len);

            PagedAttentionKernels attention = new PagedAttentionKernels(gpu.kernels());
            attention.pagedAttentionDecodeBf16(out.address(), qWidth, dq.address(), qWidth, kc.address(), vc.address(),
                    dtable.address(), blocks, dseq.address(), dpos.address(), heads, kvHeads, headDim, 4, scale, 0, 0L, 0L,
                    0L, 0, queries);
            gpu.device().synchronize("paged_attention_decode_bf16");
            assertClose(expected, download(out, queries * qWidth), "decode");

            int partition = 32;
            int parts = (len + partition - 1) / partition;
            try (DeviceBuffer partOut = gpu.device().allocate((long) queries * heads * parts * headDim * 4, "partials");
                 DeviceBuffer partMax = gpu.device().allocate((long) queries * heads * parts * 4, "partial max");
                 DeviceBuffer partSum = gpu.device().allocate((long) queries * heads * parts * 4, "partial sum")) {
                out.fill((byte) 0);
                attention.pagedAttentionDecodeBf16(out.address(), qWidth, dq.address(), qWidth, kc.address(),
                        vc.address(), dtable.address(), blocks, dseq.address(), dpos.address(), heads, kvHeads, headDim,
                        4, scale, partition, partOut.address(), partMax.address(), partSum.address(), parts, queries);
                attention.pagedAttentionReduceBf16(out.address(), qWidth, partOut.address(), partMax.address(),
                        partSum.address(), dpos.address(), heads, headDim, partition, parts, queries);
                gpu.device().synchronize("split-KV decode");
                assertClose(expected, download(out, queries * qWidth), "split-KV decode");
            }

            int rowsPerTile = Math.max(1, 16 / Math.min(group, 16));
            int tiles = (queries + rowsPerTile - 1) / rowsPerTile;
            int[] tileStart = new int[tiles];
            int[] tileRows = new int[tiles];
            for (int t = 0; t < tiles; t++) {
                tileStart[t] = t * rowsPerTile;
                tileRows[t] = Math.min(rowsPerTile, queries - t * rowsPerTile);
            }
            try (DeviceBuffer dstart = gpu.upload(tileStart, "tile starts"); DeviceBuffer drows = gpu.upload(tileRows, "tile rows")) {
                out.fill((byte) 0);
                attention.pagedAttentionPrefillBf16(out.address(), qWidth, dq.address(), qWidth, kc.address(),
                        vc.address(), dtable.address(), blocks, dseq.address(), dpos.address(), dstart.address(),
                        drows.address(), heads, kvHeads, headDim, 4, scale, tiles);
                gpu.device().synchronize("paged_attention_prefill_bf16");
                assertClose(expected, download(out, queries * qWidth), "prefill");
            }
        }
    }

    private static float[] download(DeviceBuffer b, int n) {
        short[] raw = new short[n];
        b.download(raw);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = fromBf16(raw[i]);
        }
        return out;
    }

    /** Outputs are convex combinations of values in (-1, 1): BF16 rounding of the result is below 4e-3. */
    private static void assertClose(float[] expected, float[] got, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], 1e-2f, what + ": element " + i);
        }
    }
}
