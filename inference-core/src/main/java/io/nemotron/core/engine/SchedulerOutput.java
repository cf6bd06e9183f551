package io.nemotron.core.engine;

import java.util.List;

/**
 * What one step runs.
 *
 * @param scheduled          sequences to run, running ones first (in admission order), then newly admitted ones
 * @param preempted          sequences preempted this step (their blocks are freed; they wait to be recomputed)
 * @param numScheduledTokens sum of numNewTokens, at most maxNumBatchedTokens
 */
public record SchedulerOutput(List<ScheduledSequence> scheduled, List<Sequence> preempted, int numScheduledTokens) {
    public SchedulerOutput {
        scheduled = List.copyOf(scheduled);
        preempted = List.copyOf(preempted);
    }

    public boolean isEmpty() {
        return scheduled.isEmpty();
    }
}
