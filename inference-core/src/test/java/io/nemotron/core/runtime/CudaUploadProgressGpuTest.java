package io.nemotron.core.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.cuda.CudaGraphs;
import io.nemotron.core.config.ModelConfigLoader;
import io.nemotron.core.testing.CudaAvailability;
import io.nemotron.core.testing.Reference;
import io.nemotron.core.weights.LoadProgress;
import io.nemotron.core.weights.Progress;
import io.nemotron.core.weights.SafetensorsReader;
import io.nemotron.core.weights.Tensor;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA load's progress is its weight upload: one phase per rank, each counting the bytes that rank copies to its
 * GPU; the load has ended when the model is open. Skipped without a GPU (the emulator has 8).
 */
@Tag("gpu")
class CudaUploadProgressGpuTest {

    /** BF16 bytes of every tensor the model uses, each once: a tied head is the embedding. */
    private static long uploadBytes(Path dir) {
        boolean tied = ModelConfigLoader.load(dir).tieWordEmbeddings();
        long bytes = 0;
        try (SafetensorsReader r = SafetensorsReader.open(dir)) {
            for (String name : r.names()) {
                if (!(tied && name.equals("lm_head.weight"))) {
                    Tensor t = r.tensor(name);
                    bytes += t.numel() * 2;
                }
            }
        }
        return bytes;
    }

    @Test
    void oneGpuUploadsEveryWeightOnce() {
        CudaAvailability.assumeDevice();
        Path dir = Reference.tinyBf16();
        LoadProgress progress = LoadProgress.start("tiny");
        try (LoadedModel model = LoadedModel.openCuda(dir, 0, 64, 1, CudaGraphs.OFF, KvCacheChoice.AUTO, progress)) {
            assertTrue(progress.finished(), "the upload is the load");
            Progress upload = progress.snapshot().phases().getFirst();
            assertEquals("tiny (upload)", upload.label());
            assertEquals(uploadBytes(dir), upload.totalBytes());
            assertEquals(upload.totalBytes(), upload.doneBytes());
        }
    }

    @Test
    void eachRankCountsItsOwnUpload() {
        CudaAvailability.assumeDevice();
        Path dir = Reference.tinyBf16();
        LoadProgress progress = LoadProgress.start("tiny");
        try (LoadedModel model = LoadedModel.openCuda(dir, 0, 64, 2, CudaGraphs.OFF, KvCacheChoice.AUTO, progress)) {
            assertTrue(progress.finished());
            List<Progress> phases = progress.snapshot().phases();
            assertEquals(List.of("tiny (upload rank 0)", "tiny (upload rank 1)"),
                    phases.stream().map(Progress::label).sorted().toList());
            long whole = uploadBytes(dir);
            for (Progress p : phases) {
                assertEquals(p.totalBytes(), p.doneBytes(), p.label());
                // a rank holds its halves of the split matrices and a copy of what is replicated (norms, kv heads)
                assertTrue(p.totalBytes() >= whole / 2 && p.totalBytes() < whole, p.label() + ": " + p.totalBytes());
            }
        }
    }
}
