package io.nemotron.core.parallel.nccl;

import java.io.File;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Finds and opens {@code libnccl.so.2} (by soname, so an NCCL built for CUDA 12 or 13 both work). Search order:
 * <ol>
 *   <li>the system loader by soname ({@code dlopen("libnccl.so.2")}: LD_LIBRARY_PATH, the ld.so cache, /lib,
 *       /usr/lib), which finds the apt / rpm package {@code libnccl2} and NGC images;</li>
 *   <li>{@code $NCCL_LIBRARY}, the full path of a libnccl.so.2, when set;</li>
 *   <li>the pip wheel ({@code nvidia-nccl-cu12} / {@code -cu13}) at {@code nvidia/nccl/lib/libnccl.so.2} under each
 *       site-packages folder listed in the system property {@value #SITE_PACKAGES_PROPERTY}, else in
 *       {@code $}{@value #SITE_PACKAGES_ENV} (both path-separator lists). A machine whose only NCCL is PyTorch's sets
 *       {@code NEMOTRON_SITE_PACKAGES=$(python3 -c 'import site; print(":".join(site.getsitepackages()))')}, which is
 *       what scripts/gpu-run.sh does.</li>
 * </ol>
 * When nothing loads, the exception lists every place tried and why each failed, in that order.
 */
public final class NcclLibrary {
    public static final String SONAME = "libnccl.so.2";
    public static final String LIBRARY_ENV = "NCCL_LIBRARY";
    public static final String SITE_PACKAGES_PROPERTY = "nemotron.nccl.site-packages";
    public static final String SITE_PACKAGES_ENV = "NEMOTRON_SITE_PACKAGES";
    /** Where the nvidia-nccl-cu12/-cu13 wheels put the library, relative to site-packages. */
    public static final String WHEEL_PATH = "nvidia/nccl/lib/" + SONAME;

    /** Opens a library by soname or path; throws IllegalArgumentException with the loader's reason when it cannot. */
    @FunctionalInterface
    public interface Opener {
        SymbolLookup open(String nameOrPath);
    }

    /** The library that was opened, and how it was found (for logs and error messages). */
    public record Loaded(SymbolLookup symbols, String source) {}

    private NcclLibrary() {}

    /** Opens NCCL from this process's environment and system properties, mapping it for the life of the JVM. */
    public static Loaded load() {
        Arena global = Arena.global();
        return locate(System.getenv(), System.getProperty(SITE_PACKAGES_PROPERTY),
                name -> SymbolLookup.libraryLookup(name, global));
    }

    /**
     * The search itself, with the environment, the site-packages property (null when unset) and the loader passed in,
     * so that the order and the message are testable without NCCL.
     *
     * @throws NcclUnavailableException naming each place tried, in order, and why it failed
     */
    public static Loaded locate(Map<String, String> env, String sitePackagesProperty, Opener opener) {
        List<String> tried = new ArrayList<>();

        try {
            return new Loaded(opener.open(SONAME), "system loader (" + SONAME + ")");
        } catch (IllegalArgumentException e) {
            tried.add("system loader (dlopen " + SONAME + "): " + e.getMessage());
        }

        String explicit = env.get(LIBRARY_ENV);
        if (explicit == null || explicit.isBlank()) {
            tried.add("$" + LIBRARY_ENV + ": not set");
        } else if (!Files.isRegularFile(Path.of(explicit))) {
            tried.add("$" + LIBRARY_ENV + "=" + explicit + ": no such file");
        } else {
            try {
                return new Loaded(opener.open(explicit), "$" + LIBRARY_ENV + " (" + explicit + ")");
            } catch (IllegalArgumentException e) {
                tried.add("$" + LIBRARY_ENV + "=" + explicit + ": " + e.getMessage());
            }
        }

        String sitePackages = sitePackagesProperty != null && !sitePackagesProperty.isBlank() ? sitePackagesProperty
                : env.get(SITE_PACKAGES_ENV);
        String origin = sitePackagesProperty != null && !sitePackagesProperty.isBlank()
                ? "-D" + SITE_PACKAGES_PROPERTY : "$" + SITE_PACKAGES_ENV;
        if (sitePackages == null || sitePackages.isBlank()) {
            tried.add("pip wheel (" + WHEEL_PATH + " under -D" + SITE_PACKAGES_PROPERTY + " or $" + SITE_PACKAGES_ENV
                    + "): neither set");
        } else {
            for (String dir : sitePackages.split(File.pathSeparator)) {
                if (dir.isBlank()) {
                    continue;
                }
                Path candidate = Path.of(dir, WHEEL_PATH);
                if (!Files.isRegularFile(candidate)) {
                    tried.add(origin + ": " + candidate + ": no such file");
                    continue;
                }
                try {
                    return new Loaded(opener.open(candidate.toString()), "pip wheel (" + candidate + ")");
                } catch (IllegalArgumentException e) {
                    tried.add(origin + ": " + candidate + ": " + e.getMessage());
                }
            }
        }
        throw new NcclUnavailableException("NCCL (" + SONAME + ") could not be loaded; tried in order: "
                + String.join("; ", tried) + ". Install NCCL (apt libnccl2 or pip nvidia-nccl-cu12), or set "
                + LIBRARY_ENV + " to its path, or " + SITE_PACKAGES_ENV
                + " to the site-packages folders that hold the wheel");
    }
}
