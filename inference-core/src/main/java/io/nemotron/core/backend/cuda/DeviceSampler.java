package io.nemotron.core.backend.cuda;

import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;

/**
 * The sampling op on FP32 logit rows already on the device, ordered on the backend's stream: one asynchronous upload
 * of the rows' settings ({@link SamplingInputs}) through pinned memory, the raw rows that asked for logprobs copied
 * back first (vLLM reports logprobs before penalties), the penalties in place (sample_penalties_f32, only when a row
 * has any), the draw (sample_tokens_f32: the host Sampler's filters and the same Philox exponential race), the ids
 * copied back, and one stream synchronisation, which waits for the step's work and reports its failures.
 */
final class DeviceSampler implements AutoCloseable {
    private final CudaDevice device;      // not owned
    private final SamplingKernels kernels;
    private final CudaStream stream;      // not owned; the kernels' module launches on it too
    private final SamplingInputs inputs = new SamplingInputs();
    private DeviceBuffer args;            // SamplingInputs, grown to the largest chunk seen
    private PinnedHost argsHost;          // its host side (the kernel's output ids come back into it too)
    private PinnedHost rawHost;           // raw rows of the logprob requests, grown on demand

    DeviceSampler(CudaDevice device, SamplingKernels kernels, CudaStream stream) {
        this.device = device;
        this.kernels = kernels;
        this.stream = stream;
    }

    /**
     * Samples rows {@code [from, from + count)} of {@code sampling} from the rows {@code [0, count)} of {@code logits}
     * ({@code [count][vocab]} FP32, written on the stream, changed in place by the penalties) into
     * {@code out.ids[from ..]} and {@code out.logprobs[from ..]}.
     */
    void sample(DeviceBuffer logits, int vocab, SamplingBatch sampling, int from, int count, SampledTokens out) {
        SamplingInputs in = inputs;
        in.pack(sampling, from, count);
        long bytes = (long) in.length * 4;
        if (args == null || args.bytes() < bytes) {
            close();
            long size = Math.max(bytes, 16L * 1024);
            args = device.allocate(size, "sampling inputs");
            argsHost = new PinnedHost(size, "sampling inputs");
        }
        argsHost.awaitCopies();   // the previous chunk's copies from and into it are done
        argsHost.ints().put(0, in.host, 0, in.length);
        args.uploadAsync(0, argsHost, 0, bytes, stream);
        int logprobRows = 0;
        for (int i = 0; i < count; i++) {
            if (sampling.wantsLogprobs(from + i)) {
                logprobRows++;
            }
        }
        if (logprobRows > 0) {
            long rawBytes = (long) count * vocab * 4;
            if (rawHost == null || rawHost.bytes() < rawBytes) {
                if (rawHost != null) {
                    rawHost.close();
                    rawHost = null;
                }
                rawHost = new PinnedHost(rawBytes, "raw logits of logprob rows");
            }
            for (int i = 0; i < count; i++) {
                if (sampling.wantsLogprobs(from + i)) {
                    long at = (long) i * vocab * 4;
                    logits.downloadAsync(at, rawHost, at, (long) vocab * 4, stream);
                }
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
        args.downloadAsync(4L * in.outIds, argsHost, 4L * in.outIds, 4L * count, stream);
        argsHost.copiesEnqueued(stream);
        stream.synchronize("the step's ops and the sampled ids");
        argsHost.ints().get(in.outIds, out.ids, from, count);
        float[] raw = logprobRows > 0 ? out.hostLogits(count * vocab) : null;
        for (int i = 0; i < count; i++) {
            int r = from + i;
            int id = out.ids[r];
            if (id < 0 || id >= vocab) {
                throw new IllegalStateException("sample_tokens_f32 returned id " + id + " for row " + r
                        + " outside the vocabulary [0, " + vocab + ")");
            }
            if (sampling.wantsLogprobs(r)) {
                rawHost.floats().get(i * vocab, raw, i * vocab, vocab);
                out.logprobs[r] = out.sampler().logprobs(raw, i * vocab, vocab, id, sampling.logprobs[r]);
            } else {
                out.logprobs[r] = null;
            }
        }
    }

    @Override
    public void close() {
        try {
            if (args != null) {
                args.close();
            }
        } finally {
            args = null;
            try {
                if (argsHost != null) {
                    argsHost.close();
                }
            } finally {
                argsHost = null;
                if (rawHost != null) {
                    rawHost.close();
                    rawHost = null;
                }
            }
        }
    }
}
