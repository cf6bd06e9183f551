package io.nemotron.service.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.demo.DemoModel;
import io.nemotron.core.engine.Generator;
import io.nemotron.core.engine.SamplingParams;
import io.nemotron.core.runtime.KvCacheChoice;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.weights.LoadProgress;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What `generate` and `bench` print on stderr while a model loads: a real CPU load of the demo model (packed in its
 * first forward pass), slowed by a sleep per byte packed so that it takes seconds; and a fast load, which prints nothing.
 */
class LoadProgressDisplayTest {
    // the demo's ~45 MB show in MB (GB from a GB up)
    private static final String LINE = "loading demo: [0-9.]+ of [0-9.]+ MB \\([0-9]+%\\), [0-9.]+ MB/s, ETA ([0-9]+s|\\?)";

    /** Loads {@code dir} on the CPU counting into {@code progress}, through its first token. */
    private static void load(Path dir, LoadProgress progress) {
        try (LoadedModel model = LoadedModel.openCpu(dir, 1, 64, 1, KvCacheChoice.of(KvCacheDtype.FP32), progress)) {
            new Generator(model.forwardPass(), null).generate(new int[] {1, 2, 3},
                    SamplingParams.builder().temperature(0).maxTokens(1).ignoreEos(true).build(), null);
        }
    }

    private static LoadProgress throttled() {
        return LoadProgress.start("demo", System::nanoTime, bytes -> LockSupport.parkNanos(bytes * 50));   // ~2 s
    }

    @Test
    void notATerminal_plainLinesWhileItLoads_thenTheFinalLine(@TempDir Path cache) {
        Path dir = DemoModel.ensure(cache);
        StringWriter err = new StringWriter();
        LoadProgress progress = throttled();
        try (var display = LoadProgressDisplay.show(progress, new PrintWriter(err), false, Duration.ofMillis(100),
                Duration.ofMillis(200))) {
            load(dir, progress);
        }
        List<String> lines = List.of(err.toString().split("\n"));
        assertThat(err.toString()).doesNotContain("\r");
        assertThat(lines.size()).isGreaterThanOrEqualTo(3);
        assertThat(lines.subList(0, lines.size() - 1)).allMatch(l -> l.matches(LINE));
        assertThat(lines.getLast()).matches("loaded demo: [0-9.]+ MB in [0-9.]+ s \\([0-9.]+ MB/s\\)");
    }

    @Test
    void aTerminal_oneLineRewrittenInPlace_endedByTheFinalLine(@TempDir Path cache) {
        Path dir = DemoModel.ensure(cache);
        StringWriter err = new StringWriter();
        LoadProgress progress = throttled();
        try (var display = LoadProgressDisplay.show(progress, new PrintWriter(err), true, Duration.ofMillis(100),
                Duration.ofMillis(200))) {
            load(dir, progress);
        }
        String out = err.toString();
        assertThat(out).endsWith("\u001b[K\n").containsOnlyOnce("\n");
        List<String> shown = Arrays.stream(out.split("\r")).filter(s -> !s.isEmpty())
                .map(s -> s.replace("\u001b[K", "").strip()).toList();
        assertThat(shown.size()).isGreaterThanOrEqualTo(3);
        assertThat(shown.subList(0, shown.size() - 1)).allMatch(l -> l.matches(LINE));
        assertThat(shown.getLast()).startsWith("loaded demo: ");
    }

    @Test
    void aLoadWithinTheQuietSecondPrintsNothing(@TempDir Path cache) {
        Path dir = DemoModel.ensure(cache);
        StringWriter err = new StringWriter();
        LoadProgress progress = LoadProgress.start("demo");
        // no throttle: the demo's ~45 MB pack in well under the 10 s allowed here (the CLI allows 1 s)
        try (var display = LoadProgressDisplay.show(progress, new PrintWriter(err), false, Duration.ofSeconds(10),
                Duration.ofSeconds(5))) {
            load(dir, progress);
            assertThat(progress.finished()).isTrue();
        }
        assertThat(err.toString()).isEmpty();
    }

    /** A load that fails after a line was shown on a terminal: closing ends that line, so the error starts afresh. */
    @Test
    void aTerminal_aFailedLoadLeavesNoHalfLine() {
        StringWriter err = new StringWriter();
        LoadProgress progress = LoadProgress.start("demo");
        progress.phase("pack", 1000L).accept(300);   // never finishes: the load failed here
        try (var display = LoadProgressDisplay.show(progress, new PrintWriter(err), true, Duration.ZERO,
                Duration.ofMillis(20))) {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!err.toString().contains("(30%)") && System.nanoTime() < deadline) {
                LockSupport.parkNanos(5_000_000);
            }
        }
        assertThat(err.toString()).contains("(30%)").endsWith("\n").doesNotContain("loaded demo");
    }
}
