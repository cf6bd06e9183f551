package io.nemotron.service.cli;

import io.nemotron.core.backend.cpu.WeightCacheOptions;
import picocli.CommandLine.Option;

/** {@code --weight-cache on|off} and {@code --weight-cache-dir DIR}, shared by the commands that load a model. */
final class WeightCacheFlags {
    @Option(names = "--weight-cache", defaultValue = "on", paramLabel = "on|off",
            description = "CPU backend: keep the packed weights in a cache file mapped on later starts (default on)")
    String mode;

    @Option(names = "--weight-cache-dir", paramLabel = "DIR",
            description = "where weight caches go when the model folder is read-only (default ~/.cache/nemotron-serve/weights)")
    String dir;

    WeightCacheOptions options() {
        return WeightCacheOptions.parse(mode, "--weight-cache", dir, "--weight-cache-dir");
    }
}
