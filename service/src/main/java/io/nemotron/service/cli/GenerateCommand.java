package io.nemotron.service.cli;

import io.nemotron.core.backend.cuda.CudaGraphs;
import io.nemotron.core.runtime.KvCacheChoice;
import io.nemotron.core.engine.GenerationResult;
import io.nemotron.core.engine.Generator;
import io.nemotron.core.engine.SamplingParams;
import io.nemotron.core.chat.Thinking;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.service.chat.SamplingDefaults;
import io.nemotron.core.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ./nemotron generate}: one prompt through the model on this machine, text streamed or JSON at the end. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate from a prompt with a local checkpoint (CPU or CUDA backend).")
final class GenerateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR|demo", description = "Hugging Face checkpoint folder")
    String model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    PromptSource prompt;

    static final class PromptSource {
        @Option(names = "--prompt", paramLabel = "TEXT", description = "raw prompt text (BOS is added)")
        String text;

        @Option(names = "--prompt-ids", paramLabel = "1,2,3", split = ",", description = "prompt token ids")
        List<String> ids;

        @Option(names = "--chat-request", paramLabel = "FILE", description = "chat request JSON (see `prompt`)")
        Path chatRequest;
    }

    @Option(names = "--max-tokens", defaultValue = "128", description = "most tokens to generate (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--temperature", description = "0 = greedy (default 0; 0.6 for chat requests with thinking on)")
    Float temperature;

    @Option(names = "--top-p", description = "nucleus sampling mass (default 1 = off; 0.95 with thinking on)")
    Float topP;

    @Option(names = "--top-k", defaultValue = "0", description = "keep the k most likely tokens (0 = off)")
    int topK;

    @Option(names = "--min-p", defaultValue = "0", description = "drop tokens below min_p × p(top) (0 = off)")
    float minP;

    @Option(names = "--repetition-penalty", defaultValue = "1", description = "HF repetition penalty (1 = off)")
    float repetitionPenalty;

    @Option(names = "--presence-penalty", defaultValue = "0")
    float presencePenalty;

    @Option(names = "--frequency-penalty", defaultValue = "0")
    float frequencyPenalty;

    @Option(names = "--seed", description = "sampling seed: same seed, same tokens")
    Long seed;

    @Option(names = "--stop", description = "stop string (repeatable)")
    List<String> stop = new ArrayList<>();

    @Option(names = "--ignore-eos", description = "keep generating past the model's end-of-sequence ids")
    boolean ignoreEos;

    @Option(names = "--backend", defaultValue = "cpu", description = "cpu | cuda")
    String backend;

    @Option(names = "--tensor-parallel", defaultValue = "1", paramLabel = "N",
            description = "tensor-parallel ranks (CPU: threads of this process; CUDA: GPUs 0..N-1; default 1)")
    int tensorParallel;

    @Option(names = "--threads", description = "CPU compute threads (default: available cores)")
    Integer threads;

    @Option(names = "--cuda-graphs", defaultValue = "on", paramLabel = "on|off",
            description = "CUDA backend: run decode steps as CUDA graphs (default on)")
    String cudaGraphs;

    @Option(names = "--kv-cache-dtype", defaultValue = "auto", paramLabel = "auto|fp32|bf16|fp8",
            description = "KV cache element type (default auto: fp8 when the checkpoint says so, else bf16)")
    String kvCacheDtype;

    @Mixin
    OutputFormat format;

    @Mixin
    WeightCacheFlags weightCache;

    @Option(names = "--stats", description = "print prefill and decode speed to stderr")
    boolean stats;

    @Override
    public Integer call() {
        boolean asJson = format.json();
        if (!backend.equals("cpu") && !backend.equals("cuda")) {
            throw new IllegalArgumentException("--backend must be cpu or cuda, got '" + backend + "'");
        }
        if (tensorParallel < 1) {
            throw new IllegalArgumentException("--tensor-parallel must be at least 1, got " + tensorParallel);
        }
        CudaGraphs graphs = CudaGraphs.parse(cudaGraphs, "--cuda-graphs");
        KvCacheChoice kvCache = KvCacheChoice.parse(kvCacheDtype, "--kv-cache-dtype");
        Path dir = ModelPaths.resolve(model);
        int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        // the load's progress on stderr: the upload (CUDA) or the packing in the first forward pass (CPU)
        try (LoadProgressDisplay progress = LoadProgressDisplay.show(model, spec.commandLine().getErr());
             LoadedModel loaded = backend.equals("cuda")
                ? LoadedModel.openCuda(dir, 0, LoadedModel.DEFAULT_PREFILL_CHUNK, tensorParallel, graphs, kvCache,
                        progress.progress())
                : LoadedModel.openCpu(dir, nThreads, LoadedModel.DEFAULT_PREFILL_CHUNK, tensorParallel, kvCache,
                        progress.progress(), weightCache.options())) {
            PromptInput input = PromptInput.resolve(prompt.text, prompt.ids, prompt.chatRequest, loaded, maxTokens);
            SamplingParams params = sampling(input.thinking()).validate();
            Generator generator = new Generator(loaded.forwardPass(), loaded.tokenizer());
            PrintWriter out = spec.commandLine().getOut();
            boolean streaming = !asJson;
            GenerationResult result = generator.generate(input.ids(), params, streaming ? delta -> {
                progress.close();   // the first token needed every weight: the final line is out before the text
                out.print(delta);
                out.flush();
            } : null);
            progress.close();
            if (streaming) {
                out.println();
            } else {
                out.println(Json.write(json(result)));
            }
            out.flush();
            if (stats) {
                var s = result.stats();
                spec.commandLine().getErr().printf("backend %s; prompt %d tokens, prefill %.1f ms (%.1f tok/s); generated "
                                + "%d tokens, decode %.2f tok/s%n", loaded.backendName(), s.promptTokens(), s.prefillNanos() / 1e6,
                        s.prefillTokensPerSecond(), s.generatedTokens(), s.decodeTokensPerSecond());
            }
        }
        return 0;
    }

    private SamplingParams sampling(Thinking thinking) {
        SamplingDefaults defaults = SamplingDefaults.of(thinking);   // raw prompts (null): greedy; explicit flags win
        return SamplingParams.builder()
                .temperature(temperature != null ? temperature : defaults.temperature())
                .topP(topP != null ? topP : defaults.topP())
                .topK(topK)
                .minP(minP)
                .repetitionPenalty(repetitionPenalty)
                .presencePenalty(presencePenalty)
                .frequencyPenalty(frequencyPenalty)
                .seed(seed)
                .maxTokens(maxTokens)
                .stop(stop.toArray(String[]::new))
                .ignoreEos(ignoreEos)
                .build();
    }

    private static Map<String, Object> json(GenerationResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt_ids", r.promptIds());
        m.put("output_ids", r.outputIds());
        m.put("text", r.text());
        m.put("finish_reason", r.finishReason().wireName());
        return m;
    }

    /** Token ids of the prompt and, for chat requests, the effective thinking mode (null for raw prompts). */
    record PromptInput(int[] ids, Thinking thinking) {
        static PromptInput resolve(String text, List<String> ids, Path chatRequest, LoadedModel model,
                                   Integer maxTokens) {
            if (ids != null) {
                int[] out = new int[ids.size()];
                for (int i = 0; i < out.length; i++) {
                    try {
                        out[i] = Integer.parseInt(ids.get(i).trim());
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--prompt-ids: '" + ids.get(i) + "' is not an integer");
                    }
                }
                return new PromptInput(out, null);
            }
            Tokenizer tokenizer = model.tokenizer();
            if (tokenizer == null) {
                throw new IllegalArgumentException("the model folder " + model.dir()
                        + " has no tokenizer.json: use --prompt-ids");
            }
            if (text != null) {
                return new PromptInput(tokenizer.encode(text, true), null);
            }
            return ChatPromptInput.render(chatRequest, model, maxTokens);
        }
    }
}
