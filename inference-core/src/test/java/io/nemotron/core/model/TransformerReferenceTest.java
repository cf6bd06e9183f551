package io.nemotron.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.cpu.CpuBackend;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.weights.SafetensorsReader;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The CPU forward pass against independent references: llama2.c run.c logits and greedy ids, float64 NAS logits. */
class TransformerReferenceTest {

    private static final class Loaded implements AutoCloseable {
        final ModelConfig config;
        final SafetensorsReader weights;
        final CpuBackend backend;
        final Transformer model;

        Loaded(Path dir, int threads, int maxRows) {
            config = ModelConfigLoader.load(dir);
            weights = SafetensorsReader.open(dir);
            ModelWeights w = ModelWeights.from(config, weights);
            backend = new CpuBackend(config, w.embedTokens(), threads, maxRows);
            model = new Transformer(config, w, backend);
        }

        int[] greedy(int[] prompt, int newTokens, int chunk) {
            SingleSequence cache = new SingleSequence(model, prompt.length + newTokens);
            float[] logits = new float[config.vocabSize()];
            for (int done = 0; done < prompt.length; done += chunk) {
                int n = Math.min(chunk, prompt.length - done);
                int[] part = java.util.Arrays.copyOfRange(prompt, done, done + n);
                cache.forward(part, n, logits);
            }
            int[] out = new int[newTokens];
            int[] one = new int[1];
            for (int i = 0; i < newTokens; i++) {
                out[i] = argmax(logits);
                one[0] = out[i];
                if (i + 1 < newTokens) {
                    cache.forward(one, 1, logits);
                }
            }
            return out;
        }

        @Override
        public void close() {
            backend.close();
            weights.close();
        }
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void stories260kLogitsAtEveryPositionMatchRunC() {
        JsonNode ref = Reference.json("stories260k/logits_once_upon_a_time.json");
        int[] ids = Reference.ints(ref.get("input_ids"));
        JsonNode rows = ref.get("logits");
        try (Loaded m = new Loaded(Reference.path("stories260k/hf"), 2, 8)) {
            SingleSequence cache = new SingleSequence(m.model, ids.length);
            float[] logits = new float[m.config.vocabSize()];
            double worst = 0;
            for (int pos = 0; pos < ids.length; pos++) {
                cache.forward(new int[] {ids[pos]}, 1, logits);
                JsonNode expected = rows.get(pos);
                for (int v = 0; v < logits.length; v++) {
                    worst = Math.max(worst, Math.abs(logits[v] - expected.get(v).asDouble()));
                }
            }
            assertTrue(worst <= 1e-4, "max |logit - run.c| = " + worst);
        }
    }

    @Test
    void stories260kGreedyMatchesEveryExpectedCase() {
        JsonNode cases = Reference.json("stories260k/expected.json").get("cases");
        try (Loaded m = new Loaded(Reference.path("stories260k/hf"), 2, 16)) {
            for (JsonNode c : cases) {
                int[] prompt = Reference.ints(c.get("prompt_ids"));
                int[] expected = Reference.ints(c.get("generated_ids"));
                assertArrayEquals(expected, m.greedy(prompt, expected.length, 16), c.get("name").asString());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"nemotron-nas-tiny/nas-tiny-a-f32", "nemotron-nas-tiny/nas-tiny-a-bf16"})
    void nemotronNasTinyMatchesFloat64Reference(String dir) {
        JsonNode cases = Reference.json(dir + "/expected.json").get("cases");
        try (Loaded m = new Loaded(Reference.path(dir), 2, 64)) {
            for (JsonNode c : cases) {
                int[] prompt = Reference.ints(c.get("prompt_ids"));
                // prefill in one call: last-position logits and the argmax at every position
                SingleSequence cache = new SingleSequence(m.model, prompt.length);
                float[] logits = new float[m.config.vocabSize()];
                cache.forward(prompt, prompt.length, logits);
                JsonNode expectedLast = c.get("prefill_logits_last");
                for (int v = 0; v < logits.length; v++) {
                    assertEquals(expectedLast.get(v).asDouble(), logits[v], 1e-3, dir + " logit " + v);
                }
                int[] argmaxAll = Reference.ints(c.get("prefill_logits_all_positions_argmax"));
                for (int pos = 0; pos < prompt.length; pos++) {
                    SingleSequence c2 = new SingleSequence(m.model, prompt.length);
                    c2.forward(prompt, prompt.length, logits, pos);
                    assertEquals(argmaxAll[pos], argmax(logits), dir + " argmax at position " + pos);
                }
                int[] greedy = Reference.ints(c.get("greedy_output_ids"));
                assertArrayEquals(greedy, m.greedy(prompt, greedy.length, 5), dir + " greedy ids");
            }
        }
    }
}
