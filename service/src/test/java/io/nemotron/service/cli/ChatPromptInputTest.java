package io.nemotron.service.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.nemotron.core.chat.Thinking;
import io.nemotron.core.runtime.LoadedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generate --chat-request}: the two drifts issue 18 names, each first seen failing on the old code. The
 * effective thinking mode comes from the request and the template's switch (the system message), not from a search
 * of the rendered prompt; documents go through the RAG assembler as on the Chat RPC.
 */
class ChatPromptInputTest {
    static LoadedModel stories;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        stories = LoadedModel.openCpu(CliRun.reference("stories260k/hf"), 1, 8);
    }

    @AfterAll
    static void close() {
        stories.close();
    }

    private GenerateCommand.PromptInput render(String json) throws Exception {
        Path req = tmp.resolve("req.json");
        Files.writeString(req, json);
        return ChatPromptInput.render(req, stories);
    }

    @Test
    void aUserMessageQuotingTheSwitchDoesNotTurnThinkingOn() throws Exception {
        GenerateCommand.PromptInput input = render("""
                {"messages":[{"role":"system","content":"detailed thinking off"},
                             {"role":"user","content":"What does 'detailed thinking on' do?"}]}""");
        assertEquals(Thinking.OFF, input.thinking());
    }

    @Test
    void theRequestsOwnSwitchWins() throws Exception {
        assertEquals(Thinking.ON, render("""
                {"messages":[{"role":"user","content":"hi"}], "thinking": "on"}""").thinking());
        assertEquals(Thinking.OFF, render("""
                {"messages":[{"role":"system","content":"detailed thinking on"},{"role":"user","content":"hi"}],
                 "thinking": "off"}""").thinking());
    }

    @Test
    void documentsAreFoldedIntoThePromptAsOnTheChatRpc() throws Exception {
        GenerateCommand.PromptInput input = render("""
                {"messages":[{"role":"user","content":"What is in the doc?"}],
                 "documents":[{"id":"d1","title":"t","text":"the quick brown fox"}]}""");
        String prompt = stories.tokenizer().decode(input.ids(), false);
        assertTrue(prompt.contains("the quick brown fox"), prompt);
        assertTrue(prompt.contains("What is in the doc?"), prompt);
    }
}
