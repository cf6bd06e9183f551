package io.nemotron.service.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class PercentilesTest {
    @Test
    void nearestRankOnHandCheckedSamples() {
        // 1..100: p50 = 50, p90 = 90, p99 = 99 by nearest rank
        List<Double> hundred = IntStream.rangeClosed(1, 100).mapToObj(i -> (double) i).toList();
        assertEquals(Map.of("p50", 50.0, "p90", 90.0, "p99", 99.0), Percentiles.of(hundred));
        // {10, 20, 30}: ceil(0.5*3)=2 -> 20; ceil(0.9*3)=3 -> 30
        assertEquals(20.0, Percentiles.of(List.of(30.0, 10.0, 20.0)).get("p50"));
        assertEquals(30.0, Percentiles.of(List.of(30.0, 10.0, 20.0)).get("p90"));
        assertEquals(0.0, Percentiles.of(List.of()).get("p99"));
    }
}
