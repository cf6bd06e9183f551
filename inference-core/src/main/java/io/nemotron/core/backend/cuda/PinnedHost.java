package io.nemotron.core.backend.cuda;

import static io.nemotron.core.backend.cuda.CudaException.check;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;

/**
 * Page-locked host memory (cuMemAllocHost): the staging area of the step's asynchronous copies. A copy from pageable
 * memory (a Java array) is synchronous; from pinned memory it is a DMA ordered on the stream, so the step inputs go
 * down and the logits come back in stream order without blocking the legacy stream. The caller keeps the rule that
 * pinned bytes are not rewritten while a copy from them may still be pending.
 */
final class PinnedHost implements AutoCloseable {
    private final Pointer pointer = new Pointer();
    private final long bytes;
    private final String what;
    private final IntBuffer ints;
    private final FloatBuffer floats;
    private CUevent lastCopy;    // recorded on the stream after the latest copy from or to this memory
    private boolean freed;

    PinnedHost(long bytes, String what) {
        if (bytes <= 0 || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("pinned host buffer for " + what + " must have 1 to 2^31-1 bytes, got "
                    + bytes);
        }
        check(JCudaDriver.cuMemAllocHost(pointer, bytes), "cuMemAllocHost(" + bytes + " bytes for " + what + ")");
        this.bytes = bytes;
        this.what = what;
        var buffer = pointer.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder());
        this.ints = buffer.asIntBuffer();
        this.floats = buffer.asFloatBuffer();
        for (int i = 0; i < bytes / 4; i++) {
            ints.put(i, 0);   // page-locked memory starts undefined; stale-but-defined bytes are easier to reason about
        }
    }

    long bytes() {
        return bytes;
    }

    /** The memory as ints (absolute indexing: {@code put(index, src, offset, length)}). */
    IntBuffer ints() {
        live();
        return ints;
    }

    FloatBuffer floats() {
        live();
        return floats;
    }

    /** The host address plus {@code byteOffset}, as a copy's source or destination. */
    Pointer at(long byteOffset) {
        live();
        if (byteOffset < 0 || byteOffset > bytes) {
            throw new IllegalArgumentException("offset " + byteOffset + " outside pinned " + what + " of " + bytes + " bytes");
        }
        return pointer.withByteOffset(byteOffset);
    }

    /** Marks the copies enqueued so far on {@code stream} as the ones {@link #awaitCopies} waits for. */
    void copiesEnqueued(CudaStream stream) {
        live();
        if (lastCopy == null) {
            CUevent e = new CUevent();
            check(JCudaDriver.cuEventCreate(e, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate(" + what + ")");
            lastCopy = e;
        }
        check(JCudaDriver.cuEventRecord(lastCopy, stream.handle()), "cuEventRecord(after the copies of " + what + ")");
    }

    /** Waits until the copies marked by {@link #copiesEnqueued} are done, so the memory may be rewritten or read. */
    void awaitCopies() {
        live();
        if (lastCopy != null) {
            check(JCudaDriver.cuEventSynchronize(lastCopy), "cuEventSynchronize(the copies of " + what + ")");
        }
    }

    private void live() {
        if (freed) {
            throw new IllegalStateException("pinned host buffer for " + what + " was freed");
        }
    }

    @Override
    public void close() {
        if (!freed) {
            freed = true;
            if (lastCopy != null) {
                JCudaDriver.cuEventDestroy(lastCopy);   // freeing the memory matters more than a failed destroy
            }
            check(JCudaDriver.cuMemFreeHost(pointer), "cuMemFreeHost(" + bytes + " bytes of " + what + ")");
        }
    }
}
