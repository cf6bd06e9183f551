package io.nemotron.core.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.BlockCounts;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.config.ModelStats;
import io.nemotron.core.config.RopeScaling;
import io.nemotron.core.engine.GenerationResult;
import io.nemotron.core.engine.Generator;
import io.nemotron.core.engine.SamplingParams;
import io.nemotron.core.runtime.LoadedModel;
import io.nemotron.core.weights.CheckpointLayout;
import io.nemotron.core.weights.SafetensorsReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo checkpoint writer: shape, parameter count, reuse, repair, and that it loads and generates. */
class DemoModelTest {
    private static final int H = 512;

    @TempDir
    static Path sharedCache;
    private static Path dir;
    private static long firstWriteMillis;

    @BeforeAll
    static void writeOnce() {
        long start = System.nanoTime();
        dir = DemoModel.ensure(sharedCache);
        firstWriteMillis = (System.nanoTime() - start) / 1_000_000;
        System.out.println("demo model written in " + firstWriteMillis + " ms");
    }

    @Test
    void configHasEveryBlockVariantAsIntended() throws Exception {
        ModelConfig c = ModelConfigLoader.load(dir);
        assertEquals("DeciLMForCausalLM", c.architecture());
        assertEquals(List.of(
                new BlockConfig(new AttentionKind.Full(8), new FfnKind.Mlp(1536)),
                new BlockConfig(new AttentionKind.Full(2), new FfnKind.Mlp(1024)),
                new BlockConfig(new AttentionKind.Linear(), new FfnKind.Mlp(1536)),
                new BlockConfig(new AttentionKind.Full(4), new FfnKind.Linear()),
                new BlockConfig(new AttentionKind.None(), new FfnKind.Mlp(2048)),
                new BlockConfig(new AttentionKind.None(), new FfnKind.None()),
                new BlockConfig(new AttentionKind.Full(1), new FfnKind.Mlp(1024)),
                new BlockConfig(new AttentionKind.Full(2), new FfnKind.None()),
                new BlockConfig(new AttentionKind.Linear(), new FfnKind.Linear()),
                new BlockConfig(new AttentionKind.Full(8), new FfnKind.Mlp(1536))), c.blocks());
        // census by hand: 6 GQA (groups 1, 4, 2, 8, 4, 1), 2 linear, 2 no-op attention; 6 MLP, 2 linear, 2 no-op FFN
        assertEquals(new BlockCounts(6, 2, 2, 6, 2, 2), ModelStats.of(c).blockCounts());
        assertEquals(H, c.hiddenSize());
        assertEquals(8, c.numAttentionHeads());
        assertEquals(DemoTokenizer.VOCAB_SIZE, c.vocabSize());
        assertEquals(4096, c.maxPositionEmbeddings());
        assertEquals(new RopeScaling(8.0, 1.0, 4.0, 512), c.ropeScaling());
        assertEquals(List.of(DemoTokenizer.id("<|end_of_text|>"), DemoTokenizer.id("<|eom_id|>"),
                DemoTokenizer.id("<|eot_id|>")), c.eosTokenIds());
        assertEquals(DemoTokenizer.id("<|begin_of_text|>"), c.bosTokenId());
        assertEquals("bfloat16", c.torchDtype());
        assertTrue(DemoModel.isDemo(dir));
        assertTrue(Files.readString(dir.resolve("DEMO.md")).contains("RANDOM"));
    }

    @Test
    void parameterCountMatchesAnIndependentCount() {
        long embedAndHead = 2L * DemoTokenizer.VOCAB_SIZE * H; // untied
        long finalNorm = H;
        long attention = fullAttention(8) + fullAttention(2) + linear() + fullAttention(4) + 0 + 0 + fullAttention(1)
                + fullAttention(2) + linear() + fullAttention(8);
        long ffn = mlp(1536) + mlp(1024) + mlp(1536) + linear() + mlp(2048) + 0 + mlp(1024) + 0 + linear() + mlp(1536);
        long expected = embedAndHead + finalNorm + attention + ffn;
        assertEquals(21_307_904L, expected); // pinned: a shape change must be deliberate (bump FORMAT_VERSION)
        assertEquals(expected, ModelStats.of(ModelConfigLoader.load(dir)).parameters());
        try (LoadedModel m = LoadedModel.openCpu(dir, 2)) {
            assertEquals(expected, m.parameters());
        }
    }

    private static long fullAttention(int kvHeads) {
        return H + 2L * H * H + 2L * kvHeads * 64 * H; // norm, q and o, k and v
    }

    private static long mlp(int width) {
        return H + 3L * H * width; // norm, gate, up, down
    }

