package io.nemotron.core.backend.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.DoubleAdder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Streaming-read bandwidth probe: the ceiling a decode-time matmul (which reads every weight once per token)
 * can reach, so kernel throughput can be stated as a fraction of it.
 */
public final class MemoryBandwidth {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int BLOCK = 4 * F.vectorByteSize();   // bytes per unrolled step of the read loop

    private MemoryBandwidth() {}

    /**
     * Allocates {@code bytes} off-heap (rounded down to 256-byte blocks), touches every page, then sums it as
     * floats split across the pool's threads; best of {@code repeats} passes, in GB/s (10^9 bytes).
     */
    public static double measureReadGBps(CpuThreadPool pool, long bytes, int repeats) {
        long blocks = bytes / BLOCK;
        if (blocks < 1 || blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("bytes must be in [" + BLOCK + ", " + (long) Integer.MAX_VALUE * BLOCK + "]");
        }
        try (Arena arena = Arena.ofShared()) {
            MemorySegment segment = arena.allocate(blocks * BLOCK, 4096);
            // Touch from the pool so that every page is mapped before timing (and first-touched by a worker).
            pool.parallelFor((int) blocks, (from, to) ->
                    segment.asSlice((long) from * BLOCK, (long) (to - from) * BLOCK).fill((byte) 1));
            DoubleAdder sink = new DoubleAdder();
            RangeTask read = (from, to) -> sink.add(sum(segment, from, to));
            double best = 0;
            for (int r = 0; r < Math.max(1, repeats); r++) {
                long start = System.nanoTime();
                pool.parallelFor((int) blocks, read);
                long nanos = System.nanoTime() - start;
                best = Math.max(best, (double) blocks * BLOCK / nanos);
            }
            if (Double.isNaN(sink.sum())) {   // keeps the sums observable so the reads cannot be elided
                throw new AssertionError("unreachable: the filled pattern is a finite float");
            }
            return best;
        }
    }

    /**
     * Sums blocks [from, to) as four concurrent streams (one per quarter of the range): a single sequential
     * stream per core leaves DRAM bandwidth unused that the matmul kernels (four or eight row streams) do get.
     */
    private static float sum(MemorySegment s, int from, int to) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int vb = F.vectorByteSize();
        long quarter = (long) (to - from) / 4 * BLOCK;   // bytes per stream
        long s0 = (long) from * BLOCK, s1 = s0 + quarter, s2 = s1 + quarter, s3 = s2 + quarter;
        for (long o = 0; o < quarter; o += vb) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, s, s0 + o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, s, s1 + o, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(F, s, s2 + o, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(F, s, s3 + o, ByteOrder.LITTLE_ENDIAN));
        }
        for (long o = s3 + quarter; o < (long) to * BLOCK; o += vb) {   // the blocks that did not divide by 4
            a0 = a0.add(FloatVector.fromMemorySegment(F, s, o, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }
}
