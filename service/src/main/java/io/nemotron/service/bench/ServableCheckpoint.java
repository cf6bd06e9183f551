package io.nemotron.service.bench;

import io.nemotron.core.config.ModelConfigLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * A benchmark checkpoint (random weights, no tokenizer) made servable: a folder of links to its files plus a word-level
 * tokenizer with one token per row of the model's vocabulary ({@code <unk>}, {@code <s>} = BOS 1, {@code </s>} = EOS
 * 2, then {@code w3}, {@code w4}, ...), so that every id the random model samples detokenizes, and the server maps the
 * very same weight files without a copy.
 */
public final class ServableCheckpoint {
    private ServableCheckpoint() {}

    static void writeWordTokenizer(Path dir, int vocabSize) throws IOException {
        StringBuilder vocab = new StringBuilder("{\"<unk>\":0,\"<s>\":1,\"</s>\":2");
        for (int id = 3; id < vocabSize; id++) {
            vocab.append(",\"w").append(id).append("\":").append(id);
        }
        vocab.append('}');
        Files.deleteIfExists(dir.resolve("tokenizer.json"));
        Files.deleteIfExists(dir.resolve("tokenizer_config.json"));
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,
                 "pre_tokenizer":{"type":"WhitespaceSplit"},"post_processor":null,"decoder":null,
                 "model":{"type":"WordLevel","unk_token":"<unk>","vocab":%s}}
                """.formatted(vocab));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\":\"<s>\",\"eos_token\":\"</s>\"}\n");
    }

    public static Path of(Path checkpoint, Path servedDir) {
        try {
            Files.createDirectories(servedDir);
            try (Stream<Path> files = Files.list(checkpoint)) {
                for (Path f : files.toList()) {
                    Path link = servedDir.resolve(f.getFileName());
                    Files.deleteIfExists(link);
                    Files.createSymbolicLink(link, f.toAbsolutePath());
                }
            }
            writeWordTokenizer(servedDir, ModelConfigLoader.load(checkpoint).vocabSize());
            return servedDir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + servedDir + " for serving: " + e.getMessage(), e);
        }
    }
}
