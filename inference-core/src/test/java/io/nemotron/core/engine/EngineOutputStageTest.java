package io.nemotron.core.engine;

import static io.nemotron.core.engine.EngineTest.assertAllFree;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.ForwardPass;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.sampling.SampledLogprobs;
import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;
import io.nemotron.core.testing.Reference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The output stage off the step thread, on stories260K with its tokenizer: a stop string found there drops the
 * sequence at the next step, per-request order under concurrency, a blocked listener holding only its own request,
 * exactly one end per request, and close() delivering what was handed over. Oracles: llama2.c's greedy ids and text
 * for the empty prompt ({@code expected.json}), and the tokenizer library's decode.
 */
class EngineOutputStageTest {
    private static LoadedModel model;
    private static int[] referenceIds;     // llama2.c's 200 greedy ids after BOS
    private static String referenceText;   // and their text

    @BeforeAll
    static void load() {
        model = LoadedModel.openCpu(Reference.path("stories260k/hf"), 2, 256);
        JsonNode c = Reference.json("stories260k/expected.json").get("cases").get(0);
        referenceIds = Reference.ints(c.get("generated_ids"));
        referenceText = c.get("text").asString();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static EngineConfig config() {
        return new EngineConfig(256, 8, 64, 16, 64, 0, true, 2);
    }

    private static SamplingParams greedy(int maxTokens, String... stop) {
        return SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).stop(stop).build();
    }

    @Test
    void aStopStringFoundOffTheStepThreadDropsTheSequenceAndNoTokenPastItIsSent() throws Exception {
        String stop = "park.";
        int cut = referenceText.indexOf(stop);
        assertTrue(cut > 0, "the reference text has the stop string");
        // the token that completes the stop string: the first prefix of the reference ids whose text contains it
        int n = 1;
        while (!model.tokenizer().decode(Arrays.copyOf(referenceIds, n), true).contains(stop)) {
            n++;
        }
        AtomicInteger steps = new AtomicInteger();
        // steps paced at 5 ms and a listener at 10 ms a token: the step thread samples past the stop before the
        // output stage finds it, and the drop comes long before max_tokens (200)
        try (Engine engine = new Engine(paced(model.forwardPass(), 5, -1), model.tokenizer(), config())) {
            engine.addStepObserver(counting(steps));
            OrderedListener slow = new OrderedListener(10, null);
            engine.submit(EngineRequest.of("stops", new int[] {1}, greedy(200, stop)), slow);
            assertEquals(FinishReason.STOP, slow.await());
            assertEquals(referenceText.substring(0, cut), slow.text.toString());
            assertArrayEquals(Arrays.copyOf(referenceIds, n), slow.ids());
            assertEquals(n, slow.stats.completionTokens());
            assertTrue(steps.get() > n, "the step thread ran ahead: " + steps.get() + " steps, stop at token " + n);
            assertAllFree(engine);   // every block back: the dropped sequence's included
            int stepsAfterDrop = steps.get();
            assertTrue(stepsAfterDrop < 200, "dropped before max_tokens: " + stepsAfterDrop + " steps");
            Thread.sleep(100);
            assertEquals(stepsAfterDrop, steps.get(), "the dropped sequence is not stepped any more");
            slow.assertOrdered(1);
        }
    }

