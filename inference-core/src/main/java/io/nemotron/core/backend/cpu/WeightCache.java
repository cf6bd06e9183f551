package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.WeightSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CPU backend's weights in their run-time layout, written once into a cache file and memory-mapped on later
 * starts (as a GGUF file is llama.cpp's run-time layout), so that the process holds one copy of the weights: the
 * cache file's pages. Once the cache is mapped the caller closes the checkpoint's own mapping.
 *
 * <p>Where: {@code <model>/.nemotron-cache/} when the model folder is writable, else a folder per model under the
 * configured fallback folder. An existing cache is read from either place; a missing, truncated, corrupt or stale one
 * is rebuilt with a WARN naming the reason, so a bad cache costs a rebuild and never yields wrong numbers.
 */
public final class WeightCache {
    private static final Logger LOG = LoggerFactory.getLogger(WeightCache.class);
    static final String BESIDE_FOLDER = ".nemotron-cache";

    private WeightCache() {}

    /**
     * The mapped cache for rank {@code rank} of {@code ranks} of the checkpoint in {@code dir} (whose tensors
     * {@code source} maps, already validated), built first when needed; null when {@code options} turn the cache off
     * or no folder can take it (said in a WARN: the model then packs in memory as without a cache).
     * {@code buildProgress} receives the source bytes of each chunk a build writes. {@code keyBeforeMapping} is
     * {@link #keyOf} taken before {@code source} was mapped (null: unknown): if the checkpoint's files changed since
     * (a symlinked folder flipped, a shard replaced by rename), what is mapped may not be what the key now describes,
     * and the cache is not used.
     */
    public static CachedWeights open(Path dir, WeightSource source, boolean tiedEmbeddings, int rank, int ranks,
                                     WeightCacheOptions options, LongConsumer buildProgress,
                                     Map<String, String> keyBeforeMapping) {
        if (!options.enabled()) {
            return null;
        }
        Map<String, String> key = WeightCacheKey.of(dir, rank, ranks);
        if (keyBeforeMapping != null && !keyBeforeMapping.equals(key)) {
            LOG.warn("weight cache not used for {}: the checkpoint's files changed while it was being loaded", dir);
            return null;
        }
        String fileName = "cpu-weights-tp" + ranks + "-rank" + rank + ".bin";
        Path beside = dir.resolve(BESIDE_FOLDER).resolve(fileName);
        Path fallback = fallbackFolder(dir, options.fallbackDir()).resolve(fileName);
        List<String> reasons = new ArrayList<>();
        for (Path candidate : List.of(beside, fallback)) {
            if (!Files.isRegularFile(candidate)) {
                continue;
            }
            try {
                long start = System.nanoTime();
                CachedWeights cached = WeightCacheReader.map(candidate, key, source, tiedEmbeddings, options.verify());
                LOG.info("weight cache {} mapped in {} ms ({} bytes{})", candidate, (System.nanoTime() - start) / 1_000_000,
                        cached.bytes(), options.verify() ? ", checksums verified" : "");
                return cached;
            } catch (StaleWeightCache e) {
                reasons.add(candidate + ": " + e.getMessage());
            }
        }
        Path target = writableOrCreatable(beside.getParent()) ? beside : fallback;
        if (!reasons.isEmpty()) {
            LOG.warn("weight cache rebuilt at {}: {}", target, String.join("; ", reasons));
        }
        if (!writableOrCreatable(target.getParent())) {
            LOG.warn("weight cache off for {}: neither the model folder nor {} can be written (set --weight-cache-dir)",
                    dir, options.fallbackDir());
            return null;
        }
        try {
            long start = System.nanoTime();
            WeightCacheWriter.write(target, key, source, tiedEmbeddings, buildProgress);
            LOG.info("weight cache {} built in {} ms", target, (System.nanoTime() - start) / 1_000_000);
            // just written and checksummed while writing: verifying again would only re-read it
            return WeightCacheReader.map(target, key, source, tiedEmbeddings, false);
        } catch (IOException e) {
            LOG.warn("weight cache off for {}: cannot write {}: {}", dir, target, e.getMessage());
            return null;
        } catch (StaleWeightCache e) {
            // another process replaced it between our rename and our map with a file for other weights: refuse it
            LOG.warn("weight cache off for {}: {} changed while it was opened: {}", dir, target, e.getMessage());
            return null;
        }
    }

    /** As above, without a key taken before mapping (tests that map the checkpoint themselves). */
    public static CachedWeights open(Path dir, WeightSource source, boolean tiedEmbeddings, int rank, int ranks,
                                     WeightCacheOptions options, LongConsumer buildProgress) {
        return open(dir, source, tiedEmbeddings, rank, ranks, options, buildProgress, null);
    }

    /**
     * The cache key of the checkpoint in {@code dir} as its files are now (sizes, times, inodes, header and data
     * samples): take it before mapping the checkpoint and hand it to {@link #open}.
     */
    public static Map<String, String> keyOf(Path dir, int rank, int ranks) {
        return WeightCacheKey.of(dir, rank, ranks);
    }

    /** The fallback folder of one model: named by its absolute path, so two models never share a file. */
    static Path fallbackFolder(Path dir, Path base) {
        Path abs = dir.toAbsolutePath().normalize();
        String name = abs.getFileName() == null ? "root" : abs.getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_");
        String hash = WeightCacheKey.sha256(abs.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return base.resolve(name + "-" + hash.substring(0, 16));
    }

    /**
     * Whether the model folder may take a cache: writable to this process AND with a write bit in its mode. NOTE: root
     * may write into a folder of mode 555 (a shared, read-only reference folder); such a folder is treated as
     * read-only, as its owner meant.
     */
    static boolean writable(Path dir) {
        if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
            return false;
        }
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
            return mode.contains(PosixFilePermission.OWNER_WRITE) || mode.contains(PosixFilePermission.GROUP_WRITE)
                    || mode.contains(PosixFilePermission.OTHERS_WRITE);
        } catch (UnsupportedOperationException | IOException e) {
            return true;
        }
    }

    private static boolean writableOrCreatable(Path folder) {
        Path p = folder;
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        return p != null && writable(p);
    }
}
