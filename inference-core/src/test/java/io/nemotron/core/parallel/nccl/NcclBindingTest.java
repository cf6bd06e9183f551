package io.nemotron.core.parallel.nccl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.backend.CommunicatorException;
import io.nemotron.core.backend.DeviceCommunicator;
import io.nemotron.core.weights.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The binding end to end through real downcall and upcall stubs: a fake "libnccl" whose functions are Java methods
 * behind native function pointers, so every argument crosses the C ABI exactly as it would into NCCL (the 128-byte
 * ncclUniqueId passed by value included). What arrives is checked against what the caller passed.
 */
class NcclBindingTest {

    /** The fake library's state: what each call received, and what it should return. */
    static final class Fake {
        final List<String> calls = new ArrayList<>();
        int nextResult;   // ncclResult_t every collective returns
        byte[] idSeen;
        long commCounter = 0x1000;

        int ncclGetVersion(MemorySegment version) {
            version.reinterpret(4).set(JAVA_INT, 0, 22304);
            calls.add("ncclGetVersion");
            return 0;
        }

        int ncclGetUniqueId(MemorySegment id) {
            MemorySegment s = id.reinterpret(128);
            for (int i = 0; i < 128; i++) {
                s.set(JAVA_BYTE, i, (byte) (i * 7 + 3));
            }
            calls.add("ncclGetUniqueId");
            return 0;
        }

        int ncclCommInitRank(MemorySegment comm, int nranks, MemorySegment id, int rank) {
            idSeen = id.toArray(JAVA_BYTE);
            comm.reinterpret(8).set(ADDRESS, 0, MemorySegment.ofAddress(commCounter++));
            calls.add("ncclCommInitRank(" + nranks + ", " + rank + ")");
            return 0;
        }

        int ncclCommInitAll(MemorySegment comms, int ndev, MemorySegment devlist) {
            MemorySegment c = comms.reinterpret(8L * ndev);
            MemorySegment d = devlist.reinterpret(4L * ndev);
            StringBuilder devices = new StringBuilder();
            for (int i = 0; i < ndev; i++) {
                c.setAtIndex(ADDRESS, i, MemorySegment.ofAddress(0x2000 + d.getAtIndex(JAVA_INT, i)));
                devices.append(i == 0 ? "" : ",").append(d.getAtIndex(JAVA_INT, i));
            }
            calls.add("ncclCommInitAll(" + ndev + ", [" + devices + "])");
            return 0;
        }

        int ncclAllReduce(MemorySegment send, MemorySegment recv, long count, int type, int op, MemorySegment comm,
                          MemorySegment stream) {
            calls.add("ncclAllReduce(0x" + Long.toHexString(send.address()) + ", 0x" + Long.toHexString(recv.address())
                    + ", " + count + ", " + type + ", " + op + ", 0x" + Long.toHexString(comm.address()) + ", 0x"
                    + Long.toHexString(stream.address()) + ")");
            return nextResult;
        }

        int ncclAllGather(MemorySegment send, MemorySegment recv, long count, int type, MemorySegment comm,
                          MemorySegment stream) {
            calls.add("ncclAllGather(0x" + Long.toHexString(send.address()) + ", 0x" + Long.toHexString(recv.address())
                    + ", " + count + ", " + type + ", 0x" + Long.toHexString(comm.address()) + ", 0x"
                    + Long.toHexString(stream.address()) + ")");
            return nextResult;
        }

        int ncclGroupStart() {
            calls.add("ncclGroupStart");
            return 0;
        }

        int ncclGroupEnd() {
            calls.add("ncclGroupEnd");
            return 0;
        }

        int ncclCommDestroy(MemorySegment comm) {
            calls.add("ncclCommDestroy(0x" + Long.toHexString(comm.address()) + ")");
            return 0;
        }

        int ncclCommAbort(MemorySegment comm) {
            calls.add("ncclCommAbort(0x" + Long.toHexString(comm.address()) + ")");
            return 0;
        }

