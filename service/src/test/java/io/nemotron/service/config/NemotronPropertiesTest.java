package io.nemotron.service.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nemotron.core.backend.KvCacheDtype;
import io.nemotron.core.runtime.KvCacheChoice;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code nemotron.model.kv-cache-dtype}: auto when unset, a fixed dtype, and a bad value refused naming the property. */
class NemotronPropertiesTest {

    private static NemotronProperties.Model model(String kvCacheDtype) {
        return new NemotronProperties.Model("demo", "cpu", 1, Duration.ofMinutes(1), 1, "on", kvCacheDtype, null);
    }

    @Test
    void loadProgressIntervalIsFiveSecondsWhenUnset_andMustBePositive() {
        assertThat(model(null).loadProgressInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThatThrownBy(() -> new NemotronProperties.Model("demo", "cpu", 1, Duration.ofMinutes(1), 1, "on", null,
                Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nemotron.model.load-progress-interval");
    }

    @Test
    void kvCacheDtypeIsAutoWhenUnsetAndParsedOtherwise() {
        assertThat(model(null).kvCache()).isEqualTo(KvCacheChoice.AUTO);
        assertThat(model("fp8").kvCache()).isEqualTo(KvCacheChoice.of(KvCacheDtype.FP8));
        assertThatThrownBy(() -> model("half")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("nemotron.model.kv-cache-dtype 'half' is not one of auto, fp32, bf16, fp8");
    }

    @Test
    void weightCacheIsOnUnlessTurnedOffAndABadValueIsRefusedNamingTheProperty() {
        var unset = new NemotronProperties.Model("demo", "cpu", 1, Duration.ofMinutes(1), 1, "on", null, null, null, null, null);
        assertThat(unset.weightCacheOptions().enabled()).isTrue();
        assertThat(model(null).weightCacheOptions().enabled()).isFalse();
        var off = new NemotronProperties.Model("demo", "cpu", 1, Duration.ofMinutes(1), 1, "on", null, null, "off", "/w", null);
        assertThat(off.weightCacheOptions().enabled()).isFalse();
        assertThat(off.weightCacheOptions().fallbackDir()).isEqualTo(java.nio.file.Path.of("/w"));
        assertThatThrownBy(() -> new NemotronProperties.Model("demo", "cpu", 1, Duration.ofMinutes(1), 1, "on", null,
                null, "maybe", null, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("nemotron.model.weight-cache 'maybe': on or off");
    }
}
