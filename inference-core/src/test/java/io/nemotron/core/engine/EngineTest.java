package io.nemotron.core.engine;

import io.nemotron.core.sampling.SampledLogprobs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.testing.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The continuous-batching engine on stories260K: batched greedy outputs equal the reference and the same requests
 * run one at a time; cancellation, deadlines, preemption and overload; the block pool ends all free every time.
 */
class EngineTest {
    private static LoadedModel model;

    @BeforeAll
    static void load() {
        model = LoadedModel.openCpu(Reference.path("stories260k/hf"), 2, 256);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static EngineConfig config(int numKvBlocks, int maxNumSeqs, int maxWaiting) {
        return new EngineConfig(256, maxNumSeqs, maxWaiting, 16, numKvBlocks, 0, true, 2);
    }

    static void assertAllFree(Engine engine) throws InterruptedException {
        // the snapshot is published after each loop turn: wait for the turn that released the last request
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        EngineSnapshot s = engine.snapshot();
        while ((s.freeBlocks() != s.totalBlocks() || s.running() + s.waiting() > 0) && System.nanoTime() < until) {
            Thread.sleep(5);
            s = engine.snapshot();
        }
        assertEquals(s.totalBlocks(), s.freeBlocks(), "every KV block is free again: " + s);
        assertEquals(0, s.running() + s.waiting(), s.toString());
    }

    /** Greedy prompts: the reference cases plus prompts that share prefixes and ones that do not. */
    private static List<int[]> prompts() {
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            int len = 1 + (i * 7) % 40;
            int[] p = new int[len];
            p[0] = 1;
            for (int j = 1; j < len; j++) {
                p[j] = i < 8 ? 3 + (j * 13) % 500 : 3 + (i * 31 + j * 17) % 500;   // first 8 share a prefix
            }
            prompts.add(p);
        }
        return prompts;
    }

    private static int[] alone(int[] prompt, int maxTokens) {
        // the independent path: the single-sequence generator, one request at a time
        Generator g = new Generator(model.transformer(), null);
        SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build();
        return g.generate(prompt, p, null).outputIds();
    }

