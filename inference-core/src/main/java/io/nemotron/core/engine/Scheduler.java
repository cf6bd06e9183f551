package io.nemotron.core.engine;

import io.nemotron.core.kv.KvCacheManager;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Decides what each step runs (vLLM v1's {@code Scheduler}): pure, no threads, no tensors, no clock. There is no
 * prefill or decode phase: every sequence's computed tokens catch up with its tokens under one token budget, which
 * gives chunked prefill, prefix hits and decodes with no special cases.
 *
 * <p>Each step, running sequences go first in admission order; one that cannot get KV blocks preempts (by recompute)
 * the lowest-priority, newest running sequence, possibly itself. Waiting sequences are then admitted in (priority,
 * arrival) order, stopping at the first that does not fit, so a head is never overtaken by a later arrival of its
 * priority. Nothing is admitted in a step that preempted: memory is short, and admitting would only thrash.
 *
 * <p>Owned by the engine thread; not thread-safe.
 */
public final class Scheduler {
    /** Scheduling order: lower priority value first, then earlier arrival, then add order (FCFS on ties). */
    private static final Comparator<Sequence> QUEUE_ORDER = Comparator.comparingInt(Sequence::priority)
            .thenComparingLong(Sequence::arrival)
            .thenComparingLong(s -> s.addOrder);

    private final SchedulerConfig config;
    private final KvCacheManager kv;
    /** Admission order; every sequence here has status RUNNING and a block table. */
    private final List<Sequence> running = new ArrayList<>();
    /**
     * Every sequence here has status WAITING and no block table. A preempted sequence comes back with its own
     * (priority, arrival), which puts it at the front of its priority: every other waiting one of that priority
     * arrived later, since admission is in order and the newest is preempted first.
     */
    private final TreeSet<Sequence> waiting = new TreeSet<>(QUEUE_ORDER);
    /** Queued sequences by request id: the KV manager keys tables by id, so ids must be unique while queued. */
    private final Map<String, Sequence> live = new HashMap<>();
    private long nextAddOrder;
    private long numPreemptions;

    public Scheduler(SchedulerConfig config, KvCacheManager kv) {
        this.config = config;
        this.kv = kv;
    }

    /**
     * Queues a new sequence.
     *
     * @throws EngineOverloadedException when maxWaiting sequences already wait (preempted ones are requeued regardless,
     *                                   so the queue may exceed maxWaiting briefly)
     * @throws IllegalArgumentException  when the sequence could never fit in the KV cache even alone (it would block
     *                                   the queue forever), or its request id is already queued
     * @throws IllegalStateException     when the sequence was added before
     */
    public void add(Sequence seq) {
        if (seq.addOrder >= 0 || seq.status() != Sequence.Status.WAITING) {
            throw new IllegalStateException("request " + seq.requestId() + " was already added (" + seq.status() + ")");
        }
        if (live.containsKey(seq.requestId())) {
            throw new InvalidRequestException("request_id: " + seq.requestId() + " is already queued");
        }
        // the last sampled token is never computed, so its K/V need no slot
        int maxComputed = seq.numPromptTokens() + seq.maxTokens() - 1;
        if (kv.blocksFor(maxComputed) > kv.numBlocks()) {
            throw new InvalidRequestException("max_tokens: request " + seq.requestId() + ": " + seq.numPromptTokens()
                    + " prompt tokens + max_tokens " + seq.maxTokens() + " need " + kv.blocksFor(maxComputed)
                    + " KV blocks, the cache has " + kv.numBlocks());
        }
        if (waiting.size() >= config.maxWaiting()) {
            throw new EngineOverloadedException("the waiting queue is full (" + waiting.size() + " requests, maxWaiting="
                    + config.maxWaiting() + "); retry later");
        }
        seq.addOrder = nextAddOrder++;
        live.put(seq.requestId(), seq);
        waiting.add(seq);
    }

    /** Decides the next step. */
    public SchedulerOutput schedule() {
        int budget = config.maxNumBatchedTokens();
        List<ScheduledSequence> scheduled = new ArrayList<>();
        List<Sequence> preempted = new ArrayList<>();

        int i = 0;
        while (i < running.size() && budget > 0) {
            Sequence seq = running.get(i);
            int numNew = Math.min(Math.min(seq.numTokens() - seq.numComputedTokens(), budget), config.chunkLimit());
            if (numNew <= 0) {
                i++; // sampled last step and not yet appended to (or about to be finished): nothing to run
                continue;
            }
            boolean preemptedSelf = false;
            while (!kv.allocateSlots(seq.requestId(), seq.numComputedTokens() + numNew)) {
                Sequence victim = running.stream().max(QUEUE_ORDER).orElseThrow();
                int v = running.indexOf(victim);
                running.remove(v);
                if (v < i) {
                    budget += unschedule(scheduled, victim); // it ran earlier in this loop: take its tokens back
                    i--;
                }
                preempt(victim);
                preempted.add(victim);
                if (victim == seq) {
                    preemptedSelf = true;
                    break;
                }
            }
            if (preemptedSelf) {
                continue; // running.get(i) is now the next sequence
            }
            scheduled.add(chunk(seq, numNew));
            budget -= numNew;
            i++;
        }

        if (preempted.isEmpty()) {
            budget = admitWaiting(budget, scheduled);
        }
        return new SchedulerOutput(scheduled, preempted, config.maxNumBatchedTokens() - budget);
    }

    /** Admits waiting sequences in queue order while budget and seats last; returns the budget left. */
    private int admitWaiting(int budget, List<ScheduledSequence> scheduled) {
        while (budget > 0 && running.size() < config.maxNumSeqs() && !waiting.isEmpty()) {
            Sequence seq = waiting.first();
            String id = seq.requestId();
            int cached = kv.allocateCachedPrefix(id, seq.tokens(), seq.numTokens());
            // NOTE: cached < numTokens (the manager's cap), so numNew >= 1 and the sequence makes progress
            int numNew = Math.min(Math.min(seq.numTokens() - cached, budget), config.chunkLimit());
            if (!kv.allocateSlots(id, cached + numNew)) {
                kv.free(id); // give the prefix hits back; the head keeps its place, and nobody overtakes it
                break;
            }
            waiting.pollFirst();
            seq.admit(cached);
            running.add(seq);
            scheduled.add(chunk(seq, numNew));
            budget -= numNew;
        }
        return budget;
    }

    private static ScheduledSequence chunk(Sequence seq, int numNew) {
        int start = seq.numComputedTokens();
        return new ScheduledSequence(seq, numNew, start, start + numNew == seq.numTokens());
    }

    private static int unschedule(List<ScheduledSequence> scheduled, Sequence seq) {
        for (int k = 0; k < scheduled.size(); k++) {
            if (scheduled.get(k).sequence() == seq) {
                return scheduled.remove(k).numNewTokens();
            }
        }
        return 0; // it had nothing to run this step
    }

    /** Recompute preemption: free the blocks, keep the tokens, requeue with the original priority and arrival. */
    private void preempt(Sequence seq) {
        kv.free(seq.requestId());
        seq.preempt();
        waiting.add(seq);
        numPreemptions++;
    }

    /** One sampled token as {@link #updateFromOutput} applied it: {@code finished} is its token-level stop, or null. */
    public record SampledToken(Sequence sequence, int token, StopReason finished) {}

    /**
     * Applies a step's outcome in one place (vLLM v1's {@code update_from_output}): each scheduled sequence's computed
     * tokens advance by its numNewTokens and its newly full blocks are cached; each sampling sequence gets its sampled
     * token appended and checked against its {@link TokenStops} (max_tokens, EOS, stop token ids); a sequence that
     * stopped is finished here and its blocks are freed. Sequences finished while the step ran are skipped.
     *
     * @param sampledTokens one id per sampling sequence of the step, in scheduled order (the step's logit rows)
     * @return the appended tokens, in scheduled order
     */
    public List<SampledToken> updateFromOutput(SchedulerOutput output, int[] sampledTokens) {
        int rows = 0;
        for (ScheduledSequence s : output.scheduled()) {
            rows += s.samples() ? 1 : 0;
        }
        if (rows != sampledTokens.length) {
            throw new IllegalArgumentException("the step has " + rows + " sampling sequences but "
                    + sampledTokens.length + " sampled tokens");
        }
        List<SampledToken> appended = new ArrayList<>();
        int row = 0;
        for (ScheduledSequence s : output.scheduled()) {
            Sequence seq = s.sequence();
            int token = s.samples() ? sampledTokens[row++] : -1;
            if (seq.status() != Sequence.Status.RUNNING) {
                continue;
            }
            if (seq.numComputedTokens() != s.startPosition()) {
                throw new IllegalStateException("request " + seq.requestId() + ": output starts at " + s.startPosition()
                        + " but " + seq.numComputedTokens() + " tokens are computed (applied twice, or stale)");
            }
            seq.advance(s.numNewTokens());
            // NOTE: before the append: the blocks are hashed from the tokens that were computed
            kv.cacheFullBlocks(seq.requestId(), seq.tokens(), seq.numComputedTokens());
            if (!s.samples()) {
                continue;
            }
            seq.appendToken(token);
            StopReason stop = seq.stops().check(token, seq.numOutputTokens());
            if (stop != null) {
                finish(seq);
            }
            appended.add(new SampledToken(seq, token, stop));
        }
        return appended;
    }

    /**
     * Removes a sequence (finished, cancelled, expired, failed) from whichever queue holds it, frees its blocks and
     * marks it FINISHED. Idempotent; a sequence this scheduler does not hold only gets marked FINISHED.
     */
    public void finish(Sequence seq) {
        boolean held = running.remove(seq) || waiting.remove(seq);
        if (held) {
            live.remove(seq.requestId());
            kv.free(seq.requestId());
        }
        seq.setStatus(Sequence.Status.FINISHED);
    }

    public int numRunning() {
        return running.size();
    }

    public int numWaiting() {
        return waiting.size();
    }

    /** Preemptions since start, all sequences together. */
    public long numPreemptions() {
        return numPreemptions;
    }

    public boolean hasWork() {
        return !running.isEmpty() || !waiting.isEmpty();
    }

    /** Unmodifiable snapshot in admission order; a snapshot so that the engine may finish() while iterating it. */
    public List<Sequence> running() {
        return List.copyOf(running);
    }

    /** Unmodifiable snapshot in scheduling order; a snapshot so that the engine may finish() while iterating it. */
    public List<Sequence> waiting() {
        return List.copyOf(waiting);
    }
}
