package io.nemotron.core.sampling;

import java.util.Arrays;

/**
 * The sampling settings of one step's logit rows, row i for the batch's i-th logit row, as flat arrays: what the host
 * {@link Sampler} reads and what a device backend copies down in one transfer. Refilled every step (like
 * {@code StepBatch}); the fields are public for the same reason, and only the filling methods write them.
 *
 * <p>Penalties are CSR: row i's distinct prompt and output ids are {@code penaltyIds[penaltyOffsets[i] ..
 * penaltyOffsets[i+1])}, each with how many times it was generated (0: prompt only). Penalty values 1, 0, 0 are off.
 */
public final class SamplingBatch {
    /** {@link #logprobs} of a row that wants none. */
    public static final int NO_LOGPROBS = -1;

    public int rows;
    public final float[] temperature;   // 0 = greedy
    public final int[] topK;            // off unless 0 < k < vocab
    public final float[] topP;          // 1 = off
    public final float[] minP;          // 0 = off
    public final float[] repetition;
    public final float[] presence;
    public final float[] frequency;
    public final long[] seeds;          // the request's seed (Philox key)
    public final long[] steps;          // tokens the sequence generated before this one (Philox counter)
    public final int[] logprobs;        // how many top logprobs to return, NO_LOGPROBS for none
    public final int[] penaltyOffsets;  // [rows + 1]
    public int[] penaltyIds = new int[64];
    public int[] penaltyGenerated = new int[64];

    public SamplingBatch(int maxRows) {
        if (maxRows < 1) {
            throw new IllegalArgumentException("maxRows must be >= 1, got " + maxRows);
        }
        temperature = new float[maxRows];
        topK = new int[maxRows];
        topP = new float[maxRows];
        minP = new float[maxRows];
        repetition = new float[maxRows];
        presence = new float[maxRows];
        frequency = new float[maxRows];
        seeds = new long[maxRows];
        steps = new long[maxRows];
        logprobs = new int[maxRows];
        penaltyOffsets = new int[maxRows + 1];
    }

    public int maxRows() {
        return temperature.length;
    }

    public void clear() {
        rows = 0;
        penaltyOffsets[0] = 0;
    }

    /** Appends a row without penalties; returns its index. Penalty ids for it may follow ({@link #addPenaltyId}). */
    public int addRow(float temperature, int topK, float topP, float minP, long seed, long step, int logprobs) {
        if (rows == maxRows()) {
            throw new IllegalStateException("the sampling batch holds " + maxRows() + " rows");
        }
        int r = rows++;
        this.temperature[r] = temperature;
        this.topK[r] = topK;
        this.topP[r] = topP;
        this.minP[r] = minP;
        this.seeds[r] = seed;
        this.steps[r] = step;
        this.logprobs[r] = logprobs;
        repetition[r] = 1f;
        presence[r] = 0f;
        frequency[r] = 0f;
        penaltyOffsets[r + 1] = penaltyOffsets[r];
        return r;
    }

    /** Sets the last row's penalty values. */
    public void setPenalties(float repetition, float presence, float frequency) {
        int r = rows - 1;
        this.repetition[r] = repetition;
        this.presence[r] = presence;
        this.frequency[r] = frequency;
    }

    /** Adds one distinct id of the last row's prompt or output, generated {@code generated} times. */
    public void addPenaltyId(int id, int generated) {
        int e = penaltyOffsets[rows];
        if (e == penaltyIds.length) {
            penaltyIds = Arrays.copyOf(penaltyIds, e * 2);
            penaltyGenerated = Arrays.copyOf(penaltyGenerated, e * 2);
        }
        penaltyIds[e] = id;
        penaltyGenerated[e] = generated;
        penaltyOffsets[rows] = e + 1;
    }

    /** Whether row r changes its logits before sampling. */
    public boolean hasPenalties(int r) {
        return repetition[r] != 1f || presence[r] != 0f || frequency[r] != 0f;
    }

    public boolean wantsLogprobs(int r) {
        return logprobs[r] != NO_LOGPROBS;
    }
}
