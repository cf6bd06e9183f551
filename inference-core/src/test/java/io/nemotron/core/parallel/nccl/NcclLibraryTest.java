package io.nemotron.core.parallel.nccl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The search order for libnccl.so.2 and the message when it is nowhere, with a recording loader (no NCCL needed). */
class NcclLibraryTest {
    private static final SymbolLookup FOUND = name -> Optional.empty();

    /** Opens only the names in {@code loadable}; records every attempt in order. */
    private static final class RecordingOpener implements NcclLibrary.Opener {
        final List<String> attempts = new ArrayList<>();
        final List<String> loadable;

        RecordingOpener(String... loadable) {
            this.loadable = List.of(loadable);
        }

        @Override
        public SymbolLookup open(String nameOrPath) {
            attempts.add(nameOrPath);
            if (loadable.contains(nameOrPath)) {
                return FOUND;
            }
            throw new IllegalArgumentException("Cannot open library: " + nameOrPath);   // the JDK's wording
        }
    }

    private static Path wheel(Path sitePackages) throws Exception {
        Path lib = sitePackages.resolve("nvidia/nccl/lib/libnccl.so.2");
        Files.createDirectories(lib.getParent());
        Files.writeString(lib, "not really a library");
        return lib;
    }

    @Test
    void theSystemLoaderBySonameComesFirst(@TempDir Path dir) throws Exception {
        Path explicit = Files.writeString(dir.resolve("libnccl.so.2"), "x");
        RecordingOpener opener = new RecordingOpener("libnccl.so.2");
        NcclLibrary.Loaded lib = NcclLibrary.locate(Map.of("NCCL_LIBRARY", explicit.toString()), dir.toString(), opener);
        assertSame(FOUND, lib.symbols());
        assertEquals("system loader (libnccl.so.2)", lib.source());
        assertEquals(List.of("libnccl.so.2"), opener.attempts);
    }

    @Test
    void thenNcclLibraryThenTheWheelUnderSitePackages(@TempDir Path dir) throws Exception {
        Path explicit = Files.writeString(dir.resolve("custom-nccl.so"), "x");
        Path site = dir.resolve("site");
        Path wheelLib = wheel(site);

        RecordingOpener onlyExplicit = new RecordingOpener(explicit.toString());
        NcclLibrary.Loaded a = NcclLibrary.locate(Map.of("NCCL_LIBRARY", explicit.toString()), site.toString(), onlyExplicit);
        assertEquals("$NCCL_LIBRARY (" + explicit + ")", a.source());
        assertEquals(List.of("libnccl.so.2", explicit.toString()), onlyExplicit.attempts);

        RecordingOpener onlyWheel = new RecordingOpener(wheelLib.toString());
        NcclLibrary.Loaded b = NcclLibrary.locate(Map.of("NCCL_LIBRARY", explicit.toString()), site.toString(), onlyWheel);
        assertEquals("pip wheel (" + wheelLib + ")", b.source());
        assertEquals(List.of("libnccl.so.2", explicit.toString(), wheelLib.toString()), onlyWheel.attempts);
    }

    @Test
    void sitePackagesIsAListSearchedInOrderAndThePropertyWinsOverTheEnvironment(@TempDir Path dir) throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty-site"));
        Path second = wheel(dir.resolve("second-site"));
        Path third = wheel(dir.resolve("third-site"));
        String list = empty + File.pathSeparator + dir.resolve("second-site") + File.pathSeparator + dir.resolve("third-site");

        RecordingOpener opener = new RecordingOpener(second.toString(), third.toString());
        NcclLibrary.Loaded fromEnv = NcclLibrary.locate(Map.of("NEMOTRON_SITE_PACKAGES", list), null, opener);
        assertEquals("pip wheel (" + second + ")", fromEnv.source());
        // the empty folder has no wheel, so the loader is never asked about it
        assertEquals(List.of("libnccl.so.2", second.toString()), opener.attempts);

