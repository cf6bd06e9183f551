package io.nemotron.service.bench;

/**
 * What {@link MemoryBenchmark} measured of a server process after it served: its resident memory and the parts the
 * issue's bound is made of.
 *
 * @param pid                the server's process id
 * @param weightBytes        the checkpoint's safetensors bytes
 * @param kvPoolBytes        the engine's KV pool: its capacity in tokens × KV bytes per token (GetModelInfo)
 * @param heapUsedBytes      JVM heap in use (the process's own jvm_memory_used_bytes, area heap)
 * @param heapCommittedBytes JVM heap committed (jvm_memory_committed_bytes, area heap)
 * @param heapMaxBytes       JVM heap limit (jvm_memory_max_bytes, area heap; -Xmx)
 * @param nonHeapUsedBytes   metaspace, code cache and the like (jvm_memory_used_bytes, area nonheap)
 * @param memory             /proc's account of the process after the requests
 * @param requests           requests served before the reading
 * @param generatedTokens    tokens they generated
 */
public record ServedMemory(long pid, long weightBytes, long kvPoolBytes, long heapUsedBytes, long heapCommittedBytes,
                           long heapMaxBytes, long nonHeapUsedBytes, ProcessMemory memory, int requests,
                           long generatedTokens) {

    public MemoryBound bound() {
        return new MemoryBound(weightBytes, kvPoolBytes);
    }

    public boolean withinBound() {
        return bound().holds(memory.vmRss());
    }
}
