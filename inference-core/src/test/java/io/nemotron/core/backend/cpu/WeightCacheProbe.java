package io.nemotron.core.backend.cpu;

import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.model.SingleSequence;
import io.nemotron.core.runtime.KvCacheChoice;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.weights.LoadProgress;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * A separate process for the cache safety tests: opens a checkpoint with the weight cache on ({@code args[1]} the
 * fallback folder, {@code "off"}: no cache), runs {@link #PROMPT}, and prints the last row's logits as raw float bits
 * on stdout. Its log (slf4j-simple) goes to stderr, where the tests look for the rebuild warning.
 */
public final class WeightCacheProbe {
    static final int[] PROMPT = {1, 17, 42, 5, 99, 3, 250};

    private WeightCacheProbe() {}

    public static void main(String[] args) {
        WeightCacheOptions options = args[1].equals("off") ? WeightCacheOptions.OFF
                : WeightCacheOptions.on(Path.of(args[1]));
        System.out.println(logitBits(Path.of(args[0]), options));
    }

    /** The logits of {@link #PROMPT}'s last token as raw bits, comma separated: equal strings, equal bits. */
    static String logitBits(Path model, WeightCacheOptions options) {
        try (LoadedModel m = LoadedModel.openCpu(model, 2, LoadedModel.DEFAULT_PREFILL_CHUNK, 1,
                KvCacheChoice.of(KvCacheDtype.FP32), LoadProgress.start(model.toString()), options)) {
            float[] logits = new float[m.config().vocabSize()];
            new SingleSequence(m.forwardPass(), 64).forward(PROMPT, PROMPT.length, logits);
            StringJoiner out = new StringJoiner(",");
            for (float f : logits) {
                out.add(Integer.toHexString(Float.floatToRawIntBits(f)));
            }
            return out.toString();
        }
    }

    /** Equal logit bits, or a failure naming the first logit that differs (not two screens of hex). */
    static void assertSameBits(String expected, String actual, String what) {
        String[] e = expected.split(",");
        String[] a = actual.split(",");
        for (int i = 0; i < Math.max(e.length, a.length); i++) {
            String ei = i < e.length ? e[i] : "(none)";
            String ai = i < a.length ? a[i] : "(none)";
            if (!ei.equals(ai)) {
                throw new AssertionError(what + ": logit " + i + " is " + ai + ", the uncached load's is " + ei);
            }
        }
    }

    /** A command that runs this class in a new JVM with this JVM's flags and class path. */
    static List<String> command(Path model, Path fallback) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-javaagent") && !a.startsWith("-agentlib") && !a.startsWith("-Dsurefire")) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(WeightCacheProbe.class.getName());
        cmd.add(model.toString());
        cmd.add(fallback == null ? "off" : fallback.toString());
        return cmd;
    }
}
