package io.nemotron.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.cuda.CudaBackend;
import io.nemotron.core.backend.cuda.CudaDevice;
import io.nemotron.core.backend.cuda.CudaException;
import io.nemotron.core.backend.cuda.CudaGraphs;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.model.ModelWeights;
import io.nemotron.core.model.Transformer;
import io.nemotron.core.parallel.nccl.NcclException;
import io.nemotron.core.parallel.nccl.NcclResult;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.testing.EmulatorFaults;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.weights.SafetensorsReader;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * Device faults at step n of a running engine over the CUDA forward pass (issue 16, "Faults"), through the host
 * emulator's fault switches ({@link EmulatorFaults}), on nemotron-nas-tiny (BF16) against its float64 reference ids:
 * <ul>
 *   <li>a failed device allocation (TP 1): the only cuMemAlloc on the step path after a warm-up is the split-KV partials
 *       buffer ({@code CudaBackend.partials}), first needed by a decode-only step whose longest context exceeds one
 *       split-KV partition (512 tokens); and the KV pool's allocation when an engine is made;</li>
 *   <li>a failed kernel launch (TP 1, and on rank 1 only at TP 2);</li>
 *   <li>an NCCL error on rank 1 at TP 2 (the communicator is aborted; rank 0 must not hang in its collective).</li>
 * </ul>
 * In each case: the requests of the faulted step end with an {@link EngineStepException} carrying the device error,
 * within bounded waits; the engine keeps serving (the reference cases again give the reference greedy ids); every KV
 * block is free; and the emulator's allocated bytes per device are back to their value before the faulted requests.
 * Buffers the backend grows on demand and keeps (step inputs, split-KV partials) exist before the baseline is taken,
 * because a warm-up run of the same shapes made them, or are accounted for exactly.
 *
 * <p>These faults hit the eager path, so the backends run without CUDA graphs ({@link CudaGraphs#OFF}): a replayed
 * decode graph makes no launch, allocation or NCCL call of its own. CudaGraphsGpuTest faults the graph path.
 *
 * <p>The fault switches are process-global: they are reset after each test. Skipped without the emulator.
 */
@Tag("gpu")
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class CudaEngineFaultsGpuTest {
    private static final int MAX_ROWS = 64;
    /** A request's events within this; a hang fails the test instead of the build's timeout. */
    private static final long WAIT_SECONDS = 60;
    /** Budget 64 tokens per step, 8 sequences, 256 blocks of 16 tokens (4096 tokens). */
    private static final EngineConfig CONFIG = new EngineConfig(MAX_ROWS, 8, 64, 16, 256, 0, true, 1);

    @AfterEach
    void resetFaults() {
        EmulatorFaults.reset();
    }

    // ---- a failed device allocation ----------------------------------------------------------------------------

    /**
     * A request with a 1030-token prompt beside a reference case: their first decode-only step (step 18, see
     * {@link #submitLongPair}) has a context above 1024 tokens and 2 rows, so it runs split-KV attention and allocates
     * the partials buffer, the one cuMemAlloc on the step path once the step-input buffer exists (allocated at the first
     * step of the warm-up, 64 KiB at least; these steps need far less). That allocation fails.
     */
    @Test
    void aFailedDeviceAllocationFailsItsStepAndLeaksNothing() throws Exception {
        CudaAvailability.assumeDevice();
        Path dir = Reference.tinyBf16();
        ModelConfig config = ModelConfigLoader.load(dir);
        try (CudaDevice device = CudaDevice.open(0); SafetensorsReader reader = SafetensorsReader.open(dir)) {
            EmulatorFaults.assumeEmulator();
            ModelWeights w = ModelWeights.from(config, reader);
            try (CudaBackend backend = new CudaBackend(config, w, device, MAX_ROWS, CudaGraphs.OFF);
                 Engine engine = new Engine(new Transformer(config, w, backend), null, CONFIG)) {
                StepFaults faults = new StepFaults();
                engine.addStepObserver(faults);
                assertReferenceIds(engine, "warm-up");
                assertEquals(null, partials(backend), "no split-KV step yet");
                long before = EmulatorFaults.usedBytes(0);

                // armed at step 18 of the pair; asserted below that it is the partials buffer that fails there
                faults.arm(LONG_PAIR_FIRST_SPLIT_STEP, () -> EmulatorFaults.inject(EmulatorFaults.ALLOC, 0, 1));
                Batch pair = submitLongPair(engine, "long");
                StepFaults.Failure f = faults.failure();
                CudaException e = assertInstanceOf(CudaException.class, f.error(), "the step's error");
                assertTrue(e.operation().startsWith("cuMemAlloc(") && e.operation().contains("split-KV partials"),
                        e.getMessage());
                assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
                assertEquals(LONG_PAIR_FIRST_SPLIT_STEP, f.step());
                assertEquals(2, f.sequences(), "the first decode-only step holds both requests");
                for (CollectingListener l : pair.listeners()) {
                    assertFailedBy(l, e);
                    assertEquals(1, l.ids().length, "each had sampled its first token at the end of its prefill");
                }
                EngineTest.assertAllFree(engine);
                assertEquals(before, EmulatorFaults.usedBytes(0),
                        "device memory after the failed allocation (the partials buffer did not exist before)");
                assertEquals(null, partials(backend), "no partials buffer after its allocation failed");
                System.out.printf("alloc fault: step %d (%d sequences) failed after %.1f ms: %s%n", f.step(),
                        f.sequences(), f.nanos() / 1e6, e.getMessage());

                // the engine keeps serving: the reference ids, then the same pair to the end (split-KV decode now)
                assertReferenceIds(engine, "after the allocation fault");
                Batch again = submitLongPair(engine, "long-again");
                assertEquals(FinishReason.LENGTH, await(again.listeners().get(0)));
                assertEquals(LONG_MAX_TOKENS, again.listeners().get(0).ids().length);
                assertEquals(FinishReason.LENGTH, await(again.listeners().get(1)));
                assertArrayEquals(again.expected().get(1), again.listeners().get(1).ids(),
                        "the reference case decoded beside the long request (split-KV attention)");
                EngineTest.assertAllFree(engine);
                long partialsBytes = partials(backend).bytes();
                assertEquals(before + partialsBytes, EmulatorFaults.usedBytes(0),
                        "device memory: the baseline plus the partials buffer the backend keeps for reuse");
            }
        }
    }

    /** The other allocation site of the engine: its KV pool. Making the engine fails, naming cuMemAlloc; nothing stays. */
    @Test
    void aFailedKvPoolAllocationFailsTheEngineCleanly() throws Exception {
        CudaAvailability.assumeDevice();
        Path dir = Reference.tinyBf16();
        ModelConfig config = ModelConfigLoader.load(dir);
        try (CudaDevice device = CudaDevice.open(0); SafetensorsReader reader = SafetensorsReader.open(dir)) {
            EmulatorFaults.assumeEmulator();
            ModelWeights w = ModelWeights.from(config, reader);
            try (CudaBackend backend = new CudaBackend(config, w, device, MAX_ROWS, CudaGraphs.OFF)) {
                Transformer model = new Transformer(config, w, backend);
                long before = EmulatorFaults.usedBytes(0);
                EmulatorFaults.inject(EmulatorFaults.ALLOC, 3, 1);   // K and V of the first layer, K of the next: V fails
                CudaException e = assertThrows(CudaException.class, () -> new Engine(model, null, CONFIG));
                assertTrue(e.operation().startsWith("cuMemAlloc(") && e.operation().contains("cache of layer"),
                        e.getMessage());
                assertEquals(before, EmulatorFaults.usedBytes(0), "the pool's allocations were freed");
                try (Engine engine = new Engine(model, null, CONFIG)) {
                    assertReferenceIds(engine, "an engine made after the failed one");
                    EngineTest.assertAllFree(engine);
                }
            }
        }
    }

    // ---- a failed kernel launch ----------------------------------------------------------------------------------

    @Test
    void aFailedKernelLaunchAtStepThreeFailsItsRequestsAndTheEngineServesOn() throws Exception {
        CudaAvailability.assumeDevice();
        Path dir = Reference.tinyBf16();
        ModelConfig config = ModelConfigLoader.load(dir);
        try (CudaDevice device = CudaDevice.open(0); SafetensorsReader reader = SafetensorsReader.open(dir)) {
            EmulatorFaults.assumeEmulator();
            ModelWeights w = ModelWeights.from(config, reader);
            try (CudaBackend backend = new CudaBackend(config, w, device, MAX_ROWS, CudaGraphs.OFF);
                 Engine engine = new Engine(new Transformer(config, w, backend), null, CONFIG)) {
                StepFaults faults = new StepFaults();
                engine.addStepObserver(faults);
                assertReferenceIds(engine, "warm-up");
                long before = EmulatorFaults.usedBytes(0);

                // step 3 of the next batch: five launches succeed, the sixth fails (mid-forward)
                faults.arm(3, () -> EmulatorFaults.inject(EmulatorFaults.LAUNCH, 5, 1));
                Batch batch = submitReferenceCases(engine, "faulted");
                StepFaults.Failure f = faults.failure();
                CudaException e = assertInstanceOf(CudaException.class, f.error(), "the step's error");
                assertEquals("CUDA_ERROR_LAUNCH_FAILED", e.errorName(), e.getMessage());
                assertEquals(3, f.step());
                assertFaultedStepFailedAndTheRestMatch(batch, f, e);
                EngineTest.assertAllFree(engine);
                assertEquals(before, EmulatorFaults.usedBytes(0), "device memory after the failed launch");
                System.out.printf("launch fault: step %d (%d sequences) failed after %.1f ms: %s%n", f.step(),
                        f.sequences(), f.nanos() / 1e6, e.getMessage());

                assertReferenceIds(engine, "after the launch fault");
                EngineTest.assertAllFree(engine);
                assertEquals(before, EmulatorFaults.usedBytes(0), "device memory after serving on");
            }
        }
    }

    // ---- tensor parallel 2: an NCCL error, or a failed launch, on rank 1 only --------------------------------------

    @ParameterizedTest(name = "{0} on rank 1")
    @ValueSource(strings = {EmulatorFaults.NCCL, EmulatorFaults.LAUNCH})
    void aFaultOnOneRankAtTensorParallel2FailsTheStepOnEveryRankWithoutHanging(String site) throws Exception {
        CudaAvailability.assumeDevice();
        Path dir = Reference.tinyBf16();
        try (LoadedModel model = LoadedModel.openCuda(dir, 0, MAX_ROWS, 2, CudaGraphs.OFF);
             Engine engine = new Engine(model, CONFIG)) {
            EmulatorFaults.assumeEmulator();
            StepFaults faults = new StepFaults();
            engine.addStepObserver(faults);
            assertReferenceIds(engine, "warm-up");
            long before0 = EmulatorFaults.usedBytes(0);
            long before1 = EmulatorFaults.usedBytes(1);

            // step 3: rank 1's fourth collective (or sixth launch) of the step fails; rank 0 is then in, or on its way
            // to, a collective that rank 1 never joins
            faults.arm(3, () -> {
                EmulatorFaults.onRank(1);
                EmulatorFaults.inject(site, site.equals(EmulatorFaults.NCCL) ? 3 : 5, 1);
            });
            Batch batch = submitReferenceCases(engine, "faulted");
            StepFaults.Failure f = faults.failure();
            assertEquals(3, f.step());
            // the step reports the rank that failed, not rank 0's broken-out collective
            if (site.equals(EmulatorFaults.NCCL)) {
                NcclException e = assertInstanceOf(NcclException.class, f.error(), "the step's error");
                assertEquals(NcclResult.SYSTEM_ERROR.code(), e.code(), e.getMessage());
            } else {
                CudaException e = assertInstanceOf(CudaException.class, f.error(), "the step's error");
                assertEquals("CUDA_ERROR_LAUNCH_FAILED", e.errorName(), e.getMessage());
            }
            assertTrue(f.nanos() < TimeUnit.SECONDS.toNanos(10), "the faulted step took " + f.nanos() / 1e6 + " ms");
            assertFaultedStepFailedAndTheRestMatch(batch, f, f.error());
            EngineTest.assertAllFree(engine);
            assertEquals(before0, EmulatorFaults.usedBytes(0), "device 0 memory after the fault");
            assertEquals(before1, EmulatorFaults.usedBytes(1), "device 1 memory after the fault");
            System.out.printf("TP 2, %s fault on rank 1: step %d (%d sequences) failed after %.1f ms: %s%n", site,
                    f.step(), f.sequences(), f.nanos() / 1e6, f.error().getMessage());

            // every rank recovered (a new NCCL group after an abort): the reference ids again, and again
            EmulatorFaults.onRank(-1);
            assertReferenceIds(engine, "after the " + site + " fault");
            assertReferenceIds(engine, "after the " + site + " fault, twice");
            EngineTest.assertAllFree(engine);
            assertEquals(before0, EmulatorFaults.usedBytes(0), "device 0 memory after serving on");
            assertEquals(before1, EmulatorFaults.usedBytes(1), "device 1 memory after serving on");
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private record Batch(List<CollectingListener> listeners, List<int[]> expected) {}

    /** Every reference case three times at once (6 requests, 42 prompt tokens: all fit one step's budget). */
    private static Batch submitReferenceCases(Engine engine, String name) {
        JsonNode cases = Reference.json("nemotron-nas-tiny/nas-tiny-a-bf16/expected.json").get("cases");
        List<CollectingListener> listeners = new ArrayList<>();
        List<int[]> expected = new ArrayList<>();
        for (int copy = 0; copy < 3; copy++) {
            for (JsonNode c : cases) {
                int[] ids = Reference.ints(c.get("greedy_output_ids"));
                CollectingListener l = new CollectingListener();
                engine.submit(EngineRequest.of(name + "-" + listeners.size(), Reference.ints(c.get("prompt_ids")),
                        SamplingParams.builder().temperature(0).maxTokens(ids.length).ignoreEos(true).build()), l);
                listeners.add(l);
                expected.add(ids);
            }
        }
        return new Batch(listeners, expected);
    }

    private static void assertReferenceIds(Engine engine, String when) throws Exception {
        Batch b = submitReferenceCases(engine, when.replace(' ', '-'));
        for (int i = 0; i < b.listeners().size(); i++) {
            assertEquals(FinishReason.LENGTH, await(b.listeners().get(i)), when + ", request " + i);
            assertArrayEquals(b.expected().get(i), b.listeners().get(i).ids(), when + ", request " + i);
        }
    }

    /**
     * The requests of the faulted step (as many as the step's sequences) failed with the step's error; any request
     * not in it (admitted later) finished with the reference ids.
     */
    private static void assertFaultedStepFailedAndTheRestMatch(Batch batch, StepFaults.Failure f, Throwable cause)
            throws Exception {
        int failed = 0;
        for (int i = 0; i < batch.listeners().size(); i++) {
            CollectingListener l = batch.listeners().get(i);
            try {
                FinishReason reason = await(l);
                assertEquals(FinishReason.LENGTH, reason, "request " + i);
                assertArrayEquals(batch.expected().get(i), l.ids(), "request " + i + " (not in the faulted step)");
            } catch (ExecutionException e) {
                assertFailedBy(l, cause);
                failed++;
            }
        }
        assertTrue(f.sequences() >= 1, "the faulted step ran sequences");
        assertEquals(f.sequences(), failed, "the requests of the faulted step failed, and only those");
    }

    /** The request ended with an EngineStepException whose cause is the step's device error. */
    private static void assertFailedBy(CollectingListener l, Throwable cause) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> l.finish.get(WAIT_SECONDS, TimeUnit.SECONDS));
        EngineStepException step = assertInstanceOf(EngineStepException.class, e.getCause());
        assertEquals(cause, step.getCause(), "the step's device error");
    }

    private static FinishReason await(CollectingListener l) throws Exception {
        try {
            return l.finish.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("no answer within " + WAIT_SECONDS + " s: a hang", e);
        }
    }

    private static final int LONG_PROMPT = 1030;
    private static final int LONG_MAX_TOKENS = 8;
    /**
     * With a budget of 64 tokens per step the long prompt (submitted first) takes steps 1-16 alone (1024 tokens); step
     * 17 runs its last 6 tokens and the whole 12-token reference prompt, and both sample; step 18 is decode-only, with
     * 2 rows and a context of 1031 tokens: split-KV attention.
     */
    private static final int LONG_PAIR_FIRST_SPLIT_STEP = 18;

    /** A 1030-token prompt (maxTokens 8), then reference case 0 (its greedy ids expected; none for the first). */
    private static Batch submitLongPair(Engine engine, String name) {
        JsonNode c = Reference.json("nemotron-nas-tiny/nas-tiny-a-bf16/expected.json").get("cases").get(0);
        int[] ids = Reference.ints(c.get("greedy_output_ids"));
        int[][] prompts = {longPrompt(LONG_PROMPT, 7, 3), Reference.ints(c.get("prompt_ids"))};
        int[] maxTokens = {LONG_MAX_TOKENS, ids.length};
        List<CollectingListener> listeners = new ArrayList<>();
        for (int i = 0; i < prompts.length; i++) {
            CollectingListener l = new CollectingListener();
            engine.submit(EngineRequest.of(name + "-" + i, prompts[i],
                    SamplingParams.builder().temperature(0).maxTokens(maxTokens[i]).ignoreEos(true).build()), l);
            listeners.add(l);
        }
        return new Batch(listeners, List.of(new int[0], ids));
    }

    private static int[] longPrompt(int length, int stride, int offset) {
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = 3 + (i * stride + offset) % 250;
        }
        return ids;
    }

    /** The backend's split-KV partials buffer (private, grown on demand and kept), or null before the first split. */
    private static io.nemotron.core.backend.cuda.DeviceBuffer partials(CudaBackend backend) throws Exception {
        Field f = CudaBackend.class.getDeclaredField("partials");
        f.setAccessible(true);
        return (io.nemotron.core.backend.cuda.DeviceBuffer) f.get(backend);
    }

    /**
     * Arms a fault right before step n (counted from {@link #arm}) of the engine thread, and records the first failed
     * step. Observers run on the engine thread after each step, so the fault is armed between step n-1 and step n.
     */
    private static final class StepFaults implements StepObserver {
        record Failure(int step, Throwable error, int sequences, long nanos) {}

        private int succeeded;
        private int armAt;
        private Runnable fault;
        private Failure failure;

        /** Call while the engine is idle. n = 1 arms now. */
        synchronized void arm(int n, Runnable fault) {
            this.succeeded = 0;
            this.failure = null;
            if (n <= 1) {
                fault.run();
                this.fault = null;
            } else {
                this.armAt = n - 1;
                this.fault = fault;
            }
        }

        @Override
        public synchronized void onStep(int sequences, int tokens, long nanos) {
            succeeded++;
            if (fault != null && succeeded == armAt) {
                fault.run();
                fault = null;
            }
        }

        @Override
        public synchronized void onStepFailed(Throwable error, int sequences, long nanos) {
            if (failure == null) {
                failure = new Failure(succeeded + 1, error, sequences, nanos);
                notifyAll();
            }
        }

        /** The first failed step since {@link #arm}, waiting for it a bounded time. */
        synchronized Failure failure() throws InterruptedException {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (failure == null && System.nanoTime() < until) {
                wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime())));
            }
            assertNotNull(failure, "no step failed within " + WAIT_SECONDS + " s");
            return failure;
        }
    }
}
