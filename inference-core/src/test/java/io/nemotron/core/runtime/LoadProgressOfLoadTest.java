package io.nemotron.core.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.engine.Generator;
import io.nemotron.core.engine.SamplingParams;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.testing.TinyFp8Checkpoint;
import io.nemotron.core.weights.DType;
import io.nemotron.core.weights.LoadProgress;
import io.nemotron.core.weights.Progress;
import io.nemotron.core.weights.SafetensorsReader;
import io.nemotron.core.weights.Tensor;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CPU load's progress counts exactly the bytes the backend copies: every BF16 matrix the forward pass multiplies
 * by, as the checkpoint lists them, and the load ends by itself at the first forward pass that copied the last one.
 */
class LoadProgressOfLoadTest {

    /**
     * Bytes of the checkpoint's 2-D BF16 and FP8 tensors that are multiplied by: all but an untied embedding
     * (gathered).
     */
    static long matrixBytes(Path dir) {
        boolean tied = ModelConfigLoader.load(dir).tieWordEmbeddings();
        long bytes = 0;
        try (SafetensorsReader r = SafetensorsReader.open(dir)) {
            for (String name : r.names()) {
                Tensor t = r.tensor(name);
                boolean multiplied = tied ? !name.equals("lm_head.weight") : !name.equals("model.embed_tokens.weight");
                if (t.dtype() == DType.BF16 && t.shape().length == 2 && multiplied) {
                    bytes += t.numel() * 2;
                } else if (t.dtype() == DType.F8_E4M3 && t.shape().length == 2 && multiplied) {
                    bytes += t.numel();
                }
            }
        }
        return bytes;
    }

    @Test
    void theFirstForwardPassPacksEveryMatrixOnce_andTheLoadEndsThere() {
        Path dir = Reference.tinyBf16();
        long expected = matrixBytes(dir);
        assertTrue(expected > 0, "a BF16 checkpoint has matrices to pack");
        LoadProgress progress = LoadProgress.start("tiny");
        try (LoadedModel model = LoadedModel.openCpu(dir, 1, 64, 1, KvCacheChoice.of(KvCacheDtype.FP32), progress)) {
            Progress before = progress.snapshot().total();
            assertEquals(0, before.doneBytes());
            assertEquals(expected, before.totalBytes());
            assertFalse(progress.finished(), "the packing is still to come (the warm-up's first step)");

            new Generator(model.forwardPass(), null).generate(new int[] {1, 2, 3},
                    SamplingParams.builder().temperature(0).maxTokens(2).ignoreEos(true).build(), null);

            Progress after = progress.snapshot().total();
            assertEquals(expected, after.doneBytes(), "each matrix counted once, the second step packs nothing");
            assertTrue(progress.finished());
            assertEquals("tiny (pack)", progress.snapshot().phases().getFirst().label());
        }
    }

    @Test
    void anFp8CheckpointCountsItsCodesOneByteAWeight(@TempDir Path work) {
        Path dir = TinyFp8Checkpoint.write(work.resolve("nas-tiny-fp8"), false);
        long expected = matrixBytes(dir);
        assertTrue(expected > 0);
        LoadProgress progress = LoadProgress.start("tiny-fp8");
        try (LoadedModel model = LoadedModel.openCpu(dir, 1, 64, 1, KvCacheChoice.of(KvCacheDtype.FP32), progress)) {
            assertEquals(expected, progress.snapshot().total().totalBytes());
            new Generator(model.forwardPass(), null).generate(new int[] {1, 2, 3},
                    SamplingParams.builder().temperature(0).maxTokens(2).ignoreEos(true).build(), null);
            assertEquals(expected, progress.snapshot().total().doneBytes());
            assertTrue(progress.finished());
        }
    }

    @Test
    void splitOverTwoCpuRanks_eachRankPacksItsShardOnce() {
        Path dir = Reference.tinyBf16();
        long whole = matrixBytes(dir);
        LoadProgress progress = LoadProgress.start("tiny");
        try (LoadedModel model = LoadedModel.openCpu(dir, 2, 64, 2, KvCacheChoice.of(KvCacheDtype.FP32), progress)) {
            assertFalse(progress.finished());
            new Generator(model.forwardPass(), null).generate(new int[] {1, 2, 3},
                    SamplingParams.builder().temperature(0).maxTokens(2).ignoreEos(true).build(), null);
            assertTrue(progress.finished());
            var phases = progress.snapshot().phases();
            assertEquals(List.of("tiny (pack rank 0)", "tiny (pack rank 1)"),
                    phases.stream().map(Progress::label).sorted().toList());
            long sum = 0;
            for (Progress p : phases) {
                assertEquals(p.totalBytes(), p.doneBytes(), p.label());
                // halves of the split matrices, and whole copies of what is replicated (kv heads fewer than ranks)
                assertTrue(p.totalBytes() >= whole / 2 && p.totalBytes() < whole, p.label() + ": " + p.totalBytes());
                sum += p.totalBytes();
            }
            assertTrue(sum >= whole, "the ranks together hold every matrix: " + sum + " < " + whole);
        }
    }
}
