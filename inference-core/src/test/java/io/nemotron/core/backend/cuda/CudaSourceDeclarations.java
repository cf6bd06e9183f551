package io.nemotron.core.backend.cuda;

import io.nemotron.core.backend.cuda.KernelSignature.Kind;
import io.nemotron.core.backend.cuda.KernelSignature.Param;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The {@code extern "C" __global__} kernels declared in cuda-kernels/src/main/cuda/*.cu, with their parameters reduced
 * to what a launch depends on: name and {@link Kind}. Read from the sources themselves, the oracle the launchers'
 * {@link KernelSignature}s are checked against.
 */
final class CudaSourceDeclarations {
    /** One kernel as its .cu file declares it. */
    record SourceKernel(String name, List<Param> params, Path file) {}

    private static final Path SOURCES = Path.of("cuda-kernels", "src", "main", "cuda");
    // the parameter list has no parentheses of its own: no function pointers, no default arguments
    private static final Pattern KERNEL = Pattern.compile(
            "extern \"C\" __global__ void(?:\\s+__launch_bounds__\\([^)]*\\))?\\s+(\\w+)\\s*\\(([^)]*)\\)");
    private static final Pattern PARAM = Pattern.compile("(.*?)(\\w+)\\s*");

    private CudaSourceDeclarations() {}

    /**
     * The kernel sources directory, found by walking up from this module's directory (surefire's working directory) and
     * from the compiled test classes, so the test does not depend on where Maven was started.
     */
    static Path sourcesDir() {
        Set<Path> starts = new LinkedHashSet<>();
        starts.add(Path.of("").toAbsolutePath());
        try {
            starts.add(Path.of(CudaSourceDeclarations.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        } catch (URISyntaxException | RuntimeException e) {
            // the working directory alone then
        }
        for (Path start : starts) {
            for (Path dir = start; dir != null; dir = dir.getParent()) {
                Path candidate = dir.resolve(SOURCES);
                if (Files.isDirectory(candidate)) {
                    return candidate;
                }
            }
        }
        throw new IllegalStateException("no " + SOURCES + " above any of " + starts
                + ": the kernel signature check needs the cuda-kernels sources of this repository");
    }

    /** Every kernel of every .cu file in {@code dir}, in file then declaration order. */
    static List<SourceKernel> read(Path dir) {
        List<SourceKernel> kernels = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cu")).sorted().toList()) {
                kernels.addAll(parse(Files.readString(f), f));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading the kernel sources in " + dir, e);
        }
        if (kernels.isEmpty()) {
            throw new IllegalStateException("no extern \"C\" __global__ kernel found in " + dir);
        }
        return kernels;
    }

    static List<SourceKernel> parse(String source, Path file) {
        List<SourceKernel> kernels = new ArrayList<>();
        Matcher m = KERNEL.matcher(source);
        while (m.find()) {
            String name = m.group(1);
            List<Param> params = new ArrayList<>();
            String list = m.group(2).strip();
            if (!list.isEmpty() && !list.equals("void")) {
                for (String p : list.split(",")) {
                    params.add(param(p, name, file));
                }
            }
            kernels.add(new SourceKernel(name, List.copyOf(params), file));
        }
        return kernels;
    }

    private static Param param(String declaration, String kernel, Path file) {
        String d = declaration.replaceAll("\\b(const|__restrict__)\\b", " ").strip();
        Matcher m = PARAM.matcher(d);
        if (!m.matches()) {
            throw new IllegalArgumentException(file + ": cannot read parameter '" + declaration.strip() + "' of " + kernel);
        }
        return new Param(m.group(2), kindOf(m.group(1), kernel, file));
    }

    /** The kind of a C parameter type with const and __restrict__ already removed. */
    static Kind kindOf(String type, String kernel, Path file) {
        String t = type.strip().replaceAll("\\s+", " ");
        if (t.contains("*")) {
            return Kind.PTR;
        }
        return switch (t) {
            case "int", "signed", "signed int" -> Kind.INT;
            case "long long", "long long int", "signed long long" -> Kind.LONG;
            case "unsigned long long", "unsigned long long int" -> Kind.U64;
            case "unsigned", "unsigned int" -> Kind.U32;
            case "float" -> Kind.FLOAT;
            default -> throw new IllegalArgumentException(file + ": parameter type '" + t + "' of " + kernel
                    + " has no KernelSignature kind; add one (and its packing in CudaModule)");
        };
    }
}
