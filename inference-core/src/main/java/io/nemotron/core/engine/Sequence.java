package io.nemotron.core.engine;

import java.util.Arrays;

/**
 * A request's mutable state, owned by the engine thread. {@code tokens} = prompt followed by generated ids.
 *
 * <p>Invariant: {@code numCachedTokens <= numComputedTokens <= numTokens}. Only the {@link Scheduler} moves the status
 * and the computed count; the engine only appends sampled tokens.
 */
public final class Sequence {
    public enum Status { WAITING, RUNNING, FINISHED }

    private final String requestId;
    private final int numPromptTokens;
    private final int maxTokens;
    private final int priority;
    private final long arrival;
    private final TokenStops stops;
    private int[] tokens;
    private int numTokens;
    private int numComputedTokens;
    private int numCachedTokens;
    private int numPreemptions;
    private Status status = Status.WAITING;
    /** Tie-break after (priority, arrival): the order of {@link Scheduler#add}, so equal keys stay FCFS. */
    long addOrder = -1;

    /**
     * @param priority lower value = scheduled first (vLLM's convention)
     * @param arrival  any monotonic time (e.g. nanoTime of the engine's clock); earlier = scheduled first
     */
    public Sequence(String requestId, int[] promptIds, int maxTokens, int priority, long arrival) {
        this(requestId, promptIds, priority, arrival, TokenStops.maxTokensOnly(maxTokens));
    }

    /** @param stops max_tokens and the ids that end the sequence, checked by {@link Scheduler#updateFromOutput} */
    public Sequence(String requestId, int[] promptIds, int priority, long arrival, TokenStops stops) {
        int maxTokens = stops.maxTokens();
        if (requestId == null || requestId.isEmpty()) {
            throw new IllegalArgumentException("requestId must be non-empty");
        }
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("request " + requestId + ": prompt must have at least one token");
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("request " + requestId + ": maxTokens must be >= 1, got " + maxTokens);
        }
        this.requestId = requestId;
        this.numPromptTokens = promptIds.length;
        this.maxTokens = maxTokens;
        this.priority = priority;
        this.arrival = arrival;
        this.stops = stops;
        // room for a few outputs up front; appendToken doubles beyond that
        this.tokens = Arrays.copyOf(promptIds, promptIds.length + Math.min(maxTokens, 16));
        this.numTokens = promptIds.length;
    }

    public String requestId() {
        return requestId;
    }

    public int priority() {
        return priority;
    }

    public long arrival() {
        return arrival;
    }

    public Status status() {
        return status;
    }

    /** The backing array, valid in [0, numTokens()); replaced when it grows, so do not keep it across appends. */
    public int[] tokens() {
        return tokens;
    }

    public int numTokens() {
        return numTokens;
    }

    public int numPromptTokens() {
        return numPromptTokens;
    }

    public int numOutputTokens() {
        return numTokens - numPromptTokens;
    }

    public int maxTokens() {
        return maxTokens;
    }

    public TokenStops stops() {
        return stops;
    }

    /** Tokens whose K/V are in the cache. */
    public int numComputedTokens() {
        return numComputedTokens;
    }

    /** Tokens that came from the prefix cache on the latest (re)schedule. */
    public int numCachedTokens() {
        return numCachedTokens;
    }

    public int numPreemptions() {
        return numPreemptions;
    }

    /** Appends a sampled token. Refuses a finished sequence and a token past maxTokens (a missed stop check). */
    public void appendToken(int id) {
        if (status == Status.FINISHED) {
            throw new IllegalStateException("request " + requestId + " is finished");
        }
        if (numOutputTokens() >= maxTokens) {
            throw new IllegalStateException("request " + requestId + " already has maxTokens=" + maxTokens);
        }
        if (numTokens == tokens.length) {
            tokens = Arrays.copyOf(tokens, tokens.length * 2);
        }
        tokens[numTokens++] = id;
    }

    void setStatus(Status status) {
        this.status = status;
    }

    /** (Re)admission: the cached prefix counts as computed. */
    void admit(int cachedTokens) {
        this.numCachedTokens = cachedTokens;
        this.numComputedTokens = cachedTokens;
        this.status = Status.RUNNING;
    }

    void advance(int newlyComputed) {
        if (numComputedTokens + newlyComputed > numTokens) {
            throw new IllegalStateException("request " + requestId + ": computed " + numComputedTokens + " + "
                    + newlyComputed + " > " + numTokens + " tokens");
        }
        numComputedTokens += newlyComputed;
    }

    /** Recompute preemption: the K/V are gone, the tokens (prompt and outputs) are kept. */
    void preempt() {
        numComputedTokens = 0;
        numCachedTokens = 0;
        numPreemptions++;
        status = Status.WAITING;
    }

    @Override
    public String toString() {
        return "Sequence[" + requestId + ", " + status + ", prio=" + priority + ", tokens=" + numTokens + ", computed="
                + numComputedTokens + "]";
    }
}