    private static long linear() {
        return H + (long) H * H; // norm, one hidden x hidden matrix
    }

    @Test
    void checkpointValidatesAgainstItsConfig() {
        try (SafetensorsReader weights = SafetensorsReader.open(dir)) {
            CheckpointLayout.validate(ModelConfigLoader.load(dir), weights);
        }
    }

    @Test
    void greedyGenerationIsRepeatable() {
        int[] first = generate(dir);
        assertEquals(12, first.length);
        assertArrayEquals(first, generate(dir));
    }

    private static int[] generate(Path modelDir) {
        try (LoadedModel m = LoadedModel.openCpu(modelDir, 2)) {
            int[] prompt = m.tokenizer().encode("Hello, demo model!", true);
            SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(12).ignoreEos(true).build();
            GenerationResult r = new Generator(m.transformer(), m.tokenizer()).generate(prompt, greedy, null);
            assertEquals(r.text(), m.tokenizer().decode(r.outputIds(), true));
            return r.outputIds();
        }
    }

    @Test
    void secondEnsureReusesTheFolder() throws Exception {
        FileTime weights = Files.getLastModifiedTime(dir.resolve("model.safetensors"));
        FileTime marker = Files.getLastModifiedTime(dir.resolve(DemoModel.MARKER));
        long start = System.nanoTime();
        assertEquals(dir, DemoModel.ensure(sharedCache));
        System.out.println("demo model reused in " + (System.nanoTime() - start) / 1_000_000 + " ms");
        assertEquals(weights, Files.getLastModifiedTime(dir.resolve("model.safetensors")));
        assertEquals(marker, Files.getLastModifiedTime(dir.resolve(DemoModel.MARKER)));
    }

    @Test
    void writingTakesAFewSeconds() {
        assertTrue(firstWriteMillis < 15_000, "took " + firstWriteMillis + " ms"); // slack for a shared 2-core box
    }

    @Test
    void writesAreByteIdenticalAcrossMachines(@TempDir Path other) throws Exception {
        Path again = DemoModel.ensure(other);
        for (String file : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "DEMO.md")) {
            assertEquals(-1L, Files.mismatch(dir.resolve(file), again.resolve(file)), file);
        }
    }

    @Test
    void partialFolderIsRewritten(@TempDir Path cache) throws Exception {
        Path d = DemoModel.ensure(cache);
        long size = Files.size(d.resolve("model.safetensors"));
        // a writer that died mid-way: weights cut short, marker never written
        Files.delete(d.resolve(DemoModel.MARKER));
        Files.write(d.resolve("model.safetensors"), new byte[100]);
        assertFalse(DemoModel.isComplete(d));
        assertEquals(d, DemoModel.ensure(cache));
        assertTrue(DemoModel.isComplete(d));
        assertEquals(size, Files.size(d.resolve("model.safetensors")));
        assertArrayEquals(generate(dir), generate(d));
    }

    @Test
    void otherVersionIsRewrittenAndLeftoversRemoved(@TempDir Path cache) throws Exception {
        Path d = DemoModel.ensure(cache);
        Files.writeString(d.resolve(DemoModel.MARKER), "demo-format-version: 0\n");
        Path leftover = Files.createDirectories(cache.resolve(".tmp-crashed-writer"));
        Files.writeString(leftover.resolve("model.safetensors"), "half");
        // an hour in the past: a rewrite shows as a new modification time even on a file system with coarse stamps
        FileTime before = FileTime.fromMillis(System.currentTimeMillis() - 3_600_000);
        Files.setLastModifiedTime(d.resolve("model.safetensors"), before);
        assertEquals(d, DemoModel.ensure(cache));
        assertTrue(DemoModel.isComplete(d));
        assertNotEquals(before, Files.getLastModifiedTime(d.resolve("model.safetensors")));
        assertFalse(Files.exists(leftover));
        try (var entries = Files.list(cache)) {
            assertEquals(List.of(".lock", DemoModel.FOLDER),
                    entries.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void concurrentFirstStartsShareOneCompleteFolder(@TempDir Path cache) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            Callable<Path> start = () -> DemoModel.ensure(cache);
            List<Future<Path>> both = pool.invokeAll(List.of(start, start));
            assertEquals(both.get(0).get(), both.get(1).get());
            assertTrue(DemoModel.isComplete(both.get(0).get()));
        }
    }

    @Test
    void ordinaryCheckpointIsNotDemo(@TempDir Path other) throws Exception {
        assertFalse(DemoModel.isDemo(other));
        Files.writeString(other.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"]}");
        assertFalse(DemoModel.isDemo(other));
    }
}
