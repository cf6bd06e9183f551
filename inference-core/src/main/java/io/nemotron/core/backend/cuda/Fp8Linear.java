package io.nemotron.core.backend.cuda;

import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.LinearScales;
import io.nemotron.core.weights.Tensor;

/**
 * ModelOpt FP8 linear layers on any GPU, the dequantizing path (vLLM's {@code ModelOptFp8LinearMethod} numerics):
 * the input rows become {@code x8 = saturate_e4m3(x / input_scale)} (fp8_quantize_bf16, E4M3 values written as BF16,
 * exactly), the weight's codes become their BF16 values (fp8_dequantize_bf16, exact), and cuBLAS's BF16 GEMM with
 * FP32 compute returns {@code (x8 · W8ᵀ) · (input_scale · weight_scale)}, alpha being {@link LinearScales#output()}.
 * The products of two E4M3 values are exact in FP32, so this is the FP32-accumulated product the spec names, rounded
 * once to the output type.
 *
 * <p>Both scratch buffers are allocated once, at load, for the largest step: the input scratch holds {@code maxRows}
 * rows of the widest FP8 input; the weight scratch one chunk of output rows of the largest FP8 linear as BF16, at most
 * {@link #MAX_WEIGHT_SCRATCH_ELEMENTS} (a weight larger than that is dequantized and multiplied a chunk of output rows
 * at a time: Ultra's widest FFN, 425,984 x 16,384, is 3.5 GB as BF16 per GPU at TP 4, where chunks of 4,096 rows take
 * 128 MiB). {@link MemoryPlanner} counts the same sizes as {@code fp8Bytes}. So nothing allocates while a decode graph is captured, and the
 * graph replays the three launches of each FP8 linear as they are. One backend runs one op at a time on its stream, so
 * one scratch of each serves every layer.
 */
final class Fp8Linear implements AutoCloseable {
    private final Fp8Kernels kernels;
    private final Cublas blas;
    private final DeviceBuffer weightScratch;   // [largest FP8 linear] bf16
    private final DeviceBuffer inputScratch;    // [maxRows][widest FP8 in_features] bf16
    private final int maxRows;
    private final long maxScratchElements;

    /** Weight scratch bound: 2^26 BF16 elements (128 MiB), GEMMs of at least 4,096 x 16,384 for Ultra's widths. */
    static final long MAX_WEIGHT_SCRATCH_ELEMENTS = 1L << 26;

    /** Output rows per chunk of a {@code rows x cols} FP8 weight: all of them, or as many as the scratch bound holds. */
    static long rowsPerChunk(long rows, long cols, long maxScratchElements) {
        return Math.min(rows, Math.max(1, maxScratchElements / cols));
    }

    /** Scratch sizes for a model's FP8 linears, in elements; zero when it has none. */
    record Scratch(long weightElements, long inputWidth) {
        static Scratch of(ModelWeights model, long maxScratchElements) {
            long weight = 0;
            long width = 0;
            for (Tensor t : model.tensors()) {
                if (t.dtype() == DType.F8_E4M3) {
                    weight = Math.max(weight, rowsPerChunk(t.rows(), t.cols(), maxScratchElements) * t.cols());
                    width = Math.max(width, t.cols());
                }
            }
            return new Scratch(weight, width);
        }

        /** Bytes of both scratch buffers for {@code maxRows} rows: BF16 weight and input rows. */
        long bytes(int maxRows) {
            return 2 * weightElements + 2L * maxRows * inputWidth;
        }
    }

    private Fp8Linear(Fp8Kernels kernels, Cublas blas, DeviceBuffer weightScratch, DeviceBuffer inputScratch,
                      int maxRows, long maxScratchElements) {
        this.maxScratchElements = maxScratchElements;
        this.kernels = kernels;
        this.blas = blas;
        this.weightScratch = weightScratch;
        this.inputScratch = inputScratch;
        this.maxRows = maxRows;
    }

    /** The path for {@code model}'s FP8 linears, its scratch allocated on {@code device}; null when it has none. */
    static Fp8Linear forModel(CudaDevice device, Fp8Kernels kernels, Cublas blas, ModelWeights model, int maxRows) {
        return forModel(device, kernels, blas, model, maxRows, MAX_WEIGHT_SCRATCH_ELEMENTS);
    }

    /** As above with another weight scratch bound (tests use a small one to take the chunked path on tiny weights). */
    static Fp8Linear forModel(CudaDevice device, Fp8Kernels kernels, Cublas blas, ModelWeights model, int maxRows,
                              long maxScratchElements) {
        Scratch s = Scratch.of(model, maxScratchElements);
        if (s.weightElements() == 0) {
            return null;
        }
        DeviceBuffer w = device.allocate(2 * s.weightElements(), "FP8 weight scratch (" + s.weightElements() + " bf16)");
        try {
            DeviceBuffer in = device.allocate(2L * maxRows * s.inputWidth(), "FP8 input scratch (" + maxRows + " x "
                    + s.inputWidth() + " bf16)");
            return new Fp8Linear(kernels, blas, w, in, maxRows, maxScratchElements);
        } catch (RuntimeException | Error e) {
            w.close();
            throw e;
        }
    }

    /**
     * {@code out[t][r] = (x8[t] · W8[r]) · (input_scale · weight_scale)} for {@code rows} rows of {@code in} (dense,
     * at the weight's in_features), written at {@code outStride} in {@code outType} (BF16 or FP32): the input quantized
     * once, then per chunk of output rows the chunk's codes dequantized and one GEMM into its columns of {@code out}.
     */
    void linear(Tensor weight, long codes, long in, long out, int outStride, int outType, int rows, String what) {
        if (rows == 0) {
            return;   // as a GEMM of no tokens; a kernel grid of zero blocks would be a launch error
        }
        LinearScales scales = weight.requireScales();
        int cols = weight.cols();
        int chunk = (int) rowsPerChunk(weight.rows(), cols, maxScratchElements);
        long inputs = (long) rows * cols;
        if (rows > maxRows || 2L * chunk * cols > weightScratch.bytes() || 2 * inputs > inputScratch.bytes()) {
            throw new IllegalArgumentException(what + " " + weight.shapeString() + " by " + rows
                    + " rows does not fit the FP8 scratch sized at load");
        }
        long outBytes = outType == Cublas.CUDA_R_32F ? Float.BYTES : 2;
        kernels.fp8QuantizeBf16(inputScratch.address(), in, inputs, scales.input());
        for (int r0 = 0; r0 < weight.rows(); r0 += chunk) {
            int n = Math.min(chunk, weight.rows() - r0);
            kernels.fp8DequantizeBf16(weightScratch.address(), codes + (long) r0 * cols, (long) n * cols);
            blas.scaledLinear(scales.output(), weightScratch.address(), n, cols, inputScratch.address(), cols,
                    out + r0 * outBytes, outStride, outType, rows,
                    what + (n == weight.rows() ? " (fp8)" : " (fp8, rows " + r0 + ".." + (r0 + n) + ")"));
        }
    }

    @Override
    public void close() {
        try {
            inputScratch.close();
        } finally {
            weightScratch.close();
        }
    }
}