        MemorySegment ncclGetErrorString(int result) {
            String text = switch (result) {
                case 1 -> "unhandled cuda error (run with NCCL_DEBUG=INFO for details)";
                case 4 -> "invalid argument (run with NCCL_DEBUG=WARN for details)";
                default -> "unknown result code";
            };
            return Arena.global().allocateFrom(text);
        }

        int ncclCommGetAsyncError(MemorySegment comm, MemorySegment out) {
            out.reinterpret(4).set(JAVA_INT, 0, comm.address() == 0x1001 ? 6 : 0);
            return 0;
        }

        /** Each method above as a native function pointer with the descriptor the binding uses. */
        SymbolLookup library() throws Exception {
            Map<String, FunctionDescriptor> descriptors = Map.ofEntries(
                    Map.entry("ncclGetVersion", Nccl.GET_VERSION), Map.entry("ncclGetUniqueId", Nccl.GET_UNIQUE_ID),
                    Map.entry("ncclCommInitRank", Nccl.COMM_INIT_RANK), Map.entry("ncclCommInitAll", Nccl.COMM_INIT_ALL),
                    Map.entry("ncclAllReduce", Nccl.ALL_REDUCE), Map.entry("ncclAllGather", Nccl.ALL_GATHER),
                    Map.entry("ncclGroupStart", Nccl.GROUP), Map.entry("ncclGroupEnd", Nccl.GROUP),
                    Map.entry("ncclCommDestroy", Nccl.COMM), Map.entry("ncclCommAbort", Nccl.COMM),
                    Map.entry("ncclGetErrorString", Nccl.GET_ERROR_STRING),
                    Map.entry("ncclCommGetAsyncError", Nccl.COMM_GET_ASYNC_ERROR));
            Map<String, MemorySegment> symbols = new HashMap<>();
            for (var e : descriptors.entrySet()) {
                MethodType type = e.getValue().toMethodType();
                var handle = MethodHandles.lookup().findVirtual(Fake.class, e.getKey(), type).bindTo(this);
                symbols.put(e.getKey(), Linker.nativeLinker().upcallStub(handle, e.getValue(), Arena.global()));
            }
            return name -> Optional.ofNullable(symbols.get(name));
        }
    }

    @Test
    void versionAndUniqueIdAndInitRankCrossTheAbiIntact() throws Exception {
        Fake fake = new Fake();
        Nccl nccl = Nccl.bind(fake.library(), "fake");
        assertEquals(22304, nccl.version());
        NcclUniqueId id = nccl.uniqueId();
        byte[] expected = new byte[128];
        for (int i = 0; i < 128; i++) {
            expected[i] = (byte) (i * 7 + 3);
        }
        assertArrayEquals(expected, id.bytes());
        long comm = nccl.commInitRank(4, id, 2);
        assertEquals(0x1000, comm);
        assertArrayEquals(expected, fake.idSeen, "the 128-byte id passed by value arrives whole");
        assertEquals(List.of("ncclGetVersion", "ncclGetUniqueId", "ncclCommInitRank(4, 2)"), fake.calls);
    }

    @Test
    void collectivesPassAddressesCountsAndHeaderCodes() throws Exception {
        Fake fake = new Fake();
        Nccl nccl = Nccl.bind(fake.library(), "fake");
        try (NcclGroup group = NcclGroup.initAll(nccl, new int[] {3, 5})) {
            DeviceCommunicator r1 = group.member(1);
            r1.allReduceSum(0x7f00_0000_1000L, 4096, DType.BF16, 0xabcL);
            r1.allGather(0x7f00_0000_2000L, 0x7f00_0000_3000L, 10, DType.F32, 0);
        }
        assertEquals(List.of(
                "ncclCommInitAll(2, [3,5])",
                // in place: send == recv; ncclBfloat16 = 9, ncclSum = 0; rank 1's communicator; the caller's stream
                "ncclAllReduce(0x7f0000001000, 0x7f0000001000, 4096, 9, 0, 0x2005, 0xabc)",
                "ncclAllGather(0x7f0000002000, 0x7f0000003000, 10, 7, 0x2005, 0x0)",
                "ncclCommDestroy(0x2003)", "ncclCommDestroy(0x2005)"), fake.calls);
    }

