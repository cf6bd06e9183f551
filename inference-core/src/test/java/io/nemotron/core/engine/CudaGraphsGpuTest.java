package io.nemotron.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.cuda.CudaBackend;
import io.nemotron.core.backend.cuda.CudaDevice;
import io.nemotron.core.backend.cuda.CudaException;
import io.nemotron.core.backend.cuda.CudaGraphs;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.model.ForwardPass;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.model.SingleSequence;
import io.nemotron.core.model.Transformer;
import io.nemotron.core.parallel.TensorParallelTransformer;
import io.nemotron.core.parallel.nccl.NcclException;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.testing.EmulatorFaults;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.weights.SafetensorsReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * CUDA graphs of decode steps (issue 16: "Decode steps are captured as CUDA graphs, one per batch-size bucket, and
 * replayed. There is a switch to turn this off. Outputs are the same with graphs on and off."), on nemotron-nas-tiny
 * (BF16) against its float64 reference's greedy ids:
 * <ul>
 *   <li>graphs on and off give the reference ids at TP 1 and TP 2 (NCCL all-reduces inside the graphs, every rank
 *       replaying its own), and with graphs on every decode step was a replay on every rank (the backends' counters;
 *       so a capture that silently fell back to eager fails the test);</li>
 *   <li>batches of 3 and 5 sequences run padded to the buckets 4 and 8 and give the reference ids;</li>
 *   <li>faults of the graph path (the emulator's switches): a failed graph launch, a kernel launch failing during a
 *       capture, and an NCCL error on one rank during a TP 2 capture fail their step cleanly, without a hang, and the
 *       next steps capture afresh and give the reference ids.</li>
 * </ul>
 */
@Tag("gpu")
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class CudaGraphsGpuTest {
    private static final int MAX_ROWS = 16;
    private static final int PREFILL_CHUNK = 5;

    @AfterEach
    void resetFaults() {
        EmulatorFaults.reset();
    }

    private static JsonNode cases() {
        return Reference.json("nemotron-nas-tiny/nas-tiny-a-bf16/expected.json").get("cases");
    }

    @ParameterizedTest(name = "TP {0}")
    @ValueSource(ints = {1, 2})
    void greedyIdsAreTheReferenceWithGraphsOnAndOffAndEveryDecodeStepIsAReplay(int tp) {
        CudaAvailability.assumeDevice();
        Path dir = Reference.tinyBf16();
        JsonNode cases = cases();
        int[][] off = new int[cases.size()][];
        for (CudaGraphs graphs : new CudaGraphs[] {CudaGraphs.OFF, CudaGraphs.on()}) {
            try (LoadedModel m = LoadedModel.openCuda(dir, 0, MAX_ROWS, tp, graphs)) {
                long decodeSteps = 0;
                for (int c = 0; c < cases.size(); c++) {
                    JsonNode k = cases.get(c);
                    int[] expected = Reference.ints(k.get("greedy_output_ids"));
                    int[] ids = greedy(m.forwardPass(), Reference.ints(k.get("prompt_ids")), expected.length);
                    String what = "TP " + tp + ", graphs " + (graphs.enabled() ? "on" : "off") + ", case " + c;
                    assertArrayEquals(expected, ids, what);
                    if (graphs.enabled()) {
                        assertArrayEquals(off[c], ids, what + " against graphs off");
                    } else {
                        off[c] = ids;
                    }
                    decodeSteps += expected.length - 1;   // the prompt's chunks have 5 or 2 rows of one sequence
                }
                for (int r = 0; r < tp; r++) {
                    CudaBackend b = backend(m, r);
                    String what = "TP " + tp + " rank " + r + " graphs " + (graphs.enabled() ? "on" : "off");
                    // each case runs on a pool of its own (SingleSequence), so bucket 1 is captured once per case
                    assertEquals(graphs.enabled() ? cases.size() : 0, b.graphCaptures(), what + ": captures");
                    assertEquals(graphs.enabled() ? decodeSteps : 0, b.graphReplays(), what + ": replays");
                }
            }
        }
    }

    /**
     * Three, then five concurrent requests (the two reference cases, repeated) in an engine whose budget prefills them
     * together: their decode steps hold 3 and 5 rows, padded to the buckets 4 and 8 (fewer rows where a request
     * arrived a step late and finishes a step late). A step observer counts the decode-only steps (one row per
     * sequence) and the buckets they need by the bucket rule (powers of two): every one was a replay.
     */
    @Test
    void batchesOfThreeAndFiveRunPaddedToFourAndEightAndGiveTheReferenceIds() throws Exception {
        CudaAvailability.assumeDevice();
        Path dir = Reference.tinyBf16();
        ModelConfig config = ModelConfigLoader.load(dir);
        try (CudaDevice device = CudaDevice.open(0); SafetensorsReader reader = SafetensorsReader.open(dir)) {
            ModelWeights w = ModelWeights.from(config, reader);
            try (CudaBackend backend = new CudaBackend(config, w, device, 64, CudaGraphs.on());
                 Engine engine = new Engine(new Transformer(config, w, backend), null,
                         new EngineConfig(64, 8, 64, 16, 64, 0, false, 1))) {
                DecodeSteps decode = new DecodeSteps(backend::graphCaptures);
                engine.addStepObserver(decode);
                runReferenceCases(engine, 3, "3 requests");
                assertTrue(decode.buckets.contains(4), "3 decode rows in a step: bucket 4, got " + decode.buckets);
                runReferenceCases(engine, 5, "5 requests");
                assertTrue(decode.buckets.contains(8), "5 decode rows in a step: bucket 8, got " + decode.buckets);
                assertEquals(decode.steps, backend.graphReplays(), "every decode-only step replays a graph");
                assertArrayEquals(decode.buckets.stream().mapToInt(Integer::intValue).toArray(),
                        backend.capturedGraphBuckets(), "one graph per bucket used");
                assertEquals(decode.buckets.size(), backend.graphCaptures(), "each bucket captured once");
                EngineTest.assertAllFree(engine);
            }
        }
    }

    /**
     * Decode-only steps (as many rows as sequences) and their buckets (1, 2, 4, 8 for up to 8 rows); and failed steps,
     * after which the buckets start afresh (the backend drops its graphs then). Written by the engine's step thread,
     * read once its requests have finished.
     */
    private static final class DecodeSteps implements StepObserver {
        final java.util.SortedSet<Integer> buckets = new java.util.concurrent.ConcurrentSkipListSet<>();
        private final java.util.function.LongSupplier captures;
        volatile long steps;
        volatile int failedSteps;
        volatile int failedSequences;
        volatile long capturesAtFailure;

        DecodeSteps(java.util.function.LongSupplier captures) {
            this.captures = captures;
        }

        @Override
        public void onStep(int sequences, int tokens, long nanos) {
            if (sequences == tokens) {
                steps++;
                buckets.add(sequences <= 1 ? 1 : sequences <= 2 ? 2 : sequences <= 4 ? 4 : 8);
            }
        }

        @Override
        public void onStepFailed(Throwable error, int sequences, long nanos) {
            failedSteps++;
            failedSequences += sequences;
            buckets.clear();
            capturesAtFailure = captures.getAsLong();
        }
    }

    /** A graph launch fails (the emulator's "graph" switch): the step's requests fail, the engine serves on. */
    @Test
    void aFailedGraphLaunchFailsItsStepAndTheNextStepsCaptureAfresh() throws Exception {
        CudaAvailability.assumeDevice();
        Path dir = Reference.tinyBf16();
        ModelConfig config = ModelConfigLoader.load(dir);
        try (CudaDevice device = CudaDevice.open(0); SafetensorsReader reader = SafetensorsReader.open(dir)) {
            EmulatorFaults.assumeEmulator();
            ModelWeights w = ModelWeights.from(config, reader);
            try (CudaBackend backend = new CudaBackend(config, w, device, 64, CudaGraphs.on());
                 Engine engine = new Engine(new Transformer(config, w, backend), null,
                         new EngineConfig(64, 8, 64, 16, 64, 0, false, 1))) {
                runReferenceCases(engine, 2, "warm-up");
                long before = EmulatorFaults.usedBytes(0);
                long captures = backend.graphCaptures();

                EmulatorFaults.inject(EmulatorFaults.GRAPH, 0, 1);   // the next decode step's launch
                DecodeSteps after = new DecodeSteps(backend::graphCaptures);
                engine.addStepObserver(after);
                List<int[]> expected = new ArrayList<>();
                List<CollectingListener> listeners = submit(engine, 2, "faulted", expected);
                int failed = 0;
                for (int i = 0; i < listeners.size(); i++) {
                    CollectingListener l = listeners.get(i);
                    try {
                        assertEquals(FinishReason.LENGTH, l.finish.get(60, TimeUnit.SECONDS));
                        assertArrayEquals(expected.get(i), l.ids(), "a request outside the faulted step");
                    } catch (ExecutionException e) {
                        failed++;
                        EngineStepException step = assertInstanceOf(EngineStepException.class, e.getCause());
                        CudaException cuda = assertInstanceOf(CudaException.class, step.getCause());
                        assertTrue(cuda.operation().startsWith("cuGraphLaunch("), cuda.getMessage());
                        assertEquals("CUDA_ERROR_LAUNCH_FAILED", cuda.errorName());
                    }
                }
                assertEquals(1, after.failedSteps, "one step failed");
                assertTrue(failed >= 1 && failed == after.failedSequences, failed + " requests failed, the faulted step"
                        + " held " + after.failedSequences);
                EngineTest.assertAllFree(engine);
                assertEquals(before, EmulatorFaults.usedBytes(0), "device memory after the failed graph launch");

                // the graphs were dropped at the fault: those there now were captured afterwards, once per bucket
                runReferenceCases(engine, 2, "after the graph fault");
                assertArrayEquals(after.buckets.stream().mapToInt(Integer::intValue).toArray(),
                        backend.capturedGraphBuckets(), "captured afresh: the buckets used since the fault");
                assertTrue(backend.graphCaptures() > captures, "captured again");
                assertEquals(after.capturesAtFailure + after.buckets.size(), backend.graphCaptures(), "once per bucket");
                assertEquals(before, EmulatorFaults.usedBytes(0), "device memory after serving on");
            }
        }
    }

    /** The fourth kernel launch of a decode step's capture fails: the capture ends, the stream stays usable. */
    @Test
    void aKernelLaunchFailingDuringCaptureFailsTheStepAndTheStreamStaysUsable() {
        CudaAvailability.assumeDevice();
        Path dir = Reference.tinyBf16();
        JsonNode k = cases().get(0);
        int[] prompt = Reference.ints(k.get("prompt_ids"));
        int[] expected = Reference.ints(k.get("greedy_output_ids"));
        try (LoadedModel m = LoadedModel.openCuda(dir, 0, MAX_ROWS, 1, CudaGraphs.on())) {
            EmulatorFaults.assumeEmulator();
            CudaBackend backend = backend(m, 0);
            SingleSequence seq = new SingleSequence(m.forwardPass(), 64);
            float[] logits = new float[m.config().vocabSize()];
            seq.forward(prompt, prompt.length, logits);   // a prefill step: eager
            EmulatorFaults.inject(EmulatorFaults.LAUNCH, 3, 1);
            CudaException e = assertThrows(CudaException.class, () -> seq.forward(new int[] {expected[0]}, 1, logits));
            assertTrue(e.operation().startsWith("cuLaunchKernel("), e.getMessage());
            assertEquals(0, backend.graphCaptures(), "the failed capture is not kept");
            assertArrayEquals(expected, greedy(m.forwardPass(), prompt, expected.length), "after the failed capture");
            assertEquals(1, backend.graphCaptures());
        }
    }

    /**
     * At TP 2, rank 1's first all-reduce of a decode step's capture fails (the emulator's NCCL switch aborts its
     * communicator): the step fails on both ranks without a hang, and the next steps run on a new NCCL group, whose
     * generation makes both ranks capture again rather than replay graphs that hold the old communicator.
     */
    @Test
    void anNcclErrorOnOneRankDuringCaptureFailsTheStepOnBothRanksAndTheNextStepsCaptureAgain() {
        CudaAvailability.assumeDevice();
        Path dir = Reference.tinyBf16();
        JsonNode k = cases().get(0);
        int[] prompt = Reference.ints(k.get("prompt_ids"));
        int[] expected = Reference.ints(k.get("greedy_output_ids"));
        try (LoadedModel m = LoadedModel.openCuda(dir, 0, MAX_ROWS, 2, CudaGraphs.on())) {
            EmulatorFaults.assumeEmulator();
            // a first sequence captures bucket 1 on both ranks under the first NCCL group
            assertArrayEquals(expected, greedy(m.forwardPass(), prompt, expected.length), "before the fault");
            SingleSequence seq = new SingleSequence(m.forwardPass(), 64);
            float[] logits = new float[m.config().vocabSize()];
            seq.forward(prompt, prompt.length, logits);
            EmulatorFaults.onRank(1);
            EmulatorFaults.inject(EmulatorFaults.NCCL, 0, 1);
            long start = System.nanoTime();
            NcclException e = assertThrows(NcclException.class, () -> seq.forward(new int[] {expected[0]}, 1, logits));
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(e.getMessage().contains("rank 1 of 2"), e.getMessage());
            assertTrue(seconds < 10, "the step failed after " + seconds + " s");
            EmulatorFaults.reset();
            long[] captures = {backend(m, 0).graphCaptures(), backend(m, 1).graphCaptures()};
            assertArrayEquals(expected, greedy(m.forwardPass(), prompt, expected.length), "after the fault");
            for (int r = 0; r < 2; r++) {
                assertEquals(captures[r] + 1, backend(m, r).graphCaptures(), "rank " + r + " captured bucket 1 again");
            }
        }
    }

    private static CudaBackend backend(LoadedModel m, int rank) {
        if (m.forwardPass() instanceof TensorParallelTransformer tp) {
            return (CudaBackend) tp.rank(rank).backend();
        }
        return (CudaBackend) m.backend();
    }

    /** Greedy ids of one sequence: the prompt in chunks of {@link #PREFILL_CHUNK}, then one token per step. */
    private static int[] greedy(ForwardPass model, int[] prompt, int newTokens) {
        SingleSequence seq = new SingleSequence(model, prompt.length + newTokens);
        float[] logits = new float[model.config().vocabSize()];
        for (int done = 0; done < prompt.length; done += PREFILL_CHUNK) {
            int n = Math.min(PREFILL_CHUNK, prompt.length - done);
            seq.forward(Arrays.copyOfRange(prompt, done, done + n), n, logits);
        }
        int[] ids = new int[newTokens];
        for (int i = 0; i < newTokens; i++) {
            ids[i] = argmax(logits);
            if (i + 1 < newTokens) {
                seq.forward(new int[] {ids[i]}, 1, logits);
            }
        }
        return ids;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** {@code n} requests (the reference cases in turn) at once; each gives its case's reference ids. */
    private static void runReferenceCases(Engine engine, int n, String what) throws Exception {
        List<int[]> expected = new ArrayList<>();
        List<CollectingListener> listeners = submit(engine, n, what, expected);
        for (int i = 0; i < n; i++) {
            assertEquals(FinishReason.LENGTH, listeners.get(i).await(), what + " request " + i);
            assertArrayEquals(expected.get(i), listeners.get(i).ids(), what + " request " + i);
        }
    }

    private static List<CollectingListener> submit(Engine engine, int n, String what, List<int[]> expected) {
        JsonNode cases = cases();
        List<CollectingListener> listeners = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            JsonNode c = cases.get(i % cases.size());
            int[] ids = Reference.ints(c.get("greedy_output_ids"));
            CollectingListener l = new CollectingListener();
            engine.submit(EngineRequest.of(what + " " + i, Reference.ints(c.get("prompt_ids")),
                    SamplingParams.builder().temperature(0).maxTokens(ids.length).ignoreEos(true).build()), l);
            listeners.add(l);
            expected.add(ids);
        }
        return listeners;
    }
}
