package io.nemotron.service.cli;

import io.grpc.stub.ServerCallStreamObserver;
import io.nemotron.api.v1.ChatResponse;

/**
 * A Chat call's response observer for {@code bench step --engine --service-listener}: always ready, keeps nothing,
 * so the service's chat path (reasoning split, messages, the response stream's drains) runs as for a fast client.
 */
final class DiscardingChatObserver extends ServerCallStreamObserver<ChatResponse> {
    @Override
    public boolean isCancelled() {
        return false;
    }

    @Override
    public void setOnCancelHandler(Runnable onCancelHandler) {
    }

    @Override
    public void setCompression(String compression) {
    }

    @Override
    public boolean isReady() {
        return true;
    }

    @Override
    public void setOnReadyHandler(Runnable onReadyHandler) {
    }

    @Override
    public void disableAutoInboundFlowControl() {
    }

    @Override
    public void request(int count) {
    }

    @Override
    public void setMessageCompression(boolean enable) {
    }

    @Override
    public void onNext(ChatResponse value) {
    }

    @Override
    public void onError(Throwable t) {
    }

    @Override
    public void onCompleted() {
    }
}
