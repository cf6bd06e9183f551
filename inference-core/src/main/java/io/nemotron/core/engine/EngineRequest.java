package io.nemotron.core.engine;

/**
 * One request to the engine: already tokenized, already validated by the caller.
 *
 * @param requestId       unique while the request is alive (the service generates one when the client gives none)
 * @param promptIds       prompt token ids (with BOS / chat headers as the prompt builder produced them)
 * @param params          sampling and stop settings (validated)
 * @param priority        lower value = scheduled earlier (vLLM's convention); 0 by default; ties are FCFS
 * @param deadlineNanos   {@link System#nanoTime()} after which the request expires, or {@link Long#MAX_VALUE}
 */
public record EngineRequest(String requestId, int[] promptIds, SamplingParams params, int priority, long deadlineNanos) {

    public static EngineRequest of(String requestId, int[] promptIds, SamplingParams params) {
        return new EngineRequest(requestId, promptIds, params, 0, Long.MAX_VALUE);
    }
}
