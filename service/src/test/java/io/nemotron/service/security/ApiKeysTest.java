package io.nemotron.service.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Key loading and matching; identities hand-checked with {@code printf %s KEY | sha256sum | cut -c1-8}. */
class ApiKeysTest {
    private static final String ALPHA = "alpha-key-0123456789";   // sha256 c0dcc758...
    private static final String BETA = "beta-key-9876543210";     // sha256 99e3dfef...
    private static final String GAMMA = "gamma-key-from-env";     // sha256 86c90b49...

    @TempDir
    Path tmp;

    private static SecurityProperties props(List<String> keys, Path file, boolean require) {
        return new SecurityProperties(keys, file == null ? null : file.toString(), require, Set.of(), false);
    }

    @Test
    void fileSkipsBlankLinesAndCommentsAndTrimsEachKey() throws Exception {
        Path file = Files.writeString(tmp.resolve("keys"), """
                # production keys, one per line

                  %s\t
                #%s (revoked: a comment, not a key)
                %s
                %s
                """.formatted(ALPHA, GAMMA, BETA, ALPHA));

        ApiKeys keys = ApiKeys.load(props(List.of(), file, true));

        assertThat(keys.enabled()).isTrue();
        assertThat(keys.identities()).containsExactly("key-c0dcc758", "key-99e3dfef"); // the repeated ALPHA once
        assertThat(keys.identify(ALPHA)).contains("key-c0dcc758");
        assertThat(keys.identify(BETA)).contains("key-99e3dfef");
        assertThat(keys.matches(GAMMA)).isFalse();
        assertThat(keys.matches("#" + GAMMA)).isFalse();
    }

    @Test
    void propertyKeysAndFileKeysTogether() throws Exception {
        Path file = Files.writeString(tmp.resolve("keys"), BETA + "\n");
        ApiKeys keys = ApiKeys.load(props(List.of(" " + GAMMA + " ", ""), file, false));
        assertThat(keys.identities()).containsExactly("key-86c90b49", "key-99e3dfef");
        assertThat(keys.identify(GAMMA)).contains("key-86c90b49");
    }

    @Test
    void onlyTheExactKeyMatches() {
        ApiKeys keys = ApiKeys.of(List.of(ALPHA, BETA));
        assertThat(keys.matches(ALPHA)).isTrue();
        assertThat(keys.matches(BETA)).isTrue();
        for (String near : List.of("", "a", ALPHA.substring(0, ALPHA.length() - 1), ALPHA + "0", ALPHA.toUpperCase(),
                " " + ALPHA, "alpha-key-0123456788", ALPHA + BETA)) {
            assertThat(keys.identify(near)).as(near).isEmpty();
        }
    }

    @Test
    void noKeysMeansAuthenticationOff() {
        ApiKeys keys = ApiKeys.load(props(List.of(), null, false));
        assertThat(keys.enabled()).isFalse();
        assertThat(keys.matches("")).isFalse();
        assertThat(keys.matches(ALPHA)).isFalse();
    }

    @Test
    void requireApiKeyWithoutAnyKeyRefusesToStart() {
        assertThatThrownBy(() -> ApiKeys.load(props(List.of(" "), null, true)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("nemotron.security.require-api-key is true but no API key is configured")
                .hasMessageContaining("NEMOTRON_SECURITY_API_KEYS")
                .hasMessageContaining("nemotron.security.api-keys-file");
    }

    @Test
    void aFileWithoutKeysIsAnErrorNamingThePath() throws Exception {
        Path file = Files.writeString(tmp.resolve("empty-keys"), "# nothing yet\n\n   \n");
        assertThatThrownBy(() -> ApiKeys.load(props(List.of(ALPHA), file, false)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("nemotron.security.api-keys-file " + file
                        + ": holds no API key (one key per line; blank lines and # comments are ignored)");
    }

    @Test
    void aMissingFileIsAnErrorNamingThePath() {
        Path file = tmp.resolve("no-such-keys");
        assertThatThrownBy(() -> ApiKeys.load(props(List.of(), file, false)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("nemotron.security.api-keys-file " + file + ": cannot read it (NoSuchFileException)");
    }

    @Test
    void aMalformedKeyIsNamedByItsLineButNeverEchoed() throws Exception {
        Path file = Files.writeString(tmp.resolve("keys"), ALPHA + "\nsecret with-space\n");
        assertThatThrownBy(() -> ApiKeys.load(props(List.of(), file, false)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("nemotron.security.api-keys-file " + file + " line 2: an API key may hold only printable "
                        + "ASCII without spaces (character 7 is not)");
        assertThatThrownBy(() -> ApiKeys.load(props(List.of(ALPHA, "naïve-key"), null, false)))
                .hasMessage("nemotron.security.api-keys[1]: an API key may hold only printable ASCII without spaces "
                        + "(character 3 is not)");
    }

    @Test
    void bearerTokenParsing() {
        assertThat(ApiKeyInterceptor.bearerToken("Bearer " + ALPHA)).isEqualTo(ALPHA);
        assertThat(ApiKeyInterceptor.bearerToken("bearer  " + ALPHA + " ")).isEqualTo(ALPHA);
        assertThat(ApiKeyInterceptor.bearerToken("BEARER " + ALPHA)).isEqualTo(ALPHA);
        assertThat(ApiKeyInterceptor.bearerToken(ALPHA)).isNull();
        assertThat(ApiKeyInterceptor.bearerToken("Basic " + ALPHA)).isNull();
        assertThat(ApiKeyInterceptor.bearerToken("Bearer ")).isNull();
        assertThat(ApiKeyInterceptor.bearerToken("Bearer    ")).isNull();
        assertThat(ApiKeyInterceptor.bearerToken(null)).isNull();
    }
}
