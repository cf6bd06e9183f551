package io.nemotron.service.http;

import io.nemotron.api.v1.ToolCallEvent;
import io.nemotron.core.engine.FinishReason;
import io.nemotron.core.engine.RequestStats;
import io.nemotron.core.sampling.SampledLogprobs;
import java.util.List;

/**
 * Where the choices of one HTTP request go: streamed as SSE chunks or collected into one response. Called on the
 * engine's output stage, one call at a time per choice; choices of one request may call in parallel.
 * {@code logprobs} are those of the tokens whose text this event carries (possibly none).
 */
interface ChoiceSink {
    void content(int index, String text, List<SampledLogprobs> logprobs);

    void reasoning(int index, String text, List<SampledLogprobs> logprobs);

    void toolCall(int index, ToolCallEvent event, List<SampledLogprobs> logprobs);

    /**
     * @param toolCalls whether the choice called tools (finish reason tool_calls)
     * @param tokenIds  the generated ids, in order
     */
    void finished(int index, FinishReason reason, boolean toolCalls, RequestStats stats, int[] tokenIds);

    void failed(int index, Throwable error, RequestStats stats);
}
