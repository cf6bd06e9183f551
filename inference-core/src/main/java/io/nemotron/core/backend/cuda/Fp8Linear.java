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
 * <p>Both scratch buffers are allocated once, at load, for the largest step: the weight scratch holds the model's
 * largest FP8 linear as BF16, the input scratch {@code maxRows} rows of its widest FP8 input (the sizes
 * {@link MemoryPlanner} counts as {@code fp8Bytes}). So nothing allocates while a decode graph is captured, and the
 * graph replays the three launches of each FP8 linear as they are. One backend runs one op at a time on its stream, so
 * one scratch of each serves every layer.
 */
final class Fp8Linear implements AutoCloseable {
    private final Fp8Kernels kernels;
    private final Cublas blas;
    private final DeviceBuffer weightScratch;   // [largest FP8 linear] bf16
    private final DeviceBuffer inputScratch;    // [maxRows][widest FP8 in_features] bf16
    private final int maxRows;

    /** Scratch sizes for a model's FP8 linears, in elements; zero when it has none. */
    record Scratch(long weightElements, long inputWidth) {
        static Scratch of(ModelWeights model) {
            long weight = 0;
            long width = 0;
            for (Tensor t : model.tensors()) {
                if (t.dtype() == DType.F8_E4M3) {
                    weight = Math.max(weight, t.numel());
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
                      int maxRows) {
        this.kernels = kernels;
        this.blas = blas;
        this.weightScratch = weightScratch;
        this.inputScratch = inputScratch;
        this.maxRows = maxRows;
    }

    /** The path for {@code model}'s FP8 linears, its scratch allocated on {@code device}; null when it has none. */
    static Fp8Linear forModel(CudaDevice device, Fp8Kernels kernels, Cublas blas, ModelWeights model, int maxRows) {
        Scratch s = Scratch.of(model);
        if (s.weightElements() == 0) {
            return null;
        }
        DeviceBuffer w = device.allocate(2 * s.weightElements(), "FP8 weight scratch (" + s.weightElements() + " bf16)");
        try {
            DeviceBuffer in = device.allocate(2L * maxRows * s.inputWidth(), "FP8 input scratch (" + maxRows + " x "
                    + s.inputWidth() + " bf16)");
            return new Fp8Linear(kernels, blas, w, in, maxRows);
        } catch (RuntimeException | Error e) {
            w.close();
            throw e;
        }
    }

    /**
     * {@code out[t][r] = (x8[t] · W8[r]) · (input_scale · weight_scale)} for {@code rows} rows of {@code in} (dense,
     * at the weight's in_features), written at {@code outStride} in {@code outType} (BF16 or FP32).
     */
    void linear(Tensor weight, long codes, long in, long out, int outStride, int outType, int rows, String what) {
        if (rows == 0) {
            return;   // as a GEMM of no tokens; a kernel grid of zero blocks would be a launch error
        }
        LinearScales scales = weight.requireScales();
        long n = weight.numel();
        long inputs = (long) rows * weight.cols();
        if (rows > maxRows || 2 * n > weightScratch.bytes() || 2 * inputs > inputScratch.bytes()) {
            throw new IllegalArgumentException(what + " " + weight.shapeString() + " by " + rows
                    + " rows does not fit the FP8 scratch sized at load");
        }
        kernels.fp8QuantizeBf16(inputScratch.address(), in, inputs, scales.input());
        kernels.fp8DequantizeBf16(weightScratch.address(), codes, n);
        blas.scaledLinear(scales.output(), weightScratch.address(), weight.rows(), weight.cols(), inputScratch.address(),
                weight.cols(), out, outStride, outType, rows, what + " (fp8)");
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
