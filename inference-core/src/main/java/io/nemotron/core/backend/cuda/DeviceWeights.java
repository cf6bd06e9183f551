package io.nemotron.core.backend.cuda;

import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.weights.ByteProgress;
import io.nemotron.core.weights.CheckpointLayout;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.DTypeCodec;
import io.nemotron.core.weights.Tensor;
import io.nemotron.core.weights.TensorSpec;
import io.nemotron.core.weights.WeightSource;
import io.nemotron.core.weights.WeightsException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;

/**
 * Every weight of a model uploaded once, as BF16 (STYLE point 3: weights stay where they are used). BF16 checkpoints
 * are copied bit for bit; F32 and F16 checkpoints are rounded to BF16 (nearest, ties to even, as PyTorch's
 * {@code .to(torch.bfloat16)}) while uploading, because cuBLAS's BF16 GEMM and the BF16 kernels are the one GPU path.
 * So a GPU run of an F32 checkpoint equals a GPU run of its BF16 rounding, not the CPU backend's FP32 result.
 * ModelOpt FP8 linears (F8_E4M3) are the exception: their codes are copied as they are (1 byte a weight) and keep their
 * {@code LinearScales} on the host tensor, for the dequantizing GEMM path ({@link Fp8Linear}); an FP8
 * tensor without scales, or one that is not a 2-D linear weight, is refused naming it.
 * Tensors are found by identity (the {@link Tensor} records the forward pass passes in); a tied lm_head is the
 * embedding and is uploaded once.
 *
 * <p>{@link #random} is the other way in, for benchmarks of real shapes: the same buffers, filled on the device by the
 * {@code fill_uniform_bf16} kernel, behind host {@link Tensor}s that carry only a name and a shape.
 */
final class DeviceWeights implements AutoCloseable {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int CHUNK = 1 << 23;   // elements per host staging copy (16 MiB of BF16)

    private final Map<Tensor, DeviceBuffer> buffers = new IdentityHashMap<>();
    private long bytes;
    private ModelWeights model;   // the random path's shape-only tensors; null for uploaded weights

    static DeviceWeights upload(CudaDevice device, ModelWeights w) {
        return upload(device, w, ByteProgress.NONE);
    }

    /** As above, telling {@code progress} the device bytes to upload, then each copy's bytes as it is made. */
    static DeviceWeights upload(CudaDevice device, ModelWeights w, ByteProgress progress) {
        DeviceWeights d = new DeviceWeights();
        try {
            Set<Tensor> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
            distinct.addAll(w.tensors());   // a tied lm_head is the embedding: added once
            long total = 0;
            for (Tensor t : distinct) {
                total += deviceBytes(t);
            }
            LongConsumer uploaded = progress.begin(total);
            for (Tensor t : w.tensors()) {
                d.add(device, t, uploaded);
            }
            return d;
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /**
     * Every tensor of {@code config}'s checkpoint layout ({@link CheckpointLayout}, a tied head once) allocated on the
     * device and filled there with seeded uniform BF16 values: norms 1, each linear layer U(-1/sqrt(in), 1/sqrt(in))
     * so activations keep their scale through the blocks (their values do not matter to a timing, but inf/NaN might).
     * Nothing of the weights' size touches the host. {@link #model()} is the {@link ModelWeights} to run them with.
     */
    static DeviceWeights random(CudaDevice device, FillKernels fill, ModelConfig config, long seed) {
        DeviceWeights d = new DeviceWeights();
        try {
            Map<String, Tensor> byName = new LinkedHashMap<>();
            int stream = 0;
            for (TensorSpec spec : CheckpointLayout.of(config).required()) {
                Tensor t = placeholder(spec);
                byName.put(spec.name(), t);
                DeviceBuffer buf = device.allocate(t.numel() * 2, t.name() + " (" + t.shapeString() + " bf16, random)");
                d.buffers.put(t, buf);
                d.bytes += buf.bytes();
                float bound = spec.shape().length == 1 ? 1f : (float) (1 / Math.sqrt(spec.shape()[1]));
                float lo = spec.shape().length == 1 ? 1f : -bound;
                fill.fillUniformBf16(buf.address(), t.numel(), seed, stream++, lo, bound);
            }
            device.synchronize("fill_uniform_bf16 of " + byName.size() + " random tensors");
            d.model = ModelWeights.from(config, new Placeholders(byName));
            return d;
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /** A tensor with a name and a shape and no host bytes: only its identity and shape are used on the GPU path. */
    static Tensor placeholder(TensorSpec spec) {
        return new Tensor(spec.name(), DType.BF16, spec.shape(), MemorySegment.NULL);
    }

    /** The model of {@link #random}'s tensors; empty-handed for uploaded weights, whose caller holds the model. */
    ModelWeights model() {
        if (model == null) {
            throw new IllegalStateException("uploaded weights: the caller's ModelWeights is the model");
        }
        return model;
    }

    /** {@link ModelWeights#from} over shape-only tensors. */
    record Placeholders(Map<String, Tensor> tensors) implements WeightSource {
        @Override
        public Tensor tensor(String name) {
            Tensor t = tensors.get(name);
            if (t == null) {
                throw new WeightsException("no tensor " + name + " in the random weights");
            }
            return t;
        }

        @Override
        public boolean contains(String name) {
            return tensors.containsKey(name);
        }

        @Override
        public Set<String> names() {
            return tensors.keySet();
        }

        @Override
        public void close() {}
    }

    /** Bytes {@code t} takes on the device: 2 a weight (BF16), 1 for FP8 codes. */
    static long deviceBytes(Tensor t) {
        return t.dtype() == DType.F8_E4M3 ? t.numel() : t.numel() * 2;
    }

    private void add(CudaDevice device, Tensor t, LongConsumer uploaded) {
        if (buffers.containsKey(t)) {
            return;
        }
        if (t.dtype() == DType.F8_E4M3) {
            addFp8(device, t, uploaded);
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
            uploaded.accept(count * 2L);
        }
    }

    /** An FP8 linear weight: its E4M3 codes, byte for byte; its scales stay on the host (the GEMM's alpha). */
    private void addFp8(CudaDevice device, Tensor t, LongConsumer uploaded) {
        t.requireScales();
        if (t.shape().length != 2) {
            throw new WeightsException("tensor " + t.name() + " is F8_E4M3 with shape " + t.shapeString()
                    + ": the CUDA backend runs FP8 weights only as 2-D linear layers");
        }
        long n = t.numel();
        DeviceBuffer buf = device.allocate(n, t.name() + " (" + t.shapeString() + " f8_e4m3)");
        buffers.put(t, buf);
        bytes += buf.bytes();
        byte[] staging = new byte[(int) Math.min(n, 2L * CHUNK)];
        for (long from = 0; from < n; from += staging.length) {
            int count = (int) Math.min(staging.length, n - from);
            MemorySegment.copy(t.data(), ValueLayout.JAVA_BYTE, from, staging, 0, count);
            buf.uploadAt(from, staging, count);
            uploaded.accept(count);
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
