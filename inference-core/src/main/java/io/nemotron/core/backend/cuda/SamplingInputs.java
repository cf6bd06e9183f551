package io.nemotron.core.backend.cuda;

import io.nemotron.core.sampling.SamplingBatch;

/**
 * The sampling kernels' arguments for a chunk of a {@link SamplingBatch}'s rows, packed into one int array so that one
 * host→device copy carries them (STYLE point 3), with a section for the kernel's output ids. Pure Java, tested
 * without a GPU.
 *
 * <p>Sections (offsets in ints), in this order: seeds and steps (uint64, two ints each, little-endian, first so that
 * they are 8-byte aligned on the 256-byte aligned device buffer), temperature, top-k, top-p, min-p, repetition,
 * presence, frequency (one per row), the penalty CSR offsets ({@code rows + 1}, rebased to the chunk's first id), the
 * penalty ids and their generated counts, and the output ids.
 */
final class SamplingInputs {
    int[] host = new int[0];
    int length;           // ints used in host
    int rows;
    int seeds;
    int steps;
    int temperature;
    int topK;
    int topP;
    int minP;
    int repetition;
    int presence;
    int frequency;
    int penaltyOffsets;
    int penaltyIds;
    int penaltyGenerated;
    int outIds;
    boolean anyPenalties;  // some row changes its logits: the penalty kernel runs

    /** Packs rows {@code [from, from + count)} of {@code s}. */
    void pack(SamplingBatch s, int from, int count) {
        if (from < 0 || count < 1 || from + count > s.rows) {
            throw new IllegalArgumentException("rows [" + from + ", " + (from + count) + ") of a sampling batch of "
                    + s.rows);
        }
        rows = count;
        int firstId = s.penaltyOffsets[from];
        int ids = s.penaltyOffsets[from + count] - firstId;
        seeds = 0;
        steps = seeds + 2 * count;
        temperature = steps + 2 * count;
        topK = temperature + count;
        topP = topK + count;
        minP = topP + count;
        repetition = minP + count;
        presence = repetition + count;
        frequency = presence + count;
        penaltyOffsets = frequency + count;
        penaltyIds = penaltyOffsets + count + 1;
        penaltyGenerated = penaltyIds + ids;
        outIds = penaltyGenerated + ids;
        length = outIds + count;
        if (host.length < length) {
            host = new int[Math.max(length, host.length * 2)];
        }
        anyPenalties = false;
        for (int i = 0; i < count; i++) {
            int r = from + i;
            putLong(seeds + 2 * i, s.seeds[r]);
            putLong(steps + 2 * i, s.steps[r]);
            host[temperature + i] = Float.floatToRawIntBits(s.temperature[r]);
            host[topK + i] = s.topK[r];
            host[topP + i] = Float.floatToRawIntBits(s.topP[r]);
            host[minP + i] = Float.floatToRawIntBits(s.minP[r]);
            host[repetition + i] = Float.floatToRawIntBits(s.repetition[r]);
            host[presence + i] = Float.floatToRawIntBits(s.presence[r]);
            host[frequency + i] = Float.floatToRawIntBits(s.frequency[r]);
            host[penaltyOffsets + i] = s.penaltyOffsets[r] - firstId;
            anyPenalties |= s.hasPenalties(r);
        }
        host[penaltyOffsets + count] = ids;
        System.arraycopy(s.penaltyIds, firstId, host, penaltyIds, ids);
        System.arraycopy(s.penaltyGenerated, firstId, host, penaltyGenerated, ids);
        for (int i = 0; i < count; i++) {
            host[outIds + i] = -1;   // overwritten by the kernel; -1 would fail the caller's vocabulary check
        }
    }

    private void putLong(int at, long v) {
        host[at] = (int) v;
        host[at + 1] = (int) (v >>> 32);
    }
}
