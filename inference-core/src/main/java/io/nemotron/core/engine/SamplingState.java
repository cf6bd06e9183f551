package io.nemotron.core.engine;

import java.util.SplittableRandom;

/**
 * What sampling needs to remember for one sequence: its random stream (seeded per request, so the same seed
 * and the same logits give the same tokens whatever else is in the batch) and, when penalties are on, the ids
 * of its prompt and output. Owned by the sequence; the engine thread is its only user.
 */
public final class SamplingState {
    private final SplittableRandom random;
    private final SamplingCounts counts;

    /** {@code promptIds} feed the repetition penalty; they are only recorded when a penalty is enabled. */
    public SamplingState(SamplingParams params, int[] promptIds) {
        this.random = params.seed() == null ? new SplittableRandom() : new SplittableRandom(params.seed());
        if (params.penaltiesEnabled()) {
            counts = new SamplingCounts(promptIds.length + Math.min(params.maxTokens(), 1024));
            for (int id : promptIds) {
                counts.addPrompt(id);
            }
        } else {
            counts = null;
        }
    }

    /** Records a generated id (call after each sampled token, before the next sample). */
    public void accept(int tokenId) {
        if (counts != null) {
            counts.addGenerated(tokenId);
        }
    }

    SplittableRandom random() {
        return random;
    }

    /** Null when no penalty is enabled. */
    SamplingCounts counts() {
        return counts;
    }
}
