package io.nemotron.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nemotron.core.demo.DemoModel;
import io.nemotron.core.runtime.LoadedModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Must-show 2 on the demo model (every nemotron-nas block variant): batched greedy == one at a time. */
class EngineDemoModelTest {

    @Test
    void sixteenConcurrentGreedyRequestsEqualTheSameRequestsRunAlone(@TempDir Path cache) throws Exception {
        try (LoadedModel model = LoadedModel.openCpu(DemoModel.ensure(cache), 2, 256)) {
            int maxTokens = 24;
            SamplingParams params = SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build();
            List<int[]> prompts = new ArrayList<>();
            List<int[]> expected = new ArrayList<>();
            Generator alone = new Generator(model.transformer(), null);
            for (int i = 0; i < 16; i++) {
                int[] p = model.tokenizer().encode("Request number " + i + " asks about " + "block ".repeat(i % 5 + 1), true);
                prompts.add(p);
                expected.add(alone.generate(p, params, null).outputIds());
            }
            try (Engine engine = new Engine(model, new EngineConfig(256, 16, 64, 16, 0, 32L << 20, true, 2))) {
                List<CollectingListener> listeners = new ArrayList<>();
                for (int i = 0; i < prompts.size(); i++) {
                    CollectingListener l = new CollectingListener();
                    engine.submit(EngineRequest.of("demo-" + i, prompts.get(i), params), l);
                    listeners.add(l);
                }
                for (int i = 0; i < prompts.size(); i++) {
                    assertEquals(FinishReason.LENGTH, listeners.get(i).await());
                    assertArrayEquals(expected.get(i), listeners.get(i).ids(), "request " + i);
                }
                // the last listener hears LENGTH just before its blocks go back: wait for that, up to 10 s
                EngineSnapshot s = engine.snapshot();
                long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
                while ((s.freeBlocks() != s.totalBlocks() || s.running() + s.waiting() > 0)
                        && System.nanoTime() < until) {
                    Thread.sleep(5);
                    s = engine.snapshot();
                }
                assertEquals(s.totalBlocks(), s.freeBlocks());
                assertEquals(0, s.running() + s.waiting());
            }
        }
    }
}
