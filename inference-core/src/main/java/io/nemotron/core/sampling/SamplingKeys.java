package io.nemotron.core.sampling;

/**
 * (logit, id) pairs packed into one long whose natural order is "larger logit first, then lower id", so
 * candidates sort with {@code Arrays.sort(long[])}: no boxing, no comparator, and ties resolve to the lower id.
 */
final class SamplingKeys {
    private SamplingKeys() {}

    static long descending(float value, int index) {
        int bits = Float.floatToIntBits(-value);
        // Makes the signed int order of the bits match the float order (negative floats count down).
        int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
        return ((long) ordered << 32) | (index & 0xffffffffL);
    }

    static int index(long key) {
        return (int) key;
    }

    /** Moves the {@code k} smallest keys of {@code a[0, n)} into {@code a[0, k)}, unordered (quickselect). */
    static void selectSmallest(long[] a, int n, int k) {
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            long pivot = medianOfThree(a[lo], a[(lo + hi) >>> 1], a[hi]);
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (a[i] < pivot) {
                    i++;
                }
                while (a[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    long t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            // Now a[lo..j] <= pivot <= a[i..hi]; keep narrowing the side that holds position k-1.
            if (k - 1 <= j) {
                hi = j;
            } else if (k - 1 >= i) {
                lo = i;
            } else {
                return;
            }
        }
    }

    private static long medianOfThree(long a, long b, long c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }
}
