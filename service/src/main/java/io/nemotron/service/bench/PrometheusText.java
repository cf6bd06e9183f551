package io.nemotron.service.bench;

/** Sums of samples in a Prometheus text exposition (what /actuator/prometheus answers). */
final class PrometheusText {
    private PrometheusText() {}

    /**
     * The sum of every sample of {@code metric} whose labels contain {@code label} (e.g. {@code area="heap"});
     * a metric that is absent names itself, since a zero would read as a measurement.
     */
    static long sum(String text, String metric, String label) {
        double sum = 0;
        boolean found = false;
        for (String line : text.split("\n")) {
            if (line.startsWith(metric + "{") && line.contains(label)) {
                int space = line.lastIndexOf(' ');
                double v = Double.parseDouble(line.substring(space + 1));
                if (v > 0) { // jvm_memory_max_bytes says -1 for pools without a limit
                    sum += v;
                }
                found = true;
            }
        }
        if (!found) {
            throw new IllegalStateException("the server's metrics have no " + metric + "{" + label + "}");
        }
        return (long) sum;
    }
}