        RecordingOpener byProperty = new RecordingOpener(second.toString(), third.toString());
        NcclLibrary.Loaded fromProperty = NcclLibrary.locate(Map.of("NEMOTRON_SITE_PACKAGES", list),
                dir.resolve("third-site").toString(), byProperty);
        assertEquals("pip wheel (" + third + ")", fromProperty.source());
    }

    @Test
    void nothingFoundNamesEveryPlaceInOrder() {
        NcclUnavailableException e = assertThrows(NcclUnavailableException.class,
                () -> NcclLibrary.locate(Map.of(), null, new RecordingOpener()));
        assertEquals("NCCL (libnccl.so.2) could not be loaded; tried in order: "
                + "system loader (dlopen libnccl.so.2): Cannot open library: libnccl.so.2; "
                + "$NCCL_LIBRARY: not set; "
                + "pip wheel (nvidia/nccl/lib/libnccl.so.2 under -Dnemotron.nccl.site-packages or $NEMOTRON_SITE_PACKAGES): neither set. "
                + "Install NCCL (apt libnccl2 or pip nvidia-nccl-cu12), or set NCCL_LIBRARY to its path, "
                + "or NEMOTRON_SITE_PACKAGES to the site-packages folders that hold the wheel", e.getMessage());
    }

    @Test
    void missingFilesAndUnloadableFilesAreEachReported(@TempDir Path dir) throws Exception {
        Path site = dir.resolve("site");
        Path wheelLib = wheel(site);   // exists, but the loader refuses it (a corrupt or wrong-arch file)
        Path nowhere = dir.resolve("nowhere");
        String list = nowhere + File.pathSeparator + site;
        NcclUnavailableException e = assertThrows(NcclUnavailableException.class, () -> NcclLibrary.locate(
                Map.of("NCCL_LIBRARY", dir.resolve("gone.so").toString(), "NEMOTRON_SITE_PACKAGES", list), null,
                new RecordingOpener()));
        assertEquals("NCCL (libnccl.so.2) could not be loaded; tried in order: "
                + "system loader (dlopen libnccl.so.2): Cannot open library: libnccl.so.2; "
                + "$NCCL_LIBRARY=" + dir.resolve("gone.so") + ": no such file; "
                + "$NEMOTRON_SITE_PACKAGES: " + nowhere.resolve("nvidia/nccl/lib/libnccl.so.2") + ": no such file; "
                + "$NEMOTRON_SITE_PACKAGES: " + wheelLib + ": Cannot open library: " + wheelLib + ". "
                + "Install NCCL (apt libnccl2 or pip nvidia-nccl-cu12), or set NCCL_LIBRARY to its path, "
                + "or NEMOTRON_SITE_PACKAGES to the site-packages folders that hold the wheel", e.getMessage());
    }

    @Test
    void theRealLoaderOnAMachineWithoutNccl() {
        NcclLibrary.Opener real = name -> SymbolLookup.libraryLookup(name, Arena.global());
        boolean present;
        try {
            real.open("libnccl.so.2");
            present = true;
        } catch (IllegalArgumentException e) {
            present = false;
        }
        assumeTrue(!present, "libnccl.so.2 is installed here");
        NcclUnavailableException e = assertThrows(NcclUnavailableException.class,
                () -> NcclLibrary.locate(Map.of(), null, real));
        assertEquals("NCCL (libnccl.so.2) could not be loaded; tried in order: "
                + "system loader (dlopen libnccl.so.2): Cannot open library: libnccl.so.2; "
                + "$NCCL_LIBRARY: not set; "
                + "pip wheel (nvidia/nccl/lib/libnccl.so.2 under -Dnemotron.nccl.site-packages or $NEMOTRON_SITE_PACKAGES): neither set. "
                + "Install NCCL (apt libnccl2 or pip nvidia-nccl-cu12), or set NCCL_LIBRARY to its path, "
                + "or NEMOTRON_SITE_PACKAGES to the site-packages folders that hold the wheel", e.getMessage());
    }
}
