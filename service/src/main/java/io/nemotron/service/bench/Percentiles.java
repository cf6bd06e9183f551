package io.nemotron.service.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** p50/p90/p99 of a sample, nearest-rank (the smallest value with at least p% of the sample at or below it). */
final class Percentiles {
    private Percentiles() {}

    static Map<String, Double> of(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("p50", rank(sorted, 50));
        m.put("p90", rank(sorted, 90));
        m.put("p99", rank(sorted, 99));
        return m;
    }

    static double rank(double[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int idx = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
    }

    static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        return rank(sorted, 50);
    }
}
