package io.nemotron.service.bench;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.nemotron.api.v1.GenerateRequest;
import io.nemotron.api.v1.GetModelInfoRequest;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.Sampling;
import io.nemotron.api.v1.TokenIds;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

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
        ManagedChannel channel = channel(load.target());
        try {
            int vocab = vocab(channel, load);
            NemotronGrpc.NemotronStub stub = NemotronGrpc.newStub(channel);
            // unmeasured warm-up: the client's own JIT compilation would otherwise take CPU from the measured server
            warmUp(stub, vocab);
            return measure(stub, vocab);
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Several loads against one server from this one client process, in {@code rounds} interleaved rounds (all
     * loads, then all again, ...), after running every load once unmeasured. One warm client matters on a small
     * machine: a fresh client JVM per load spends its first seconds compiling, on the cores the server measures on.
     */
    public static List<Map<String, Object>> runAll(List<ServeLoad> loads, int rounds) throws InterruptedException {
        ManagedChannel channel = channel(loads.getFirst().target());
        try {
            NemotronGrpc.NemotronStub stub = NemotronGrpc.newStub(channel);
            int[] vocabs = new int[loads.size()];
            for (int i = 0; i < loads.size(); i++) {
                vocabs[i] = vocab(channel, loads.get(i));
                // warm-up round: the same shapes, other prompts (seed flipped), so the prefix cache holds nothing
                // the measured rounds will ask for
                ServeLoad l = loads.get(i);
                new ServeBenchmark(new ServeLoad(l.target(), l.concurrency(), l.requests(), l.promptLen(), l.genLen(),
                        0, l.rate(), l.vocabLimit(), ~l.seed())).measure(stub, vocabs[i]);
            }
            List<Map<String, Object>> results = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < loads.size(); i++) {
                    // fresh prompts each round: a repeat would be served from the prefix cache
                    ServeLoad l = loads.get(i);
                    Map<String, Object> r = new ServeBenchmark(new ServeLoad(l.target(), l.concurrency(), l.requests(),
                            l.promptLen(), l.genLen(), l.sharedPrefixLen(), l.rate(), l.vocabLimit(),
                            l.seed() + 7919L * round)).measure(stub, vocabs[i]);
                    r.put("round", round + 1);
                    results.add(r);
                }
            }
            return results;
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private static ManagedChannel channel(String target) {
        return ManagedChannelBuilder.forTarget(target).usePlaintext().directExecutor().build();
    }

    private Map<String, Object> measure(NemotronGrpc.NemotronStub stub, int vocab) throws InterruptedException {
        List<int[]> prompts = prompts(vocab);
        List<StreamTimer> timers = new ArrayList<>(load.requests());
        Semaphore slots = new Semaphore(load.concurrency());
        CountDownLatch done = new CountDownLatch(load.requests());
        SplittableRandom arrivals = new SplittableRandom(load.seed() + 1);
        long start = System.nanoTime();
        for (int i = 0; i < load.requests(); i++) {
            if (load.rate() > 0 && i > 0) {
                // Poisson arrivals: exponential gaps with mean 1/rate
                double gap = -Math.log(1 - arrivals.nextDouble()) / load.rate();
                Thread.sleep((long) (gap * 1000));
            }
            slots.acquire();
            StreamTimer timer = new StreamTimer(() -> {
                slots.release();
                done.countDown();
            });
            timers.add(timer);
            stub.withDeadlineAfter(30, TimeUnit.MINUTES).generate(request(prompts.get(i), "bench-" + load.seed() + "-" + i), timer);
        }
        if (!done.await(60, TimeUnit.MINUTES)) {
            throw new IllegalStateException("requests still running after 60 minutes");
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return report(timers, seconds);
    }

    private Map<String, Object> report(List<StreamTimer> timers, double seconds) {
        List<Double> ttft = new ArrayList<>();
        List<Double> itl = new ArrayList<>();
        List<Double> e2e = new ArrayList<>();
        Map<String, Integer> errors = new LinkedHashMap<>();
        long outputTokens = 0;
        long cached = 0;
        for (StreamTimer t : timers) {
            outputTokens += t.tokens;
            if (t.error != null) {
                errors.merge(t.error.getCode().name(), 1, Integer::sum);
                continue;
            }
            ttft.add(t.firstTokenMs);
            itl.addAll(t.gaps);
            e2e.add(t.endToEndMs);
            cached += t.cachedPromptTokens;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("requests", load.requests());
        out.put("concurrency", load.concurrency());
        out.put("prompt_len", load.promptLen());
        out.put("gen_len", load.genLen());
        out.put("shared_prefix_len", load.sharedPrefixLen());
        out.put("errors", errors);
        out.put("seconds", seconds);
        out.put("output_tokens", outputTokens);
        out.put("output_tokens_per_s", outputTokens / seconds);
        out.put("ttft_ms", Percentiles.of(ttft));
        out.put("itl_ms", Percentiles.of(itl));
        out.put("e2e_ms", Percentiles.of(e2e));
        out.put("cached_prompt_tokens", cached);
        return out;
    }

    /** A few short requests with their own random prompts (no shared prefix: they must not seed the cache). */
    private void warmUp(NemotronGrpc.NemotronStub stub, int vocab) throws InterruptedException {
        SplittableRandom random = new SplittableRandom(~load.seed());
        int n = Math.min(4, load.concurrency());
        CountDownLatch done = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            int[] prompt = new int[Math.min(8, load.promptLen())];
            for (int k = 0; k < prompt.length; k++) {
                prompt[k] = random.nextInt(3, vocab);
            }
            GenerateRequest r = request(prompt, "bench-warmup-" + load.seed() + "-" + i).toBuilder()
                    .setMaxTokens(Math.min(16, load.genLen())).build();
            stub.withDeadlineAfter(5, TimeUnit.MINUTES).generate(r, new StreamTimer(done::countDown));
        }
        done.await(5, TimeUnit.MINUTES);
    }

    private GenerateRequest request(int[] prompt, String id) {
        TokenIds.Builder ids = TokenIds.newBuilder();
        for (int t : prompt) {
            ids.addIds(t);
        }
        return GenerateRequest.newBuilder()
                .setTokenIds(ids)
                .setSampling(Sampling.newBuilder().setTemperature(0))
                .setMaxTokens(load.genLen())
                .setIgnoreEos(true)
                .setRequestId(id)
                .build();
    }

    private static int vocab(ManagedChannel channel, ServeLoad load) {
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
