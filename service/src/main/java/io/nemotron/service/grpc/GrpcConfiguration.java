package io.nemotron.service.grpc;

import io.nemotron.service.grpc.stream.ChatPipelineFactory;
import io.nemotron.service.grpc.stream.PlainTextPipeline;
import io.nemotron.service.reasoning.ThinkSplitter;
import io.nemotron.service.toolcall.ToolCallOutcomes;
import io.nemotron.service.toolcall.ToolCallPipeline;
import io.nemotron.service.toolcall.ToolChoice;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Beans of the streaming path. */
@Configuration(proxyBeanMethods = false)
public class GrpcConfiguration {

    /**
     * Writes responses to the client, off the engine thread. Virtual threads: each drain is short, and one parked on
     * a slow socket must not hold back the others.
     */
    @Bean(destroyMethod = "close")
    ExecutorService streamExecutor() {
        return Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("grpc-stream-", 0).factory());
    }

    /**
     * {@code <think>} splitting, then the {@code <TOOLCALL>} parser on the answer (plain content when tool_choice is
     * NONE: no tools were rendered, so markup the model writes anyway is its text). The parser's failures are counted
     * by {@code outcomes} (the metrics).
     */
    @Bean
    ChatPipelineFactory chatPipelineFactory(ToolCallOutcomes outcomes) {
        return (request, thinkingOn, toolChoice, out) -> new ThinkSplitter(out,
                toolChoice.mode() == ToolChoice.Mode.NONE ? new PlainTextPipeline(out)
                        : new ToolCallPipeline(request, toolChoice, out, outcomes),
                thinkingOn);
    }
}
