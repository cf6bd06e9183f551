package io.nemotron.core.backend.cuda;

import io.nemotron.core.backend.cuda.KernelSignature.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * The argument values of one launch, in order, each tagged with the kind its launcher gave it as. Values are kept as
 * raw bits; {@link CudaModule} packs them at the width of the signature's kind once {@link KernelSignature#check} has
 * confirmed the tags agree with it.
 */
final class KernelArgs {
    private record Arg(Kind kind, long bits) {}

    private final List<Arg> args = new ArrayList<>(20);

    /** A device address; 0 passes a null pointer (the unused split-KV buffers of an unsplit decode). */
    KernelArgs ptr(long address) {
        return add(Kind.PTR, address);
    }

    KernelArgs i32(int value) {
        return add(Kind.INT, value);
    }

    KernelArgs i64(long value) {
        return add(Kind.LONG, value);
    }

    /** An unsigned long long: Java's long carries the same 64 bits. */
    KernelArgs u64(long value) {
        return add(Kind.U64, value);
    }

    /** An unsigned int: Java's int carries the same 32 bits. */
    KernelArgs u32(int value) {
        return add(Kind.U32, value);
    }

    KernelArgs f32(float value) {
        return add(Kind.FLOAT, Float.floatToRawIntBits(value));
    }

    private KernelArgs add(Kind kind, long bits) {
        args.add(new Arg(kind, bits));
        return this;
    }

    int size() {
        return args.size();
    }

    Kind kind(int i) {
        return args.get(i).kind();
    }

    /** Argument i's bits: the address or integer as given (an int sign-extended), or a float's IEEE bits. */
    long bits(int i) {
        return args.get(i).bits();
    }
}
