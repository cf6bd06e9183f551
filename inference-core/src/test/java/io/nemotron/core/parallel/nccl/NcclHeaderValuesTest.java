package io.nemotron.core.parallel.nccl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemoryLayout;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The enums against the header: the blocks below are copied by hand from NCCL's src/nccl.h.in (NVIDIA/nccl, 2.2x)
 * and parsed here, so a typo in an enum constant cannot agree with itself.
 */
class NcclHeaderValuesTest {
    private static final String RESULT = """
            typedef enum { ncclSuccess                 =  0,
                           ncclUnhandledCudaError      =  1,
                           ncclSystemError             =  2,
                           ncclInternalError           =  3,
                           ncclInvalidArgument         =  4,
                           ncclInvalidUsage            =  5,
                           ncclRemoteError             =  6,
                           ncclInProgress              =  7,
                           ncclTimeout                 =  8,
                           ncclNumResults              =  9 } ncclResult_t;
            """;
    private static final String RED_OP = """
            typedef enum { ncclSum        = 0,
                           ncclProd       = 1,
                           ncclMax        = 2,
                           ncclMin        = 3,
                           ncclAvg        = 4,
            """;
    private static final String DATA_TYPE = """
            typedef enum { ncclInt8       = 0, ncclChar       = 0,
                           ncclUint8      = 1,
                           ncclInt32      = 2, ncclInt        = 2,
                           ncclUint32     = 3,
                           ncclInt64      = 4,
                           ncclUint64     = 5,
                           ncclFloat16    = 6, ncclHalf       = 6,
                           ncclFloat32    = 7, ncclFloat      = 7,
                           ncclFloat64    = 8, ncclDouble     = 8,
                           ncclBfloat16   = 9,
                           ncclFloat8e4m3 = 10,
                           ncclFloat8e5m2 = 11,
                           ncclNumTypes   = 12
            } ncclDataType_t;
            """;
    private static final String UNIQUE_ID = """
            #define NCCL_UNIQUE_ID_BYTES 128
            typedef struct { char internal[NCCL_UNIQUE_ID_BYTES]; } ncclUniqueId;
            """;

    private static Map<String, Integer> parse(String block) {
        Map<String, Integer> values = new HashMap<>();
        Matcher m = Pattern.compile("(ncc\\w+)\\s*=\\s*(\\d+)").matcher(block);
        while (m.find()) {
            values.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        return values;
    }

    @Test
    void resultCodes() {
        Map<String, Integer> header = parse(RESULT);
        for (NcclResult r : NcclResult.values()) {
            assertEquals(header.get(r.cName()), r.code(), r.cName());
        }
        assertEquals(header.get("ncclNumResults"), NcclResult.values().length, "every result of the header is here");
        assertEquals("ncclInvalidUsage", NcclResult.nameOf(5));
    }

    @Test
    void reductionOps() {
        Map<String, Integer> header = parse(RED_OP);
        for (NcclRedOp op : NcclRedOp.values()) {
            assertEquals(header.get(op.cName()), op.code(), op.cName());
        }
        assertEquals(0, NcclRedOp.SUM.code());
    }

    @Test
    void dataTypes() {
        Map<String, Integer> header = parse(DATA_TYPE);
        for (NcclDataType t : NcclDataType.values()) {
            assertEquals(header.get(t.cName()), t.code(), t.cName());
        }
        assertEquals(7, NcclDataType.FLOAT32.code());
        assertEquals(9, NcclDataType.BFLOAT16.code());
        assertEquals(4, NcclDataType.FLOAT32.bytes());
        assertEquals(2, NcclDataType.BFLOAT16.bytes());
    }

    @Test
    void uniqueIdIs128BytesAndPassedByValueToInitRank() {
        int bytes = Integer.parseInt(UNIQUE_ID.replaceAll("(?s).*NCCL_UNIQUE_ID_BYTES (\\d+).*", "$1"));
        assertEquals(bytes, NcclUniqueId.BYTES);
        assertEquals(128, Nccl.UNIQUE_ID.byteSize());
        assertEquals(1, Nccl.UNIQUE_ID.byteAlignment(), "a char array: no padding, byte alignment");
        // ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId commId, int rank): the id is the third argument
        MemoryLayout third = Nccl.COMM_INIT_RANK.argumentLayouts().get(2);
        assertEquals(Nccl.UNIQUE_ID, third);
        assertThrows(IllegalArgumentException.class, () -> new NcclUniqueId(new byte[127]));
    }
}
