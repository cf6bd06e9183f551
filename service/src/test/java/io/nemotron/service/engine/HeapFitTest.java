package io.nemotron.service.engine;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nemotron.core.engine.EngineConfig;
import org.junit.jupiter.api.Test;

class HeapFitTest {
    private static final long MIB = 1L << 20;

    @Test
    void thePoolIsTheWholeBlocksTheBytesHold() {
        // 1 GiB over 3 MiB blocks: 341 whole blocks (341 x 3 = 1023 MiB), by hand
        EngineConfig bytes = new EngineConfig(512, 64, 1024, 16, 0, 1024 * MIB, true, 2);
        assertEquals(1023 * MIB, HeapFit.kvPoolBytes(bytes, 3 * MIB));
        EngineConfig blocks = new EngineConfig(512, 64, 1024, 16, 10, 1024 * MIB, true, 2);
        assertEquals(30 * MIB, HeapFit.kvPoolBytes(blocks, 3 * MIB));
    }

    @Test
    void theLaunchersDefaultHeapHoldsTheDefaultPool() {
        // ./nemotron serve: -Xmx1536m; application.yaml: kv-cache-size 1GB
        assertDoesNotThrow(() -> HeapFit.check(1024 * MIB, 1536 * MIB));
    }

    @Test
    void aPoolTheHeapCannotHoldNamesBothSettings() {
        assertThatThrownBy(() -> HeapFit.check(4096 * MIB, 1536 * MIB))
                .hasMessageContaining("nemotron.engine.kv-cache-size")
                .hasMessageContaining("-Xmx4608m")
                .hasMessageContaining("4096 MiB");
    }
}
