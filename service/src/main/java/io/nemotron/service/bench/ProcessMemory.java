package io.nemotron.service.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process's resident memory as Linux accounts it, from {@code /proc/<pid>/status} (VmRSS and its split into
 * anonymous, file-backed and shared-memory pages) and {@code /proc/<pid>/smaps_rollup} (Pss, Anonymous). File-backed
 * pages are the mmapped weights (and the JVM's own jars and libraries); anonymous pages are the heap, native
 * allocations and any copy of the weights.
 *
 * @param vmRss     VmRSS: every resident page of the process
 * @param rssAnon   RssAnon: anonymous pages (heap, malloc, Arena allocations)
 * @param rssFile   RssFile: file-backed pages (mmapped checkpoint, jars, shared libraries)
 * @param rssShmem  RssShmem: shared memory (tmpfs, shm)
 * @param pss       Pss of smaps_rollup: resident pages with shared ones split among their sharers
 * @param anonymous Anonymous of smaps_rollup
 */
public record ProcessMemory(long vmRss, long rssAnon, long rssFile, long rssShmem, long pss, long anonymous) {

    /** Reads the process {@code pid}; an unreadable /proc (not Linux, process gone) is an {@link UncheckedIOException}. */
    public static ProcessMemory of(long pid) {
        Path proc = Path.of("/proc", Long.toString(pid));
        try {
            return parse(Files.readString(proc.resolve("status")), Files.readString(proc.resolve("smaps_rollup")));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the memory of process " + pid + " from " + proc + ": "
                    + e.getMessage(), e);
        }
    }

    /** From the texts of /proc/PID/status and /proc/PID/smaps_rollup (values in kB there, in bytes here). */
    static ProcessMemory parse(String status, String smapsRollup) {
        return new ProcessMemory(kb(status, "VmRSS"), kb(status, "RssAnon"), kb(status, "RssFile"),
                kb(status, "RssShmem"), kb(smapsRollup, "Pss"), kb(smapsRollup, "Anonymous"));
    }

    /** The value of the line {@code key:   1234 kB} in bytes; a missing key names it. */
    private static long kb(String text, String key) {
        for (String line : text.split("\n")) {
            if (line.startsWith(key + ":")) {
                String[] parts = line.substring(key.length() + 1).trim().split("\\s+");
                if (parts.length != 2 || !parts[1].equals("kB")) {
                    throw new IllegalArgumentException("unexpected /proc line '" + line + "'");
                }
                return Long.parseLong(parts[0]) * 1024;
            }
        }
        throw new IllegalArgumentException("no " + key + " line in /proc text");
    }
}
