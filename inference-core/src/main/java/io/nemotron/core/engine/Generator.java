package io.nemotron.core.engine;

import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.SingleSequence;
import io.nemotron.core.model.ForwardPass;
import io.nemotron.core.sampling.SampledTokens;
import io.nemotron.core.sampling.SamplingBatch;
import io.nemotron.core.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Generates for one sequence at a time: chunked prefill of the prompt, then one forward step per token, sampling
 * and stop checks after each. The continuous-batching {@code Engine} of the serving path supersedes this for the
 * server; the CLI and the reference tests use it directly. Not thread-safe: one caller at a time.
 */
public final class Generator {
    private final ForwardPass model;
    private final Tokenizer tokenizer;   // null: ids only, no text
    private final SamplingBatch sampling = new SamplingBatch(1);
    private final SampledTokens sampled = new SampledTokens(1);
    private final int[] one = new int[1];

    public Generator(ForwardPass model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /**
     * @param onText receives each streamed text delta (never half a UTF-8 character, never part of a stop string)
     */
    public GenerationResult generate(int[] promptIds, SamplingParams params, Consumer<String> onText) {
        params.validate();
        ModelConfig config = model.config();
        checkPrompt(promptIds, params, config);

        SingleSequence cache = new SingleSequence(model, promptIds.length + params.maxTokens());
        SamplingState samplingState = new SamplingState(params, promptIds);
        TokenStops tokenStops = TokenStops.of(params, config.eosTokenIds());
        SequenceText sequenceText = new SequenceText(params, promptIds, tokenizer);
        StringBuilder text = new StringBuilder();

        long start = System.nanoTime();
        int chunk = model.maxRows();
        int done = 0;
        while (promptIds.length - done > chunk) {   // every chunk but the last: no logits
            cache.forward(Arrays.copyOfRange(promptIds, done, done + chunk), chunk, null);
            done += chunk;
        }
        int[] last = done == 0 ? promptIds : Arrays.copyOfRange(promptIds, done, promptIds.length);
        sampleAfter(cache, samplingState, last, promptIds.length - done);
        long prefillEnd = System.nanoTime();

        int[] out = new int[params.maxTokens()];
        int produced = 0;
        StopReason reason;
        while (true) {
            int token = sampled.ids[0];
            samplingState.accept(token);
            out[produced++] = token;
            SequenceText.Step step = sequenceText.accept(token, tokenStops.check(token, produced));
            emit(step.text(), text, onText);
            if (step.finished() != null) {
                reason = step.finished();
                emit(step.finalText(), text, onText);
                break;
            }
            one[0] = token;
            sampleAfter(cache, samplingState, one, 1);
        }
        long end = System.nanoTime();
        GenerationStats stats = new GenerationStats(promptIds.length, produced, prefillEnd - start, end - prefillEnd);
        return new GenerationResult(promptIds, Arrays.copyOf(out, produced), text.toString(), reason, stats);
    }

    /** Runs {@code rows} tokens and samples the next one with the model's sampling op into {@code sampled}. */
    private void sampleAfter(SingleSequence cache, SamplingState state, int[] tokens, int rows) {
        sampling.clear();
        state.addRow(sampling);
        cache.forward(tokens, rows, sampling, sampled);
    }

    private static void emit(String delta, StringBuilder text, Consumer<String> onText) {
        if (delta != null && !delta.isEmpty()) {
            text.append(delta);
            if (onText != null) {
                onText.accept(delta);
            }
        }
    }

    private static void checkPrompt(int[] promptIds, SamplingParams params, ModelConfig config) {
        if (promptIds.length == 0) {
            throw new InvalidRequestException("prompt: is empty; give at least one token");
        }
        for (int i = 0; i < promptIds.length; i++) {
            if (promptIds[i] < 0 || promptIds[i] >= config.vocabSize()) {
                throw new InvalidRequestException("prompt_ids[" + i + "]: " + promptIds[i]
                        + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        long total = (long) promptIds.length + params.maxTokens();
        if (promptIds.length >= config.maxPositionEmbeddings()) {
            throw new InvalidRequestException("prompt: has " + promptIds.length + " tokens but the context length is "
                    + config.maxPositionEmbeddings());
        }
        if (total > config.maxPositionEmbeddings()) {
            throw new InvalidRequestException("max_tokens: " + params.maxTokens() + " + prompt " + promptIds.length
                    + " tokens = " + total + " exceeds the context length " + config.maxPositionEmbeddings()
                    + " (lower max_tokens to at most " + (config.maxPositionEmbeddings() - promptIds.length) + ")");
        }
    }
}
