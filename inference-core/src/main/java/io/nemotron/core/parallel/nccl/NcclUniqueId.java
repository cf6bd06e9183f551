package io.nemotron.core.parallel.nccl;

import java.util.Arrays;

/**
 * The opaque {@code ncclUniqueId} ({@code typedef struct { char internal[NCCL_UNIQUE_ID_BYTES]; } ncclUniqueId;} with
 * NCCL_UNIQUE_ID_BYTES = 128, src/nccl.h.in): made by ncclGetUniqueId on one rank, handed to every rank's
 * ncclCommInitRank. Within one process that is just sharing this object.
 */
public final class NcclUniqueId {
    public static final int BYTES = 128;
    private final byte[] bytes;

    public NcclUniqueId(byte[] bytes) {
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("an ncclUniqueId is " + BYTES + " bytes, got " + bytes.length);
        }
        this.bytes = bytes.clone();
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NcclUniqueId other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "NcclUniqueId[" + BYTES + " bytes]";   // the id carries a socket address: keep it out of logs
    }
}
