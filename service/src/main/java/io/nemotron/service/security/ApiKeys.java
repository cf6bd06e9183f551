package io.nemotron.service.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The accepted API keys, held only as SHA-256 digests.
 * <p>
 * {@link #identify} hashes the presented key and compares the digest with every stored one through
 * {@link MessageDigest#isEqual} (constant time for equal lengths), never stopping early: the time taken depends on
 * the number of keys, not on which key matched or how many leading characters were right. Comparing digests rather
 * than keys also hides the keys' lengths.
 * <p>
 * A key's identity, the non-secret name the rate limiter and logs use for its client, is {@code key-} followed by
 * the first 8 hex digits of its SHA-256 ({@code printf %s "$KEY" | sha256sum | cut -c1-8}).
 */
public final class ApiKeys {
    private final byte[][] digests;
    private final String[] identities;

    private ApiKeys(List<byte[]> digests) {
        this.digests = digests.toArray(byte[][]::new);
        this.identities = digests.stream().map(ApiKeys::identity).toArray(String[]::new);
    }

    /** The given keys (each checked: printable ASCII without spaces, as a gRPC header value can carry it). */
    public static ApiKeys of(List<String> keys) {
        Map<String, byte[]> unique = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            byte[] d = sha256(checked(keys.get(i), "API key " + (i + 1)));
            unique.putIfAbsent(HexFormat.of().formatHex(d), d);
        }
        return new ApiKeys(new ArrayList<>(unique.values()));
    }

    /**
     * The keys of {@code nemotron.security.api-keys} and {@code api-keys-file} together.
     *
     * @throws IllegalStateException naming the property or the file (never a key) when a key is malformed, the
     *                               file is unreadable or holds no key, or {@code require-api-key} is set and no
     *                               key is given
     */
    public static ApiKeys load(SecurityProperties props) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < props.apiKeys().size(); i++) {
            String key = props.apiKeys().get(i).strip();
            if (!key.isEmpty()) {
                keys.add(checked(key, "nemotron.security.api-keys[" + i + "]"));
            }
        }
        if (props.apiKeysFile() != null) {
            keys.addAll(readFile(Path.of(props.apiKeysFile())));
        }
        if (keys.isEmpty() && props.requireApiKey()) {
            throw new IllegalStateException("nemotron.security.require-api-key is true but no API key is configured: "
                    + "set nemotron.security.api-keys (env NEMOTRON_SECURITY_API_KEYS) or "
                    + "nemotron.security.api-keys-file");
        }
        return of(keys);
    }

    /** One key per line; blank lines and {@code #} comments skipped; a file without any key is an error. */
    static List<String> readFile(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("nemotron.security.api-keys-file " + file + ": cannot read it ("
                    + e.getClass().getSimpleName() + ")", e);
        }
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (!line.isEmpty() && !line.startsWith("#")) {
                keys.add(checked(line, "nemotron.security.api-keys-file " + file + " line " + (i + 1)));
            }
        }
        if (keys.isEmpty()) {
            throw new IllegalStateException("nemotron.security.api-keys-file " + file
                    + ": holds no API key (one key per line; blank lines and # comments are ignored)");
        }
        return keys;
    }

    private static String checked(String key, String where) {
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c <= ' ' || c > '~') {
                // the key itself is never echoed: this message reaches logs
                throw new IllegalStateException(where + ": an API key may hold only printable ASCII without spaces "
                        + "(character " + (i + 1) + " is not)");
            }
        }
        return key;
    }

    /** True when at least one key is configured: every call outside the open services then needs one. */
    public boolean enabled() {
        return digests.length > 0;
    }

    public int size() {
        return digests.length;
    }

    /** The identity of the presented key when it is one of ours. */
    public Optional<String> identify(String presented) {
        byte[] d = sha256(presented);
        int found = -1;
        for (int i = 0; i < digests.length; i++) {
            // NOTE: no early exit and no short-circuit: every digest is compared whatever matched before
            boolean equal = MessageDigest.isEqual(digests[i], d);
            found = equal ? i : found;
        }
        return found < 0 ? Optional.empty() : Optional.of(identities[found]);
    }

    public boolean matches(String presented) {
        return identify(presented).isPresent();
    }

    /** The identities of all keys, in configuration order (for the startup log line). */
    public List<String> identities() {
        return List.of(identities);
    }

    static String identity(byte[] digest) {
        return "key-" + HexFormat.of().formatHex(digest, 0, 4);
    }

    static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
