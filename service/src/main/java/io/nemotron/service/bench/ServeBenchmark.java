package io.nemotron.service.bench;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.nemotron.api.v1.GenerateRequest;
import io.nemotron.api.v1.GenerateResponse;
import io.nemotron.api.v1.GetModelInfoRequest;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.Sampling;
import io.nemotron.api.v1.TokenIds;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A gRPC load generator in the spirit of vLLM's benchmark_serving: streams Generate calls and measures time to
 * first token, inter-token latency, end-to-end latency and output throughput as the client sees them.
 */
public final class ServeBenchmark {
    private final ServeLoad load;

    public ServeBenchmark(ServeLoad load) {
        this.load = load;
    }

    public Map<String, Object> run() throws InterruptedException {
        ManagedChannel channel = ManagedChannelBuilder.forTarget(load.target()).usePlaintext().build();
        try {
            int vocab = vocab(channel);
            List<int[]> prompts = prompts(vocab);
            List<Double> ttft = Collections.synchronizedList(new ArrayList<>());
            List<Double> itl = Collections.synchronizedList(new ArrayList<>());
            List<Double> e2e = Collections.synchronizedList(new ArrayList<>());
            Map<String, Integer> errors = new ConcurrentHashMap<>();
            AtomicLong outputTokens = new AtomicLong();
            AtomicLong cachedPromptTokens = new AtomicLong();
            NemotronGrpc.NemotronBlockingStub stub = NemotronGrpc.newBlockingStub(channel);
            Semaphore slots = new Semaphore(load.concurrency());
            SplittableRandom arrivals = new SplittableRandom(load.seed() + 1);
            long start = System.nanoTime();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < load.requests(); i++) {
                    if (load.rate() > 0 && i > 0) {
                        // Poisson arrivals: exponential gaps with mean 1/rate
                        double gap = -Math.log(1 - arrivals.nextDouble()) / load.rate();
                        Thread.sleep((long) (gap * 1000));
                    }
                    slots.acquire();
                    int[] prompt = prompts.get(i);
                    int index = i;
                    pool.submit(() -> {
                        try {
                            one(stub, index, prompt, ttft, itl, e2e, outputTokens, cachedPromptTokens, errors);
                        } finally {
                            slots.release();
                        }
                    });
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("requests", load.requests());
            out.put("concurrency", load.concurrency());
            out.put("prompt_len", load.promptLen());
            out.put("gen_len", load.genLen());
            out.put("shared_prefix_len", load.sharedPrefixLen());
            out.put("errors", new LinkedHashMap<>(errors));
            out.put("seconds", seconds);
            out.put("output_tokens", outputTokens.get());
            out.put("output_tokens_per_s", outputTokens.get() / seconds);
            out.put("ttft_ms", Percentiles.of(ttft));
            out.put("itl_ms", Percentiles.of(itl));
            out.put("e2e_ms", Percentiles.of(e2e));
            out.put("cached_prompt_tokens", cachedPromptTokens.get());
            return out;
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private void one(NemotronGrpc.NemotronBlockingStub stub, int index, int[] prompt, List<Double> ttft,
                     List<Double> itl, List<Double> e2e, AtomicLong outputTokens, AtomicLong cached,
                     Map<String, Integer> errors) {
        TokenIds.Builder ids = TokenIds.newBuilder();
        for (int id : prompt) {
            ids.addIds(id);
        }
        GenerateRequest request = GenerateRequest.newBuilder()
                .setTokenIds(ids)
                .setSampling(Sampling.newBuilder().setTemperature(0))
                .setMaxTokens(load.genLen())
                .setIgnoreEos(true)
                .setRequestId("bench-" + load.seed() + "-" + index)
                .build();
        long sent = System.nanoTime();
        long last = 0;
        List<Double> gaps = new ArrayList<>();
        double first = -1;
        long tokens = 0;
        try {
            Iterator<GenerateResponse> stream = stub.withDeadlineAfter(30, TimeUnit.MINUTES).generate(request);
            while (stream.hasNext()) {
                GenerateResponse r = stream.next();
                long now = System.nanoTime();
                if (r.hasDelta() && r.getDelta().getTokenIdsCount() > 0) {
                    int n = r.getDelta().getTokenIdsCount();
                    if (first < 0) {
                        first = (now - sent) / 1e6;
                    } else {
                        // a message carrying n tokens spreads its gap over them
                        double gap = (now - last) / 1e6 / n;
                        for (int k = 0; k < n; k++) {
                            gaps.add(gap);
                        }
                    }
                    tokens += n;
                    last = now;
                } else if (r.hasFinal()) {
                    cached.addAndGet(r.getFinal().getUsage().getCachedPromptTokens());
                }
            }
            ttft.add(first);
            itl.addAll(gaps);
            e2e.add((System.nanoTime() - sent) / 1e6);
            outputTokens.addAndGet(tokens);
        } catch (StatusRuntimeException e) {
            errors.merge(e.getStatus().getCode().name(), 1, Integer::sum);
        } catch (RuntimeException e) {
            errors.merge(Status.Code.UNKNOWN.name(), 1, Integer::sum);
        }
    }

    private int vocab(ManagedChannel channel) {
        int fromServer = 0;
        try {
            fromServer = (int) NemotronGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .getModelInfo(GetModelInfoRequest.getDefaultInstance()).getVocabSize();
        } catch (StatusRuntimeException e) {
            throw new IllegalStateException("cannot reach " + load.target() + ": " + e.getStatus());
        }
        int limit = load.vocabLimit() > 0 ? Math.min(load.vocabLimit(), fromServer) : fromServer;
        if (limit < 4) {
            throw new IllegalStateException("the server reports a vocabulary of " + fromServer + " tokens");
        }
        return limit;
    }

    /** Prompts of random ids in [3, vocab), sharing their first sharedPrefixLen ids; the same for the same seed. */
    private List<int[]> prompts(int vocab) {
        SplittableRandom random = new SplittableRandom(load.seed());
        int[] prefix = new int[load.sharedPrefixLen()];
        for (int i = 0; i < prefix.length; i++) {
            prefix[i] = random.nextInt(3, vocab);
        }
        List<int[]> prompts = new ArrayList<>(load.requests());
        for (int r = 0; r < load.requests(); r++) {
            int[] p = new int[load.promptLen()];
            System.arraycopy(prefix, 0, p, 0, prefix.length);
            for (int i = prefix.length; i < p.length; i++) {
                p[i] = random.nextInt(3, vocab);
            }
            prompts.add(p);
        }
        return prompts;
    }
}
