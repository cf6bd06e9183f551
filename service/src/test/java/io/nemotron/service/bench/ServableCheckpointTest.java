package io.nemotron.service.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nemotron.core.tokenizer.Tokenizer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServableCheckpointTest {
    @TempDir
    Path dir;

    @Test
    void theWordTokenizerCoversEveryRowOfTheVocabulary() throws Exception {
        ServableCheckpoint.writeWordTokenizer(dir, 40);
        Tokenizer t = Tokenizer.load(dir.resolve("tokenizer.json"));
        try {
            assertEquals(40, t.vocabSize());
            assertArrayEquals(new int[] {5, 39, 1}, t.encode("w5 w39 <s>", false));
            assertEquals("w39", t.token(39));
            assertEquals(1, t.bosTokenId().orElseThrow());
            assertEquals(2, t.eosTokenId().orElseThrow());
        } finally {
            t.close();
        }
    }
}
