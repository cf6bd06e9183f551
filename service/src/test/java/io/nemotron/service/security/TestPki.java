package io.nemotron.service.security;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway PKI made with {@code /usr/bin/openssl} at test time (no key material is committed): a CA, a server
 * certificate for 127.0.0.1 and localhost, a client certificate from the same CA, and a self-signed "rogue" client
 * certificate the CA never issued. EC P-256 keys in PKCS#8 PEM, as both Spring's PEM bundles and Netty read them.
 */
record TestPki(Path caCert, Path serverCert, Path serverKey, Path clientCert, Path clientKey, Path rogueCert,
               Path rogueKey) {
    private static final Path OPENSSL = Path.of("/usr/bin/openssl");
    private static final List<String> NEW_KEY = List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes");

    static TestPki create(Path dir) throws IOException, InterruptedException {
        assumeTrue(Files.isExecutable(OPENSSL), "needs " + OPENSSL + " to make test certificates");
        TestPki p = new TestPki(dir.resolve("ca.crt"), dir.resolve("server.crt"), dir.resolve("server.key"),
                dir.resolve("client.crt"), dir.resolve("client.key"), dir.resolve("rogue.crt"), dir.resolve("rogue.key"));
        Path caKey = dir.resolve("ca.key");
        selfSigned(dir, "test-ca", p.caCert, caKey);
        issue(dir, "server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
                p.caCert, caKey, p.serverCert, p.serverKey);
        issue(dir, "client", "test-client", "extendedKeyUsage=clientAuth\n", p.caCert, caKey, p.clientCert,
                p.clientKey);
        selfSigned(dir, "test-client", p.rogueCert, p.rogueKey);
        return p;
    }

    private static void selfSigned(Path dir, String cn, Path cert, Path key) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(OPENSSL.toString(), "req", "-x509"));
        cmd.addAll(NEW_KEY);
        cmd.addAll(List.of("-keyout", key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=" + cn));
        run(dir, cmd);
    }

    private static void issue(Path dir, String name, String cn, String extensions, Path caCert, Path caKey, Path cert,
                              Path key) throws IOException, InterruptedException {
        Path csr = dir.resolve(name + ".csr");
        Path ext = Files.writeString(dir.resolve(name + ".ext"), extensions, StandardCharsets.US_ASCII);
        List<String> req = new ArrayList<>(List.of(OPENSSL.toString(), "req"));
        req.addAll(NEW_KEY);
        req.addAll(List.of("-keyout", key.toString(), "-out", csr.toString(), "-subj", "/CN=" + cn));
        run(dir, req);
        run(dir, List.of(OPENSSL.toString(), "x509", "-req", "-in", csr.toString(), "-CA", caCert.toString(),
                "-CAkey", caKey.toString(), "-CAcreateserial", "-out", cert.toString(), "-days", "2",
                "-extfile", ext.toString()));
    }

    private static void run(Path dir, List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
        }
    }
}
