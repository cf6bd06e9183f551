package io.nemotron.core.backend.cpu;

import io.nemotron.core.weights.Tensor;
import io.nemotron.core.weights.WeightSource;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Set;

/**
 * A mapped weight cache file as a {@link WeightSource}: the model's one resident copy of its weights. Raw tensors are
 * slices of the mapping; a packed BF16 or FP8 matrix is a tensor with its name, dtype and shape but EMPTY data (its
 * bytes exist only in the packed layout, which the {@link CpuBackend} asks for through {@link #packed} and
 * {@link #packedF8}): code that read it row-major would fail at once instead of computing with wrong numbers.
 */
public final class CachedWeights implements WeightSource {
    private final Path file;
    private final Arena arena;
    private final MemorySegment whole;
    private final Map<String, WeightCacheEntry> entries;

    CachedWeights(Path file, Arena arena, MemorySegment whole, Map<String, WeightCacheEntry> entries) {
        this.file = file;
        this.arena = arena;
        this.whole = whole;
        this.entries = entries;
    }

    /** The cache file this maps. */
    public Path file() {
        return file;
    }

    /** Bytes of the mapping (the weights' resident size once every page is touched). */
    public long bytes() {
        return whole.byteSize();
    }

    @Override
    public Tensor tensor(String name) {
        WeightCacheEntry e = entry(name);
        MemorySegment data = e.layout() == CachedLayout.RAW ? whole.asSlice(e.offset(), e.bytes()) : MemorySegment.NULL;
        return new Tensor(name, e.dtype(), e.shape().clone(), data);
    }

    /** {@code weight} in the packed layout, when this cache holds it so (same name and shape); else null. */
    PackedBF16 packed(Tensor weight) {
        WeightCacheEntry e = entries.get(weight.name());
        if (e == null || e.layout() != CachedLayout.BF16_PACKED || !e.sameShape(weight.shape())) {
            return null;
        }
        return PackedBF16.over(e.name(), whole.asSlice(e.offset(), e.bytes()), weight.rows(), weight.cols());
    }

    /**
     * {@code weight} in {@link PackedF8}'s layout (with {@code weight}'s scales), when this cache holds it so; else
     * null.
     */
    PackedF8 packedF8(Tensor weight) {
        WeightCacheEntry e = entries.get(weight.name());
        if (e == null || e.layout() != CachedLayout.FP8_PACKED || !e.sameShape(weight.shape())) {
            return null;
        }
        return new PackedF8(e.name(), whole.asSlice(e.offset(), e.bytes()), weight.rows(), weight.cols(),
                weight.requireScales());
    }

    private WeightCacheEntry entry(String name) {
        WeightCacheEntry e = entries.get(name);
        if (e == null) {
            throw new io.nemotron.core.weights.WeightsException("no tensor '" + name + "' in weight cache " + file);
        }
        return e;
    }

    @Override
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(entries.keySet());
    }

    @Override
    public String description() {
        return "weight cache " + file;
    }

    /** Unmaps the file; tensors handed out before become unusable. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
