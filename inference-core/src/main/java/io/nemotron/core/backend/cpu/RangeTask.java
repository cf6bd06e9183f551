package io.nemotron.core.backend.cpu;

/** One thread's share of a {@link CpuThreadPool#parallelFor}: the half-open index range [from, to). */
@FunctionalInterface
public interface RangeTask {
    void run(int from, int to);
}
