package io.nemotron.core.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.KvPool;
import io.nemotron.core.backend.StepBatch;
import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.demo.DemoModel;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.model.Transformer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StepProfileBenchmarkTest {

    @Test
    void timingTheOpsChangesNoLogitBit(@TempDir Path cache) {
        try (LoadedModel model = LoadedModel.openCpu(DemoModel.ensure(cache), 2, 16)) {
            int vocab = model.config().vocabSize();
            int[] prompt = {5, 17, 300, 42, 1999, 7, 64, 8};
            int[] table = {0};
            Transformer plain = model.transformer();
            OpTimingBackend timing = new OpTimingBackend(model.backend());
            Transformer timed = new Transformer(model.config(), plain.weights(), timing);
            float[] expected = new float[prompt.length * vocab];
            float[] got = new float[prompt.length * vocab];
            for (int pass = 0; pass < 2; pass++) {
                Transformer t = pass == 0 ? plain : timed;
                KvPool kv = t.newKvPool(1, 16);
                StepBatch batch = new StepBatch(16, prompt.length);   // logit rows are sized by sequences
                batch.addSequence(prompt, 0, prompt.length, table, 16);
                for (int r = 0; r < prompt.length; r++) {
                    batch.markLogits(r);
                }
                t.forward(batch, kv, pass == 0 ? expected : got);
            }
            assertArrayEquals(expected, got);
            assertTrue(timing.totals().get("attention")[1] > 0, "the decorated backend ran the ops");
        }
    }

    @Test
    void everyOpOfTheDemoModelIsCountedOncePerStepWhereTheConfigSaysItRuns(@TempDir Path cache) {
        try (LoadedModel model = LoadedModel.openCpu(DemoModel.ensure(cache), 2, 16)) {
            StepProfileBenchmark.Result r = new StepProfileBenchmark(model).run(4, 20, 2, 5);
            // the expected calls per step, counted from the block list (not from the forward pass)
            int full = 0, linearAttn = 0, mlp = 0, linearFfn = 0, norms = 0;
            for (BlockConfig b : model.config().blocks()) {
                if (b.attention() instanceof AttentionKind.Full) full++;
                if (b.attention() instanceof AttentionKind.Linear) linearAttn++;
                if (b.ffn() instanceof FfnKind.Mlp) mlp++;
                if (b.ffn() instanceof FfnKind.Linear) linearFfn++;
                if (!(b.attention() instanceof AttentionKind.None)) norms++;
                if (!(b.ffn() instanceof FfnKind.None)) norms++;
            }
            Map<String, double[]> ops = r.ops();
            assertEquals(full, ops.get("attention")[1]);
            assertEquals(2 * full, ops.get("rope")[1]);
            assertEquals(norms, ops.get("rmsnorm")[1]);
            assertEquals(norms, ops.get("residual add")[1]);
            assertEquals(mlp, ops.get("silu*mul")[1]);
            assertEquals(linearAttn + linearFfn, ops.get("linear 512x512 (linear sub-block)")[1]);
            assertEquals(1, ops.get("embed")[1]);
            assertEquals(1, ops.get("final norm + linear 2048x512")[1]);
            assertEquals(5, r.steps());
            assertTrue(r.opMillis() <= r.stepMillis() * 1.0001, "ops " + r.opMillis() + " ms within the step "
                    + r.stepMillis() + " ms");
        }
    }

    @Test
    void refusesWhatCannotRun(@TempDir Path cache) {
        try (LoadedModel model = LoadedModel.openCpu(DemoModel.ensure(cache), 1, 16)) {
            StepProfileBenchmark bench = new StepProfileBenchmark(model);
            assertThrows(IllegalArgumentException.class, () -> bench.run(17, 10, 0, 1));   // over maxRows
            assertThrows(IllegalArgumentException.class, () -> bench.run(1, model.config().maxPositionEmbeddings(), 0, 1));
            assertThrows(IllegalArgumentException.class, () -> bench.run(1, 10, 0, 0));
        }
    }
}
