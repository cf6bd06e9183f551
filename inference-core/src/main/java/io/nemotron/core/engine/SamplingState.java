package io.nemotron.core.engine;

import io.nemotron.core.sampling.SamplingBatch;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What sampling needs to remember for one sequence: its seed (the request's, or a random one) and how many tokens it
 * generated, which key its random draws ({@link io.nemotron.core.sampling.Philox}: the draw of a step depends on
 * nothing else, so the same seed and logits give the same tokens whatever else is in the batch, on the host or the
 * device), and, when penalties are on, the ids of its prompt and output. Owned by the sequence; the engine thread is
 * its only user.
 */
public final class SamplingState {
    private final SamplingParams params;
    private final long seed;
    private final SamplingCounts counts;
    private long generated;

    /** {@code promptIds} feed the repetition penalty; they are only recorded when a penalty is enabled. */
    public SamplingState(SamplingParams params, int[] promptIds) {
        this.params = params;
        this.seed = params.seed() != null ? params.seed() : ThreadLocalRandom.current().nextLong();
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
        generated++;
        if (counts != null) {
            counts.addGenerated(tokenId);
        }
    }

    /** Appends this sequence's next draw to {@code batch} as a new row: its settings, seed, step and penalty ids. */
    public void addRow(SamplingBatch batch) {
        SamplingParams p = params;
        batch.addRow(p.temperature(), p.topK(), p.topP(), p.minP(), seed, generated,
                p.logprobs() == null ? SamplingBatch.NO_LOGPROBS : p.logprobs());
        if (counts != null) {
            batch.setPenalties(p.repetitionPenalty(), p.presencePenalty(), p.frequencyPenalty());
            for (int i = 0; i < counts.distinct(); i++) {
                batch.addPenaltyId(counts.idAt(i), counts.generatedAt(i));
            }
        }
    }

    /** Null when no penalty is enabled. */
    SamplingCounts counts() {
        return counts;
    }
}