    @Test
    void aFailedCallNamesTheOperationTheResultNameAndTheLibrarysText() throws Exception {
        Fake fake = new Fake();
        Nccl nccl = Nccl.bind(fake.library(), "fake");
        NcclGroup group = NcclGroup.initAll(nccl, new int[] {0, 1, 2});
        fake.nextResult = 4;
        NcclException e = assertThrows(NcclException.class,
                () -> group.member(2).allReduceSum(0x1000, 16, DType.F32, 0));
        assertEquals("ncclAllReduce(16 x ncclFloat32, ncclSum; rank 2 of 3) failed: ncclInvalidArgument (4): "
                + "invalid argument (run with NCCL_DEBUG=WARN for details)", e.getMessage());
        assertEquals("ncclInvalidArgument", e.errorName());
        fake.nextResult = 1;
        NcclException g = assertThrows(NcclException.class, () -> group.member(0).allGather(0x1000, 0x2000, 8, DType.BF16, 0));
        assertEquals("ncclAllGather(8 x ncclBfloat16 per rank; rank 0 of 3) failed: ncclUnhandledCudaError (1): "
                + "unhandled cuda error (run with NCCL_DEBUG=INFO for details)", g.getMessage());
    }

    @Test
    void abortAbortsEveryCommunicatorAndLaterCallsFailWithoutReachingNccl() throws Exception {
        Fake fake = new Fake();
        Nccl nccl = Nccl.bind(fake.library(), "fake");
        NcclGroup group = NcclGroup.initAll(nccl, new int[] {0, 1});
        DeviceCommunicator r0 = group.member(0);
        group.abort();
        group.abort();   // idempotent: a second failing rank may abort too
        CommunicatorException e = assertThrows(CommunicatorException.class, () -> r0.allReduceSum(0x1000, 1, DType.F32, 0));
        assertEquals("rank 0: the NCCL group was aborted (another rank failed during the step); create a new group",
                e.getMessage());
        group.close();   // nothing left to destroy
        assertEquals(List.of("ncclCommInitAll(2, [0,1])", "ncclCommAbort(0x2000)", "ncclCommAbort(0x2001)"), fake.calls);
    }

    @Test
    void joinedRanksAndAsyncErrors() throws Exception {
        Fake fake = new Fake();
        Nccl nccl = Nccl.bind(fake.library(), "fake");
        NcclGroup group = NcclGroup.create(nccl, 2);
        assertThrows(IllegalStateException.class, () -> group.member(0), "not joined yet");
        // the fake does not block, so both ranks can join from this thread
        assertEquals(0, group.join(0).rank());
        assertEquals(1, group.join(1).rank());
        // the fake reports ncclRemoteError (6) for the second communicator (0x1001)
        NcclException e = assertThrows(NcclException.class, group::checkAsyncErrors);
        assertEquals("rank 1 of 2's communicator (ncclCommGetAsyncError) failed: ncclRemoteError (6): unknown result code",
                e.getMessage());
        group.close();
        assertTrue(fake.calls.contains("ncclCommDestroy(0x1001)"));
    }

    @Test
    void aLibraryWithoutTheSymbolsIsRejectedByName() {
        SymbolLookup libc = Linker.nativeLinker().defaultLookup();
        NcclUnavailableException e = assertThrows(NcclUnavailableException.class, () -> Nccl.bind(libc, "libc"));
        assertEquals("libc has no symbol ncclGetVersion: not an NCCL 2 library, or one older than 2.10 (needs bfloat16)",
                e.getMessage());
    }

    @Test
    void f16IsNcclFloat16AndCommunicatorFailuresAreNotNcclErrors() {
        assertEquals(NcclDataType.FLOAT16, NcclDataType.of(DType.F16));
        assertInstanceOf(RuntimeException.class, new NcclException("x", 3, ""));
        assertEquals("x failed: ncclInternalError (3)", new NcclException("x", 3, "").getMessage());
        assertEquals("x failed: unknown ncclResult_t (42): ?", new NcclException("x", 42, "?").getMessage());
    }
}
