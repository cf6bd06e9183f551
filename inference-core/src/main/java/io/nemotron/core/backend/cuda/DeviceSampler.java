package io.nemotron.core.backend.cuda;

import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;

/**
 * The sampling op on FP32 logit rows already on the device: one upload of the rows' settings ({@link SamplingInputs}),
 * the raw rows that asked for logprobs copied back first (vLLM reports logprobs before penalties), the penalties in
 * place (sample_penalties_f32, only when a row has any), the draw (sample_tokens_f32: the host Sampler's filters and
 * the same Philox exponential race) and one copy of the ids back. That copy is synchronous on the legacy default
 * stream, so it waits for the step's work and reports its failures.
 */
final class DeviceSampler implements AutoCloseable {
    private final CudaDevice device;      // not owned
    private final SamplingKernels kernels;
    private final SamplingInputs inputs = new SamplingInputs();
    private DeviceBuffer args;            // SamplingInputs, grown to the largest chunk seen

    DeviceSampler(CudaDevice device, SamplingKernels kernels) {
        this.device = device;
        this.kernels = kernels;
    }

    /**
     * Samples rows {@code [from, from + count)} of {@code sampling} from the rows {@code [0, count)} of {@code logits}
     * ({@code [count][vocab]} FP32, changed in place by the penalties) into {@code out.ids[from ..]} and
     * {@code out.logprobs[from ..]}.
     */
    void sample(DeviceBuffer logits, int vocab, SamplingBatch sampling, int from, int count, SampledTokens out) {
        SamplingInputs in = inputs;
        in.pack(sampling, from, count);
        long bytes = (long) in.length * 4;
        if (args == null || args.bytes() < bytes) {
            if (args != null) {
                args.close();
                args = null;
            }
            args = device.allocate(Math.max(bytes, 16L * 1024), "sampling inputs");
        }
        args.uploadAt(0, in.host, in.length);
        float[] raw = null;
        for (int i = 0; i < count; i++) {
            if (sampling.wantsLogprobs(from + i)) {
                raw = out.hostLogits(count * vocab);
                logits.downloadAt((long) i * vocab * 4, raw, i * vocab, vocab);
            }
        }
        long a = args.address();
        if (in.anyPenalties) {
            kernels.samplePenaltiesF32(logits.address(), vocab, vocab, a + 4L * in.penaltyOffsets, a + 4L * in.penaltyIds,
                    a + 4L * in.penaltyGenerated, a + 4L * in.repetition, a + 4L * in.presence, a + 4L * in.frequency,
                    count);
        }
        kernels.sampleTokensF32(a + 4L * in.outIds, logits.address(), vocab, vocab, a + 4L * in.temperature,
                a + 4L * in.topK, a + 4L * in.topP, a + 4L * in.minP, a + 4L * in.seeds, a + 4L * in.steps, count);
        args.downloadAt(4L * in.outIds, out.ids, from, count);
        for (int i = 0; i < count; i++) {
            int r = from + i;
            int id = out.ids[r];
            if (id < 0 || id >= vocab) {
                throw new IllegalStateException("sample_tokens_f32 returned id " + id + " for row " + r
                        + " outside the vocabulary [0, " + vocab + ")");
            }
            out.logprobs[r] = sampling.wantsLogprobs(r)
                    ? out.sampler().logprobs(raw, i * vocab, vocab, id, sampling.logprobs[r])
                    : null;
        }
    }

    @Override
    public void close() {
        if (args != null) {
            args.close();
            args = null;
        }
    }
}
