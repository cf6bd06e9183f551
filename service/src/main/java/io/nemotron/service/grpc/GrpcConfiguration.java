package io.nemotron.service.grpc;

import io.nemotron.service.grpc.stream.ChatPipelineFactory;
import io.nemotron.service.grpc.stream.PlainTextPipeline;
import io.nemotron.service.reasoning.ThinkSplitter;
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

    /** {@code <think>} splitting in front of the answer stage (plain content until the tool-call parser lands). */
    @Bean
    ChatPipelineFactory chatPipelineFactory() {
        return (request, thinkingOn, out) -> new ThinkSplitter(out, new PlainTextPipeline(out), thinkingOn);
    }
}