    @Test
    void aBlockedListenerHoldsOnlyItsOwnRequestAndEveryRequestHearsItsEventsInOrder() throws Exception {
        int maxTokens = 60;
        int[] expected = Arrays.copyOf(referenceIds, maxTokens);
        CountDownLatch release = new CountDownLatch(1);
        try (Engine engine = new Engine(model.forwardPass(), model.tokenizer(), config())) {
            OrderedListener blocked = new OrderedListener(0, release);
            engine.submit(EngineRequest.of("blocked", new int[] {1}, greedy(maxTokens)), blocked);
            List<OrderedListener> others = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                OrderedListener l = new OrderedListener(0, null);
                engine.submit(EngineRequest.of("other-" + i, new int[] {1}, greedy(maxTokens)), l);
                others.add(l);
            }
            for (OrderedListener l : others) {
                assertEquals(FinishReason.LENGTH, l.await());
                assertArrayEquals(expected, l.ids());
                assertEquals(referenceText.substring(0, l.text.length()), l.text.toString());
                l.assertOrdered(1);
            }
            // the blocked listener is still inside its first onToken, yet its sequence ran to the end on the step
            // thread and gave its blocks back
            assertFalse(blocked.finish.isDone());
            assertEquals(1, blocked.ids().length);
            assertAllFree(engine);
            release.countDown();
            assertEquals(FinishReason.LENGTH, blocked.await());
            assertArrayEquals(expected, blocked.ids());
            blocked.assertOrdered(1);
        }
    }

    @Test
    void aCancelBehindASlowListenerEndsTheRequestOnce() throws Exception {
        try (Engine engine = new Engine(paced(model.forwardPass(), 2, -1), model.tokenizer(), config())) {
            OrderedListener slow = new OrderedListener(10, null);
            RequestHandle h = engine.submit(EngineRequest.of("cancelled", new int[] {1}, greedy(200)), slow);
            assertTrue(slow.firstToken.await(1, TimeUnit.MINUTES));
            h.cancel();
            h.cancel();
            assertEquals(FinishReason.CANCELLED, slow.await());
            assertAllFree(engine);
            Thread.sleep(200);   // events still queued behind the slow listener must not follow the end
            slow.assertOrdered(1);
            int[] ids = slow.ids();
            assertArrayEquals(Arrays.copyOf(referenceIds, ids.length), ids);
        }
    }

    @Test
    void aFailedStepEndsEachOfItsRequestsWithOneError() throws Exception {
        try (Engine engine = new Engine(paced(model.forwardPass(), 0, 3), model.tokenizer(), config())) {
            List<OrderedListener> listeners = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                OrderedListener l = new OrderedListener(i == 0 ? 30 : 0, null);
                engine.submit(EngineRequest.of("failing-" + i, new int[] {1}, greedy(20)), l);
                listeners.add(l);
            }
            for (OrderedListener l : listeners) {
                ExecutionException e = assertThrows(ExecutionException.class, l::await);
                assertTrue(e.getCause() instanceof EngineStepException, e.getCause().toString());
            }
            assertAllFree(engine);
            Thread.sleep(100);
            for (OrderedListener l : listeners) {
                l.assertOrdered(1);
            }
            // the first request is in step 1, so two steps gave it a token each before the failing third; the others
            // may have joined a step later (submitted while step 1 ran), so they have at most two
            assertEquals(2, listeners.get(0).ids().length, "two steps ran before the failing third");
            for (OrderedListener l : listeners) {
                assertTrue(l.ids().length <= 2, "tokens after the failing step: " + l.ids().length);
            }
        }
    }

    @Test
    void closeDeliversTheEventsAlreadyHandedOver() throws Exception {
        int maxTokens = 40;
        AtomicInteger steps = new AtomicInteger();
        Engine engine = new Engine(model.forwardPass(), model.tokenizer(), config());
        engine.addStepObserver(counting(steps));
        OrderedListener slow = new OrderedListener(20, null);
        engine.submit(EngineRequest.of("pending", new int[] {1}, greedy(maxTokens)), slow);
        long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (steps.get() < maxTokens && System.nanoTime() < until) {   // one step per token, the prefill's included
            Thread.sleep(1);
        }
        assertEquals(maxTokens, steps.get(), "the step thread sampled every token");
        assertTrue(slow.ids().length < maxTokens, "the listener is behind: " + slow.ids().length);
        engine.close();
        assertTrue(slow.finish.isDone(), "close() returned before the end was delivered");
        assertEquals(FinishReason.LENGTH, slow.finish.get());
        assertArrayEquals(Arrays.copyOf(referenceIds, maxTokens), slow.ids());
        slow.assertOrdered(1);
    }

    private static StepObserver counting(AtomicInteger steps) {
        return new StepObserver() {
            @Override
            public void onStep(int sequences, int tokens, long nanos) {
                steps.incrementAndGet();
            }

            @Override
            public void onStepFailed(Throwable error, int sequences, long nanos) {
            }
        };
    }

    /** The model with every forward call delayed by {@code sleepMillis}, failing on call {@code failOn} (or never). */
    private static ForwardPass paced(ForwardPass model, int sleepMillis, int failOn) {
        AtomicInteger calls = new AtomicInteger();
        return new ForwardPass() {
            @Override
            public ModelConfig config() {
                return model.config();
            }

            @Override
            public int maxRows() {
                return model.maxRows();
            }

            @Override
            public KvPool newKvPool(int numBlocks, int blockSize) {
                return model.newKvPool(numBlocks, blockSize);
            }

            @Override
            public long kvBytesPerBlock(int blockSize) {
                return model.kvBytesPerBlock(blockSize);
            }

            @Override
            public void forward(StepBatch batch, KvPool kv, float[] logits) {
                pace();
                model.forward(batch, kv, logits);
            }

            @Override
            public void forward(StepBatch batch, KvPool kv, SamplingBatch sampling, SampledTokens out) {
                pace();
                model.forward(batch, kv, sampling, out);
            }

            private void pace() {
                if (calls.incrementAndGet() == failOn) {
                    throw new IllegalStateException("injected backend failure");
                }
                try {
                    Thread.sleep(sleepMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
    }

    /**
     * Records one request's events without any locking of its own, and every breach of the contract: two calls at
     * once, a call after the end, more than one end. Optionally slow on each token, or blocked in its first one.
     */
    private static final class OrderedListener implements EngineListener {
        final List<Integer> tokens = new CopyOnWriteArrayList<>();
        final StringBuilder text = new StringBuilder();
        final CompletableFuture<FinishReason> finish = new CompletableFuture<>();
        final CountDownLatch firstToken = new CountDownLatch(1);
        final List<String> violations = new CopyOnWriteArrayList<>();
        final AtomicInteger ends = new AtomicInteger();
        private final AtomicInteger inCall = new AtomicInteger();
        private final int millisPerToken;
        private final CountDownLatch blockFirstTokenUntil;
        volatile RequestStats stats;

        OrderedListener(int millisPerToken, CountDownLatch blockFirstTokenUntil) {
            this.millisPerToken = millisPerToken;
            this.blockFirstTokenUntil = blockFirstTokenUntil;
        }

        @Override
        public void onToken(int tokenId, String textDelta, SampledLogprobs logprobs) {
            enter("onToken");
            try {
                tokens.add(tokenId);
                text.append(textDelta);
                firstToken.countDown();
                if (blockFirstTokenUntil != null && tokens.size() == 1) {
                    blockFirstTokenUntil.await(1, TimeUnit.MINUTES);
                }
                if (millisPerToken > 0) {
                    Thread.sleep(millisPerToken);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                inCall.decrementAndGet();
            }
        }

        @Override
        public void onFinished(FinishReason reason, String finalText, RequestStats stats) {
            enter("onFinished");
            text.append(finalText);
            this.stats = stats;
            ends.incrementAndGet();
            inCall.decrementAndGet();
            finish.complete(reason);
        }

        @Override
        public void onError(Throwable error, RequestStats stats) {
            enter("onError");
            this.stats = stats;
            ends.incrementAndGet();
            inCall.decrementAndGet();
            finish.completeExceptionally(error);
        }

        private void enter(String call) {
            if (inCall.incrementAndGet() != 1) {
                violations.add(call + " while another call ran");
            }
            if (ends.get() > 0) {
                violations.add(call + " after the end");
            }
        }

        FinishReason await() throws Exception {
            return finish.get(2, TimeUnit.MINUTES);
        }

        int[] ids() {
            return tokens.stream().mapToInt(Integer::intValue).toArray();
        }

        void assertOrdered(int expectedEnds) {
            assertEquals(List.of(), violations);
            assertEquals(expectedEnds, ends.get());
        }
    }
}
