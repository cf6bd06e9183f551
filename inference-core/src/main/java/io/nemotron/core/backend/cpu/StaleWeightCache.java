package io.nemotron.core.backend.cpu;

/** A weight cache file that must not be used, with the reason the rebuild's warning names. */
final class StaleWeightCache extends Exception {
    StaleWeightCache(String reason) {
        super(reason, null, false, false);
    }
}
