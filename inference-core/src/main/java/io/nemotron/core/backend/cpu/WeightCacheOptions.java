package io.nemotron.core.backend.cpu;

import java.nio.file.Path;

/**
 * Whether the CPU backend keeps its run-time weight layout in a cache file ({@link WeightCache}), and the folder it
 * falls back to when the checkpoint's own folder cannot be written.
 *
 * @param enabled     false: pack in memory at every start, write nothing (the library's default, so that tests reading
 *                    shared reference checkpoints never write beside them)
 * @param fallbackDir where caches go when the model folder is read-only
 * @param verify      check every tensor's CRC32C while mapping (reads the whole file once, which also pre-faults it);
 *                    on unless the system property {@code nemotron.model.weight-cache-verify} is {@code false}
 */
public record WeightCacheOptions(boolean enabled, Path fallbackDir, boolean verify) {
    public static final WeightCacheOptions OFF = new WeightCacheOptions(false, defaultDir(), true);
    static final String VERIFY_PROPERTY = "nemotron.model.weight-cache-verify";

    public WeightCacheOptions {
        if (fallbackDir == null) {
            throw new IllegalArgumentException("weight cache folder must be set");
        }
    }

    /** On, falling back to {@code fallbackDir} (null: {@link #defaultDir()}), checksums verified. */
    public static WeightCacheOptions on(Path fallbackDir) {
        return new WeightCacheOptions(true, fallbackDir == null ? defaultDir() : fallbackDir, verifyByDefault());
    }

    /**
     * Parses {@code mode} ({@code on} | {@code off}) and {@code dir} (blank: the default) as the flags or properties
     * named {@code modeField} and {@code dirField} say them; a bad value is refused naming its field.
     */
    public static WeightCacheOptions parse(String mode, String modeField, String dir, String dirField) {
        Path folder;
        try {
            folder = dir == null || dir.isBlank() ? defaultDir() : Path.of(dir);
        } catch (java.nio.file.InvalidPathException e) {
            throw new IllegalArgumentException(dirField + " '" + dir + "' is not a folder path: " + e.getReason());
        }
        return switch (mode == null ? "on" : mode.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "on", "true" -> new WeightCacheOptions(true, folder, verifyByDefault());
            case "off", "false" -> new WeightCacheOptions(false, folder, verifyByDefault());
            default -> throw new IllegalArgumentException(modeField + " '" + mode + "': on or off");
        };
    }

    /**
     * System property {@code nemotron.model.weight-cache-dir} (the build sets it for tests: a process cannot change its
     * environment), else {@code $XDG_CACHE_HOME/nemotron-serve/weights}, else {@code ~/.cache/nemotron-serve/weights}.
     */
    public static Path defaultDir() {
        String prop = System.getProperty("nemotron.model.weight-cache-dir");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("nemotron-serve").resolve("weights");
    }

    private static boolean verifyByDefault() {
        return !"false".equalsIgnoreCase(System.getProperty(VERIFY_PROPERTY, "true").trim());
    }

    /** The same options with checksum verification on or off. */
    public WeightCacheOptions withVerify(boolean on) {
        return new WeightCacheOptions(enabled, fallbackDir, on);
    }
}
