package io.nemotron.core.backend.cuda;

import io.nemotron.core.model.BlockWeights;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.DTypeCodec;
import io.nemotron.core.weights.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Every weight of a model uploaded once, as BF16 (STYLE point 3: weights stay where they are used). BF16 checkpoints
 * are copied bit for bit; F32 and F16 checkpoints are rounded to BF16 (nearest, ties to even, as PyTorch's
 * {@code .to(torch.bfloat16)}) while uploading, because cuBLAS's BF16 GEMM and the BF16 kernels are the one GPU path.
 * So a GPU run of an F32 checkpoint equals a GPU run of its BF16 rounding, not the CPU backend's FP32 result.
 * Tensors are found by identity (the {@link Tensor} records the forward pass passes in); a tied lm_head is the
 * embedding and is uploaded once.
 */
final class DeviceWeights implements AutoCloseable {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int CHUNK = 1 << 23;   // elements per host staging copy (16 MiB of BF16)

    private final Map<Tensor, DeviceBuffer> buffers = new IdentityHashMap<>();
    private long bytes;

    static DeviceWeights upload(CudaDevice device, ModelWeights w) {
        DeviceWeights d = new DeviceWeights();
        try {
            d.add(device, w.embedTokens());
            for (BlockWeights b : w.blocks()) {
                for (Tensor t : new Tensor[] {b.inputLayernorm(), b.qProj(), b.kProj(), b.vProj(), b.oProj(),
                        b.linearAttn(), b.postAttentionLayernorm(), b.gateProj(), b.upProj(), b.downProj(), b.linearMlp()}) {
                    if (t != null) {
                        d.add(device, t);
                    }
                }
            }
            d.add(device, w.norm());
            d.add(device, w.lmHead());
            return d;
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    private void add(CudaDevice device, Tensor t) {
        if (buffers.containsKey(t)) {
            return;
        }
        long n = t.numel();
        DeviceBuffer buf = device.allocate(n * 2, t.name() + " (" + t.shapeString() + " bf16)");
        buffers.put(t, buf);
        bytes += buf.bytes();
        short[] staging = new short[(int) Math.min(n, CHUNK)];
        for (long from = 0; from < n; from += staging.length) {
            int count = (int) Math.min(staging.length, n - from);
            toBf16(t, from, staging, count);
            buf.uploadAt(from * 2, staging, count);
        }
    }

    /** Elements {@code [from, from + count)} of {@code t} as BF16 bits into {@code dst[0 .. count)}. */
    static void toBf16(Tensor t, long from, short[] dst, int count) {
        MemorySegment data = t.data();
        if (t.dtype() == DType.BF16) {
            MemorySegment.copy(data, U16, from * 2, dst, 0, count);
            return;
        }
        for (int i = 0; i < count; i++) {
            dst[i] = DTypeCodec.floatToBf16(DTypeCodec.get(t.dtype(), data, from + i));
        }
    }

    /** The device copy of {@code t}; a tensor that was not part of the uploaded model is a programming error. */
    DeviceBuffer of(Tensor t) {
        DeviceBuffer b = buffers.get(t);
        if (b == null) {
            throw new IllegalArgumentException("tensor " + t.name() + " was not uploaded to the GPU with the model");
        }
        return b;
    }

    long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (DeviceBuffer b : buffers.values()) {
            try {
                b.close();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        buffers.clear();
        if (first != null) {
            throw first;
        }
    }
}
