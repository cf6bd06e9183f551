package io.nemotron.service.bench;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PrometheusTextTest {
    // the shape Micrometer's Prometheus registry writes for the JVM memory pools
    private static final String TEXT = """
            # HELP jvm_memory_max_bytes The maximum amount of memory in bytes that can be used for memory management
            # TYPE jvm_memory_max_bytes gauge
            jvm_memory_max_bytes{area="heap",id="G1 Eden Space"} -1.0
            jvm_memory_max_bytes{area="heap",id="G1 Old Gen"} 1.610612736E9
            jvm_memory_max_bytes{area="nonheap",id="Metaspace"} -1.0
            jvm_memory_used_bytes{area="heap",id="G1 Eden Space"} 2.0E7
            jvm_memory_used_bytes{area="heap",id="G1 Old Gen"} 1.1E9
            jvm_memory_used_bytes{area="nonheap",id="Metaspace"} 8.0E7
            jvm_memory_used_bytes_total 5
            """;

    @Test
    void sumsTheSamplesWithTheLabelAndSkipsTheUnlimitedOnes() {
        assertEquals(1_120_000_000L, PrometheusText.sum(TEXT, "jvm_memory_used_bytes", "area=\"heap\""));
        assertEquals(80_000_000L, PrometheusText.sum(TEXT, "jvm_memory_used_bytes", "area=\"nonheap\""));
        assertEquals(1_610_612_736L, PrometheusText.sum(TEXT, "jvm_memory_max_bytes", "area=\"heap\""));
    }

    @Test
    void anAbsentMetricIsNamedNotZero() {
        assertThatThrownBy(() -> PrometheusText.sum(TEXT, "jvm_memory_committed_bytes", "area=\"heap\""))
                .hasMessageContaining("jvm_memory_committed_bytes");
    }
}
