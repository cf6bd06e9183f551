package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.CudaException.check;

import jcuda.driver.CUgraph;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * A stream the backend creates for its rank: every kernel, cuBLAS GEMM, NCCL collective and step copy of the rank is
 * ordered on it. Non-blocking ({@code CU_STREAM_NON_BLOCKING}): it does not synchronise with the legacy default stream,
 * so a synchronous copy elsewhere in the context (a weight upload, another rank on the same GPU) neither waits for it
 * nor invalidates a capture on it; the backend synchronises the context once after its synchronous uploads instead.
 * Unlike the legacy stream, it can be captured into a CUDA graph.
 */
final class CudaStream implements AutoCloseable {
    private final AddressedStream stream = new AddressedStream();
    private final String what;
    private boolean destroyed;

    CudaStream(String what) {
        check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate(" + what + ")");
        this.what = what;
    }

    CUstream handle() {
        if (destroyed) {
            throw new IllegalStateException("stream " + what + " was destroyed");
        }
        return stream;
    }

    /** The raw {@code CUstream} (= {@code cudaStream_t}), for cuBLAS and NCCL bound through java.lang.foreign. */
    long address() {
        handle();
        return stream.address();
    }

    /** Waits for the stream's work; a kernel's own failure surfaces here, named after {@code after}. */
    void synchronize(String after) {
        check(JCudaDriver.cuStreamSynchronize(handle()), "cuStreamSynchronize(" + what + ", after " + after + ")");
    }

    /**
     * Starts recording the stream's work into a graph instead of running it. Thread-local mode: the ranks of a
     * tensor-parallel model capture concurrently, each on its own thread, while the others may already copy their
     * logits back; only this thread's unsafe calls (a synchronous copy, an allocation) are refused while it captures.
     */
    void beginCapture() {
        check(JCudaDriver.cuStreamBeginCapture(handle(), CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                "cuStreamBeginCapture(" + what + ")");
    }

    /** Ends the capture; the graph is the caller's to instantiate and destroy. Throws when the capture was invalidated. */
    CUgraph endCapture() {
        CUgraph graph = new CUgraph();
        check(JCudaDriver.cuStreamEndCapture(handle(), graph), "cuStreamEndCapture(" + what + ")");
        return graph;
    }

    @Override
    public void close() {
        if (!destroyed) {
            destroyed = true;
            check(JCudaDriver.cuStreamDestroy(stream), "cuStreamDestroy(" + what + ")");
        }
    }

    /** CUstream keeps the handle in a protected field; a subclass reads it without reflection (as DeviceBuffer does). */
    private static final class AddressedStream extends CUstream {
        long address() {
            return getNativePointer();
        }
    }
}
