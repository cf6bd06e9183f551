package io.nemotron.service.grpc.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.nemotron.core.engine.RequestHandle;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The slow-client policy and delivery order, with a scripted observer and a same-thread executor. */
class ResponseStreamTest {

    @Test
    void waitsForReadyThenDeliversInOrderAndCompletes() {
        Observer obs = new Observer();
        obs.ready = false;
        ResponseStream<String> stream = new ResponseStream<>(obs, Runnable::run, 10);
        stream.send("a");
        stream.send("b");
        stream.close(Status.OK);
        assertThat(obs.got).isEmpty();

        obs.ready = true;
        obs.onReady.run();
        assertThat(obs.got).containsExactly("a", "b");
        assertThat(obs.completed).isTrue();
    }

    @Test
    void aClientThatStopsReadingIsCancelledWithResourceExhausted() {
        Observer obs = new Observer();
        obs.ready = false;
        ResponseStream<String> stream = new ResponseStream<>(obs, Runnable::run, 3);
        Handle handle = new Handle();
        stream.bind(handle);
        for (int i = 0; i < 4; i++) {
            stream.send("m" + i);
        }
        assertThat(handle.cancelled).isTrue();
        assertThat(obs.got).isEmpty();
        assertThat(Status.fromThrowable(obs.error).getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    }

    @Test
    void clientCancelBeforeBindCancelsTheHandleOnBind() {
        Observer obs = new Observer();
        ResponseStream<String> stream = new ResponseStream<>(obs, Runnable::run, 3);
        obs.onCancel.run();
        Handle handle = new Handle();
        stream.bind(handle);
        assertThat(handle.cancelled).isTrue();
    }

    private static final class Handle implements RequestHandle {
        boolean cancelled;

        @Override
        public String requestId() {
            return "h";
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    private static final class Observer extends ServerCallStreamObserver<String> {
        final List<String> got = new ArrayList<>();
        boolean ready = true;
        boolean completed;
        Throwable error;
        Runnable onReady;
        Runnable onCancel;

        @Override public boolean isReady() { return ready; }
        @Override public void setOnReadyHandler(Runnable r) { onReady = r; }
        @Override public void setOnCancelHandler(Runnable r) { onCancel = r; }
        @Override public boolean isCancelled() { return false; }
        @Override public void setCompression(String compression) {}
        @Override public void disableAutoInboundFlowControl() {}
        @Override public void request(int count) {}
        @Override public void setMessageCompression(boolean enable) {}
        @Override public void onNext(String value) { got.add(value); }
        @Override public void onError(Throwable t) { error = t; }
        @Override public void onCompleted() { completed = true; }
    }
}
