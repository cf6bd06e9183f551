package io.nemotron.core.engine;

import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.model.SingleSequence;
import io.nemotron.core.model.ForwardPass;
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
    private final Sampler sampler = new Sampler();
    private final float[] logits;
    private final int[] one = new int[1];

    public Generator(ForwardPass model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.logits = new float[model.config().vocabSize()];
    }

    /**
     * @param onText receives each streamed text delta (never half a UTF-8 character, never part of a stop string)
     */
    public GenerationResult generate(int[] promptIds, SamplingParams params, Consumer<String> onText) {
        params.validate();
        ModelConfig config = model.config();
        checkPrompt(promptIds, params, config);

        SingleSequence cache = new SingleSequence(model, promptIds.length + params.maxTokens());
        SamplingState sampling = new SamplingState(params, promptIds);
        TokenStops tokenStops = TokenStops.of(params, config.eosTokenIds());
        SequenceText sequenceText = new SequenceText(params, promptIds, tokenizer);
        StringBuilder text = new StringBuilder();

        long start = System.nanoTime();
        int chunk = model.maxRows();
        for (int done = 0; done < promptIds.length; done += chunk) {
            int n = Math.min(chunk, promptIds.length - done);
            int[] part = done == 0 && n == promptIds.length ? promptIds : Arrays.copyOfRange(promptIds, done, done + n);
            cache.forward(part, n, n + done == promptIds.length ? logits : null);
        }
        long prefillEnd = System.nanoTime();

        int[] out = new int[params.maxTokens()];
        int produced = 0;
        StopReason reason;
        while (true) {
            int token = sampler.sample(logits, 0, config.vocabSize(), params, sampling);
            sampling.accept(token);
            out[produced++] = token;
            SequenceText.Step step = sequenceText.accept(token, tokenStops.check(token, produced));
            emit(step.text(), text, onText);
            if (step.finished() != null) {
                reason = step.finished();
                emit(step.finalText(), text, onText);
                break;
            }
            one[0] = token;
            cache.forward(one, 1, logits);
        }
        long end = System.nanoTime();
        GenerationStats stats = new GenerationStats(promptIds.length, produced, prefillEnd - start, end - prefillEnd);
        return new GenerationResult(promptIds, Arrays.copyOf(out, produced), text.toString(), reason, stats);
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
            throw new IllegalArgumentException("prompt is empty: give at least one token");
        }
        for (int i = 0; i < promptIds.length; i++) {
            if (promptIds[i] < 0 || promptIds[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("prompt_ids[" + i + "] = " + promptIds[i]
                        + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        long total = (long) promptIds.length + params.maxTokens();
        if (promptIds.length >= config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("prompt has " + promptIds.length + " tokens but the context length is "
                    + config.maxPositionEmbeddings());
        }
        if (total > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("max_tokens " + params.maxTokens() + " + prompt " + promptIds.length
                    + " tokens = " + total + " exceeds the context length " + config.maxPositionEmbeddings()
                    + " (lower max_tokens to at most " + (config.maxPositionEmbeddings() - promptIds.length) + ")");
        }
    }
}
