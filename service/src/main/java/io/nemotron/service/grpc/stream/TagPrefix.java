package io.nemotron.service.grpc.stream;

/**
 * How much of a streamed text to hold back because it could be the start of a tag ({@code <think>},
 * {@code </think>}, {@code <TOOLCALL>}) split across tokens. Runs on every delta: compares characters, allocates nothing.
 */
public final class TagPrefix {
    private TagPrefix() {}

    /** Length of the longest suffix of s that is a proper prefix of tag. */
    public static int partialSuffix(CharSequence s, String tag) {
        int max = Math.min(s.length(), tag.length() - 1);
        for (int n = max; n > 0; n--) {
            boolean match = true;
            for (int i = 0; i < n; i++) {
                if (s.charAt(s.length() - n + i) != tag.charAt(i)) {
                    match = false;
                    break;
                }
            }
            if (match) {
                return n;
            }
        }
        return 0;
    }
}
