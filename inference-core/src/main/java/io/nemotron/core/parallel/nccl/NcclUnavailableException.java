package io.nemotron.core.parallel.nccl;

/** libnccl.so.2 could not be found or opened; the message lists every place searched (see {@link NcclLibrary}). */
public final class NcclUnavailableException extends RuntimeException {
    public NcclUnavailableException(String message) {
        super(message);
    }
}
