package io.nemotron.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class SamplingParamsTest {

    private static String rejected(UnaryOperator<SamplingParams.Builder> change) {
        SamplingParams p = change.apply(SamplingParams.builder()).build();
        return assertThrows(IllegalArgumentException.class, p::validate).getMessage();
    }

    @Test
    void defaultsAreValidAndOff() {
        SamplingParams p = SamplingParams.builder().build().validate();
        assertEquals(1f, p.temperature());
        assertEquals(1f, p.topP());
        assertTrue(!p.penaltiesEnabled() && !p.topKEnabled(100) && !p.isGreedy());
        assertTrue(SamplingParams.greedy(5).validate().isGreedy());
    }

    @Test
    void badValuesAreRejectedNamingTheField() {
        assertEquals("temperature: must be >= 0, got -1.0", rejected(b -> b.temperature(-1)));
        assertTrue(rejected(b -> b.temperature(Float.NaN)).startsWith("temperature"));
        assertTrue(rejected(b -> b.topP(0)).startsWith("top_p"));
        assertTrue(rejected(b -> b.topP(1.5f)).startsWith("top_p"));
        assertTrue(rejected(b -> b.minP(-0.1f)).startsWith("min_p"));
        assertTrue(rejected(b -> b.minP(1.1f)).startsWith("min_p"));
        assertTrue(rejected(b -> b.topK(-2)).startsWith("top_k"));
        assertTrue(rejected(b -> b.repetitionPenalty(0)).startsWith("repetition_penalty"));
        assertTrue(rejected(b -> b.presencePenalty(2.5f)).startsWith("presence_penalty"));
        assertTrue(rejected(b -> b.frequencyPenalty(-3)).startsWith("frequency_penalty"));
        assertTrue(rejected(b -> b.maxTokens(0)).startsWith("max_tokens"));
        assertTrue(rejected(b -> b.stop("")).startsWith("stop"));
    }

    @Test
    void boundaryValuesAreAccepted() {
        SamplingParams.builder().temperature(0).topP(1).minP(1).topK(-1).presencePenalty(-2).frequencyPenalty(2)
                .maxTokens(1).build().validate();
        SamplingParams.builder().minP(0).topK(0).repetitionPenalty(0.01f).build().validate();
    }
}
