package io.nemotron.core.parallel.nccl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * NCCL's C API bound with {@code java.lang.foreign}: the calls tensor parallelism needs, each checked, so that a
 * failure names the operation and the ncclResult_t. Signatures are those of NCCL's src/nccl.h.in (NVIDIA/nccl);
 * handles travel as raw addresses: {@code ncclComm_t} and {@code cudaStream_t} are pointers, device buffers are
 * device addresses (0 as a stream is the legacy default stream). {@code size_t} is 64-bit (Linux x86-64/aarch64).
 *
 * <p>Threads: a collective on a communicator must come from one thread at a time (one rank thread per GPU, DESIGN);
 * {@code ncclCommInitRank} blocks until every rank has called it, so ranks initialise from their own threads (or
 * all from one inside {@link #groupStart()} / {@link #groupEnd()}), and {@link #commInitAll} does it for a whole
 * process in one call.
 */
public final class Nccl {
    /** {@code typedef struct { char internal[NCCL_UNIQUE_ID_BYTES]; } ncclUniqueId;}, passed by value to init. */
    public static final StructLayout UNIQUE_ID = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(NcclUniqueId.BYTES, JAVA_BYTE).withName("internal")).withName("ncclUniqueId");

    // ncclResult_t ncclGetVersion(int *version);
    static final FunctionDescriptor GET_VERSION = FunctionDescriptor.of(JAVA_INT, ADDRESS);
    // ncclResult_t ncclGetUniqueId(ncclUniqueId* uniqueId);
    static final FunctionDescriptor GET_UNIQUE_ID = FunctionDescriptor.of(JAVA_INT, ADDRESS);
    // ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId commId, int rank);
    static final FunctionDescriptor COMM_INIT_RANK = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, UNIQUE_ID, JAVA_INT);
    // ncclResult_t ncclCommInitAll(ncclComm_t* comm, int ndev, const int* devlist);
    static final FunctionDescriptor COMM_INIT_ALL = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS);
    // ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype,
    //                            ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream);
    static final FunctionDescriptor ALL_REDUCE = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT,
            JAVA_INT, ADDRESS, ADDRESS);
    // ncclResult_t ncclAllGather(const void* sendbuff, void* recvbuff, size_t sendcount, ncclDataType_t datatype,
    //                            ncclComm_t comm, cudaStream_t stream);
    static final FunctionDescriptor ALL_GATHER = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT,
            ADDRESS, ADDRESS);
    // ncclResult_t ncclGroupStart(); ncclResult_t ncclGroupEnd();
    static final FunctionDescriptor GROUP = FunctionDescriptor.of(JAVA_INT);
    // ncclResult_t ncclCommDestroy(ncclComm_t comm); ncclResult_t ncclCommAbort(ncclComm_t comm);
    static final FunctionDescriptor COMM = FunctionDescriptor.of(JAVA_INT, ADDRESS);
    // const char* ncclGetErrorString(ncclResult_t result);
    static final FunctionDescriptor GET_ERROR_STRING = FunctionDescriptor.of(ADDRESS, JAVA_INT);
    // ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t *asyncError);
    static final FunctionDescriptor COMM_GET_ASYNC_ERROR = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);

    private final String source;
    private final MethodHandle getVersion;
    private final MethodHandle getUniqueId;
    private final MethodHandle commInitRank;
    private final MethodHandle commInitAll;
    private final MethodHandle allReduce;
    private final MethodHandle allGather;
    private final MethodHandle groupStart;
    private final MethodHandle groupEnd;
    private final MethodHandle commDestroy;
    private final MethodHandle commAbort;
    private final MethodHandle getErrorString;
    private final MethodHandle commGetAsyncError;

    private Nccl(SymbolLookup lib, String source) {
        this.source = source;
        Linker linker = Linker.nativeLinker();
        this.getVersion = bind(linker, lib, "ncclGetVersion", GET_VERSION);
        this.getUniqueId = bind(linker, lib, "ncclGetUniqueId", GET_UNIQUE_ID);
        this.commInitRank = bind(linker, lib, "ncclCommInitRank", COMM_INIT_RANK);
        this.commInitAll = bind(linker, lib, "ncclCommInitAll", COMM_INIT_ALL);
        this.allReduce = bind(linker, lib, "ncclAllReduce", ALL_REDUCE);
        this.allGather = bind(linker, lib, "ncclAllGather", ALL_GATHER);
        this.groupStart = bind(linker, lib, "ncclGroupStart", GROUP);
        this.groupEnd = bind(linker, lib, "ncclGroupEnd", GROUP);
        this.commDestroy = bind(linker, lib, "ncclCommDestroy", COMM);
        this.commAbort = bind(linker, lib, "ncclCommAbort", COMM);
        this.getErrorString = bind(linker, lib, "ncclGetErrorString", GET_ERROR_STRING);
        this.commGetAsyncError = bind(linker, lib, "ncclCommGetAsyncError", COMM_GET_ASYNC_ERROR);
    }

    /** Finds libnccl.so.2 ({@link NcclLibrary}'s search order) and binds every call; fails naming what is missing. */
    public static Nccl load() {
        NcclLibrary.Loaded lib = NcclLibrary.load();
        return new Nccl(lib.symbols(), lib.source());
    }

    /** Binds the calls of an already opened library (a test's, or one found another way). */
    public static Nccl bind(SymbolLookup lib, String source) {
        return new Nccl(lib, source);
    }

    private MethodHandle bind(Linker linker, SymbolLookup lib, String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = lib.find(name).orElseThrow(() -> new NcclUnavailableException(
                source + " has no symbol " + name + ": not an NCCL 2 library, or one older than 2.10 (needs bfloat16)"));
        return linker.downcallHandle(symbol, descriptor);
    }

    /** Where the library was found. */
    public String source() {
        return source;
    }

    /** NCCL_VERSION_CODE of the loaded library: major * 10000 + minor * 100 + patch for 2.9 and later (22304 = 2.23.4). */
    public int version() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            check(invoke(() -> (int) getVersion.invokeExact(v)), "ncclGetVersion");
            return v.get(JAVA_INT, 0);
        }
    }

    public NcclUniqueId uniqueId() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment id = arena.allocate(UNIQUE_ID);
            check(invoke(() -> (int) getUniqueId.invokeExact(id)), "ncclGetUniqueId");
            return new NcclUniqueId(id.toArray(JAVA_BYTE));
        }
    }

    /**
     * One rank's communicator, on the GPU of the calling thread's current context. Blocks until all {@code nranks}
     * ranks have called it with the same id (so each from its own thread, or all inside groupStart/groupEnd).
     *
     * @return the ncclComm_t
     */
    public long commInitRank(int nranks, NcclUniqueId id, int rank) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment comm = arena.allocate(ADDRESS);
            MemorySegment idValue = arena.allocate(UNIQUE_ID);
            MemorySegment.copy(id.bytes(), 0, idValue, JAVA_BYTE, 0, NcclUniqueId.BYTES);
            check(invoke(() -> (int) commInitRank.invokeExact(comm, nranks, idValue, rank)),
                    "ncclCommInitRank(rank " + rank + " of " + nranks + ")");
            return comm.get(ADDRESS, 0).address();
        }
    }

    /**
     * Communicators for {@code devices} (CUDA ordinals; rank i on devices[i]) from one thread of one process. NCCL
     * switches the calling thread's current device while it works: make the rank's context current again after.
     *
     * @return the ncclComm_t of each rank
     */
    public long[] commInitAll(int[] devices) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment comms = arena.allocate(ADDRESS, devices.length);
            MemorySegment devlist = arena.allocateFrom(JAVA_INT, devices);
            check(invoke(() -> (int) commInitAll.invokeExact(comms, devices.length, devlist)),
                    "ncclCommInitAll(" + devices.length + " GPUs " + java.util.Arrays.toString(devices) + ")");
            long[] out = new long[devices.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = comms.getAtIndex(ADDRESS, i).address();
            }
            return out;
        }
    }

    /** Enqueues an all-reduce on {@code stream}; in place when send == recv. {@code who} names the rank in errors. */
    public void allReduce(long send, long recv, long count, NcclDataType type, NcclRedOp op, long comm, long stream,
                          String who) {
        MemorySegment s = MemorySegment.ofAddress(send);
        MemorySegment r = MemorySegment.ofAddress(recv);
        MemorySegment c = MemorySegment.ofAddress(comm);
        MemorySegment st = MemorySegment.ofAddress(stream);
        int typeCode = type.code();
        int opCode = op.code();
        check(invoke(() -> (int) allReduce.invokeExact(s, r, count, typeCode, opCode, c, st)),
                "ncclAllReduce(" + count + " x " + type.cName() + ", " + op.cName() + "; " + who + ")");
    }

    /** Enqueues an all-gather: rank i's {@code sendCount} elements land at recv + i * sendCount on every rank. */
    public void allGather(long send, long recv, long sendCount, NcclDataType type, long comm, long stream, String who) {
        MemorySegment s = MemorySegment.ofAddress(send);
        MemorySegment r = MemorySegment.ofAddress(recv);
        MemorySegment c = MemorySegment.ofAddress(comm);
        MemorySegment st = MemorySegment.ofAddress(stream);
        int typeCode = type.code();
        check(invoke(() -> (int) allGather.invokeExact(s, r, sendCount, typeCode, c, st)),
                "ncclAllGather(" + sendCount + " x " + type.cName() + " per rank; " + who + ")");
    }

    public void groupStart() {
        check(invoke(() -> (int) groupStart.invokeExact()), "ncclGroupStart");
    }

    public void groupEnd() {
        check(invoke(() -> (int) groupEnd.invokeExact()), "ncclGroupEnd");
    }

    /** Frees a communicator after its work has finished (waits for it). */
    public void commDestroy(long comm, String who) {
        MemorySegment c = MemorySegment.ofAddress(comm);
        check(invoke(() -> (int) commDestroy.invokeExact(c)), "ncclCommDestroy(" + who + ")");
    }

    /** Stops a communicator's kernels (a peer will never arrive) and frees it; safe from another thread. */
    public void commAbort(long comm, String who) {
        MemorySegment c = MemorySegment.ofAddress(comm);
        check(invoke(() -> (int) commAbort.invokeExact(c)), "ncclCommAbort(" + who + ")");
    }

    /** The communicator's asynchronous error (a network or peer failure found in the background), as a code. */
    public int commAsyncError(long comm, String who) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            MemorySegment c = MemorySegment.ofAddress(comm);
            check(invoke(() -> (int) commGetAsyncError.invokeExact(c, out)), "ncclCommGetAsyncError(" + who + ")");
            return out.get(JAVA_INT, 0);
        }
    }

    /** The library's text for a result code. */
    public String errorString(int result) {
        MemorySegment s;
        try {
            s = (MemorySegment) getErrorString.invokeExact(result);
        } catch (Throwable t) {
            throw new IllegalStateException("ncclGetErrorString(" + result + ") could not be called", t);
        }
        return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** Throws an {@link NcclException} naming {@code operation} when {@code result} is not ncclSuccess. */
    public void check(int result, String operation) {
        if (result != NcclResult.SUCCESS.code()) {
            throw new NcclException(operation, result, errorString(result));
        }
    }

    @FunctionalInterface
    private interface Call {
        int run() throws Throwable;
    }

    private static int invoke(Call call) {
        try {
            return call.run();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native NCCL call failed to link or run", t);
        }
    }
}