    @Test
    void sixteenConcurrentGreedyRequestsEqualTheSameRequestsRunAlone() throws Exception {
        List<int[]> prompts = prompts();
        int maxTokens = 40;
        // expected first: the engine and the single-sequence path share one backend, never at the same time
        List<int[]> expected = prompts.stream().map(p -> alone(p, maxTokens)).toList();
        try (Engine engine = new Engine(model, new EngineConfig(256, 16, 64, 16, 0, 64L << 20, true, 2))) {
            List<CollectingListener> listeners = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                CollectingListener l = new CollectingListener();
                engine.submit(EngineRequest.of("r" + i, prompts.get(i),
                        SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build()), l);
                listeners.add(l);
            }
            for (int i = 0; i < prompts.size(); i++) {
                assertEquals(FinishReason.LENGTH, listeners.get(i).await());
                assertArrayEquals(expected.get(i), listeners.get(i).ids(), "request " + i);
            }
            assertAllFree(engine);
        }
    }

    @Test
    void batchedOutputsMatchTheStories260kReference() throws Exception {
        try (Engine engine = new Engine(model, config(64, 8, 64))) {
            assertStoriesCasesInOneBatch(engine);
        }
    }

    /** Every stories260K case submitted at once reproduces its reference ids; the pool is all free afterwards. */
    static void assertStoriesCasesInOneBatch(Engine engine) throws Exception {
        JsonNode cases = Reference.json("stories260k/expected.json").get("cases");
        List<CollectingListener> listeners = new ArrayList<>();
        List<int[]> expected = new ArrayList<>();
        for (JsonNode c : cases) {
            int[] ids = Reference.ints(c.get("generated_ids"));
            CollectingListener l = new CollectingListener();
            engine.submit(EngineRequest.of(c.get("name").asString(), Reference.ints(c.get("prompt_ids")),
                    SamplingParams.builder().temperature(0).maxTokens(ids.length).ignoreEos(true).build()), l);
            listeners.add(l);
            expected.add(ids);
        }
        for (int i = 0; i < listeners.size(); i++) {
            assertEquals(FinishReason.LENGTH, listeners.get(i).await());
            assertArrayEquals(expected.get(i), listeners.get(i).ids(), cases.get(i).get("name").asString());
        }
        assertAllFree(engine);
    }

    @Test
    void preemptionByRecomputeKeepsOutputsExactAndFreesEverything() throws Exception {
        // 12 blocks of 16 tokens: four sequences of up to 70 tokens cannot all hold their blocks at once
        List<int[]> prompts = prompts().subList(8, 12);
        int maxTokens = 30;
        List<int[]> expected = prompts.stream().map(p -> alone(p, maxTokens)).toList();
        try (Engine engine = new Engine(model, config(12, 8, 64))) {
            List<CollectingListener> listeners = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                CollectingListener l = new CollectingListener();
                engine.submit(EngineRequest.of("p" + i, prompts.get(i),
                        SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build()), l);
                listeners.add(l);
            }
            for (int i = 0; i < prompts.size(); i++) {
                listeners.get(i).await();
                assertArrayEquals(expected.get(i), listeners.get(i).ids(), "request " + i);
            }
            assertTrue(engine.snapshot().preemptions() > 0, "the small pool forced preemptions: " + engine.snapshot());
            assertAllFree(engine);
        }
    }

    @Test
    void aRepeatedPromptReusesItsFullBlocksAndGivesTheSameTokens() throws Exception {
        int[] prompt = prompts().get(5);   // 36 tokens: two full blocks of 16 and a partial one
        int[] expected = alone(prompt, 12);
        try (Engine engine = new Engine(model, config(64, 8, 64))) {
            SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(12).ignoreEos(true).build();
            CollectingListener first = new CollectingListener();
            engine.submit(EngineRequest.of("first", prompt, p), first);
            first.await();
            CollectingListener second = new CollectingListener();
            engine.submit(EngineRequest.of("second", prompt, p), second);
            second.await();
            assertEquals(0, first.stats.cachedPromptTokens());
            assertEquals(32, second.stats.cachedPromptTokens(), "the two full prompt blocks come from the cache");
            assertArrayEquals(first.ids(), second.ids());
            assertArrayEquals(expected, second.ids());
            assertAllFree(engine);
        }
    }

    @Test
    void cancelMidStreamEndsCancelledAndFreesBlocks() throws Exception {
        try (Engine engine = new Engine(paced(), null, config(64, 8, 64))) {
            CollectingListener l = new CollectingListener();
            RequestHandle h = engine.submit(EngineRequest.of("c", new int[] {1, 403},
                    SamplingParams.builder().temperature(0).maxTokens(400).ignoreEos(true).build()), l);
            assertTrue(l.firstToken.await(1, TimeUnit.MINUTES));
            h.cancel();
            h.cancel();   // idempotent
            assertEquals(FinishReason.CANCELLED, l.await());
            assertTrue(l.ids().length < 400);
            assertAllFree(engine);
        }
    }

    @Test
    void expiredDeadlineEndsExpiredAndFreesBlocks() throws Exception {
        try (Engine engine = new Engine(paced(), null, config(64, 8, 64))) {
            CollectingListener l = new CollectingListener();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
            engine.submit(new EngineRequest("d", new int[] {1}, SamplingParams.builder().temperature(0).maxTokens(500)
                    .ignoreEos(true).build(), 0, deadline), l);
            assertEquals(FinishReason.EXPIRED, l.await());
            assertAllFree(engine);
        }
    }

    @Test
    void aListenerThatThrowsOnlyEndsItsOwnRequest() throws Exception {
        int[] expected = alone(new int[] {1, 403}, 20);
        try (Engine engine = new Engine(model, config(64, 8, 64))) {
            CollectingListener good = new CollectingListener();
            CollectingListener bad = new CollectingListener() {
                @Override
                public synchronized void onToken(int tokenId, String textDelta, SampledLogprobs logprobs) {
                    throw new IllegalStateException("client went away");
                }
            };
            SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(20).ignoreEos(true).build();
            engine.submit(EngineRequest.of("bad", new int[] {1, 403}, p), bad);
            engine.submit(EngineRequest.of("good", new int[] {1, 403}, p), good);
            assertEquals(FinishReason.CANCELLED, bad.await());
            assertEquals(FinishReason.LENGTH, good.await());
            assertArrayEquals(expected, good.ids());
            assertAllFree(engine);
        }
    }

    @Test
    void fullQueueIsOverloadedAndOversizedRequestsAreRejected() throws Exception {
        try (Engine engine = new Engine(paced(), null, config(64, 1, 1))) {
            SamplingParams longRun = SamplingParams.builder().temperature(0).maxTokens(300).ignoreEos(true).build();
            CollectingListener first = new CollectingListener();
            RequestHandle h1 = engine.submit(EngineRequest.of("a", new int[] {1}, longRun), first);
            assertTrue(first.firstToken.await(1, TimeUnit.MINUTES));   // "a" runs; the queue holds one more
            RequestHandle h2 = engine.submit(EngineRequest.of("b", new int[] {1}, longRun), new CollectingListener());
            assertThrows(EngineOverloadedException.class,
                    () -> engine.submit(EngineRequest.of("c", new int[] {1}, longRun), new CollectingListener()));
            IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                    () -> engine.submit(EngineRequest.of("e", new int[] {1}, SamplingParams.builder().temperature(0)
                            .maxTokens(600).build()), new CollectingListener()));
            assertTrue(tooLong.getMessage().contains("max_tokens: 600"), tooLong.getMessage());
            h1.cancel();
            h2.cancel();
            assertAllFree(engine);
        }
    }

    /** Runs {@code beforeStep} before each step (the backend's embed call, one per step), then the real op. */
    private interface StepHook {
        void run() throws Exception;
    }

    private io.nemotron.core.model.Transformer hooked(StepHook beforeStep) {
        io.nemotron.core.backend.Backend real = model.transformer().backend();
        var backend = (io.nemotron.core.backend.Backend) java.lang.reflect.Proxy.newProxyInstance(
                EngineTest.class.getClassLoader(), new Class<?>[] {io.nemotron.core.backend.Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("embed")) {
                        beforeStep.run();
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        return new io.nemotron.core.model.Transformer(model.config(), model.transformer().weights(), backend);
    }

    /**
     * Every step slowed by 5 ms: stories260K decodes hundreds of tokens in tens of milliseconds, so a test that must
     * act while a request is still running (cancel it, queue behind it, close the engine under it, let its deadline
     * pass) would race a descheduled test thread; paced, a 400-token run lasts seconds.
     */
    private io.nemotron.core.model.Transformer paced() {
        return hooked(() -> Thread.sleep(5));
    }

    /** Fails the forward pass on the n-th step. */
    private io.nemotron.core.model.Transformer failingOnStep(int n) {
        java.util.concurrent.atomic.AtomicInteger steps = new java.util.concurrent.atomic.AtomicInteger();
        return hooked(() -> {
            if (steps.incrementAndGet() == n) {
                throw new IllegalStateException("injected backend failure");
            }
        });
    }

    @Test
    void aFailedStepFailsItsRequestsFreesTheirBlocksAndTheEngineKeepsServing() throws Exception {
        int[] expected = alone(new int[] {1, 403, 407}, 10);
        var failing = failingOnStep(3);
        try (Engine engine = new Engine(failing, null, config(64, 8, 64))) {
            SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(10).ignoreEos(true).build();
            CollectingListener a = new CollectingListener();
            CollectingListener b = new CollectingListener();
            engine.submit(EngineRequest.of("a", new int[] {1, 403, 407}, p), a);
            engine.submit(EngineRequest.of("b", new int[] {1, 403, 407}, p), b);
            for (CollectingListener l : List.of(a, b)) {
                var e = assertThrows(java.util.concurrent.ExecutionException.class, l::await);
                assertTrue(e.getCause().getMessage().contains("injected backend failure"), e.getCause().toString());
            }
            assertAllFree(engine);
            CollectingListener after = new CollectingListener();
            engine.submit(EngineRequest.of("after", new int[] {1, 403, 407}, p), after);
            assertEquals(FinishReason.LENGTH, after.await());
            assertArrayEquals(expected, after.ids());
            assertAllFree(engine);
        }
    }

    @Test
    void closingFailsRunningRequestsAsClosedAndRefusesNewOnes() throws Exception {
        Engine engine = new Engine(paced(), null, config(64, 8, 64));
        CollectingListener running = new CollectingListener();
        engine.submit(EngineRequest.of("long", new int[] {1}, SamplingParams.builder().temperature(0).maxTokens(400)
                .ignoreEos(true).build()), running);
        assertTrue(running.firstToken.await(1, TimeUnit.MINUTES));
        engine.close();
        var e = assertThrows(java.util.concurrent.ExecutionException.class, running::await);
        assertTrue(e.getCause() instanceof EngineClosedException, e.getCause().toString());
        assertThrows(EngineClosedException.class, () -> engine.submit(EngineRequest.of("late", new int[] {1},
                SamplingParams.greedy(4)), new CollectingListener()));
        assertAllFree(engine);
    }
}
