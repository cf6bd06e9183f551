package io.nemotron.core.backend.cuda;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A kernel's C parameter list, declared once as data: the launcher that owns the kernel builds its arguments against
 * it, {@link CudaModule} packs each argument at the width of the declared kind (and refuses arguments of another count
 * or kind), and KernelSignaturesTest compares it with the {@code extern "C"} declaration in the .cu source. So the
 * list the test checks is the list the driver receives.
 */
record KernelSignature(String kernel, List<Param> params) {

    /** The C types a kernel parameter can have, by what the driver needs to copy: a width and nothing else. */
    enum Kind {
        PTR,     // any T* (const / __restrict__ or not): an 8-byte device address, 0 for a null pointer
        INT,     // int
        LONG,    // long long
        U64,     // unsigned long long
        U32,     // unsigned int
        FLOAT    // float
    }

    /** One parameter: its name in the .cu source (for messages and the source check) and its kind. */
    record Param(String name, Kind kind) {}

    KernelSignature {
        params = List.copyOf(params);
    }

    static KernelSignature of(String kernel, Param... params) {
        return new KernelSignature(kernel, List.of(params));
    }

    static Param ptr(String name) {
        return new Param(name, Kind.PTR);
    }

    static Param i32(String name) {
        return new Param(name, Kind.INT);
    }

    static Param i64(String name) {
        return new Param(name, Kind.LONG);
    }

    static Param u64(String name) {
        return new Param(name, Kind.U64);
    }

    static Param u32(String name) {
        return new Param(name, Kind.U32);
    }

    static Param f32(String name) {
        return new Param(name, Kind.FLOAT);
    }

    /**
     * Fails, naming the kernel and the parameter, unless {@code args} has exactly these kinds in this order. Run on
     * every launch: a launcher that fills its arguments out of order fails at its first call rather than handing the
     * kernel reinterpreted bits.
     */
    void check(KernelArgs args) {
        if (args.size() != params.size()) {
            throw new IllegalArgumentException(kernel + " takes " + params.size() + " arguments, got " + args.size()
                    + ": " + this);
        }
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            if (args.kind(i) != p.kind()) {
                throw new IllegalArgumentException(kernel + " parameter " + i + " (" + p.name() + ") is " + p.kind()
                        + ", got " + args.kind(i) + ": " + this);
            }
        }
    }

    @Override
    public String toString() {
        return params.stream().map(p -> p.kind() + " " + p.name()).collect(Collectors.joining(", ", kernel + "(", ")"));
    }
}
