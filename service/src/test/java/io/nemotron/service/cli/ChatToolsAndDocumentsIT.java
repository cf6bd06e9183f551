package io.nemotron.service.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.nemotron.api.v1.ChatFinal;
import io.nemotron.api.v1.ChatMessage;
import io.nemotron.api.v1.ChatRequest;
import io.nemotron.api.v1.ChatResponse;
import io.nemotron.api.v1.Document;
import io.nemotron.api.v1.NemotronGrpc;
import io.nemotron.api.v1.Role;
import io.nemotron.api.v1.Thinking;
import io.nemotron.api.v1.Tool;
import io.nemotron.core.demo.DemoModel;
import io.nemotron.core.tokenizer.Tokenizer;
import io.nemotron.service.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tools and documents end to end with the real engine and the demo model: {@code ./nemotron prompt} renders them
 * (the tool's name and description, each used document's citation id and text), the Chat RPC runs the very same
 * prompt (its usage counts exactly that prompt's tokens), the final message names used and dropped documents, and
 * a second request over the same documents reuses the first one's KV from the prefix cache.
 */
class ChatToolsAndDocumentsIT {
    @TempDir
    Path tmp;

    private static final String QUESTION = "Which river flows through Lyon?";
    private static final String ANSWER = "Lyon lies where the Rhone meets the Saone; the Rhone flows through the city.";

    private static List<Document> documents() {
        List<Document> docs = new ArrayList<>();
        docs.add(Document.newBuilder().setId("geo").setTitle("Lyon").setText(ANSWER).build());
        for (int i = 0; i < 6; i++) {
            docs.add(Document.newBuilder().setId("filler-" + i).setTitle("Baking " + i)
                    .setText(("Bread dough number " + i + " rests for " + (i + 1) + " hours before it is shaped and baked. ")
                            .repeat(40))
                    .build());
        }
        return docs;
    }

    private static Tool tool() {
        return Tool.newBuilder().setName("lookup_river").setDescription("Find the river of a city")
                .setParameters(Struct.newBuilder()
                        .putFields("type", Value.newBuilder().setStringValue("object").build())
                        .putFields("properties", Value.newBuilder().setStructValue(Struct.newBuilder()
                                .putFields("city", Value.newBuilder().setStructValue(Struct.newBuilder()
                                        .putFields("type", Value.newBuilder().setStringValue("string").build()))
                                        .build())).build())
                        .putFields("required", Value.newBuilder().setListValue(ListValue.newBuilder()
                                .addValues(Value.newBuilder().setStringValue("city"))).build()))
                .build();
    }

    private static ChatRequest request(int ragBudget) {
        return ChatRequest.newBuilder().setThinking(Thinking.THINKING_OFF).addTools(tool())
                .addMessages(ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(QUESTION))
                .addAllDocuments(documents()).setRagContextBudgetTokens(ragBudget).setMaxTokens(4).build();
    }

    /** The same request as the CLI's chat request JSON. */
    private static String requestJson(int ragBudget) {
        StringBuilder docs = new StringBuilder();
        for (Document d : documents()) {
            docs.append(docs.isEmpty() ? "" : ",").append("{\"id\":\"").append(d.getId()).append("\",\"title\":\"")
                    .append(d.getTitle()).append("\",\"text\":\"").append(d.getText()).append("\"}");
        }
        return "{\"thinking\":\"off\",\"messages\":[{\"role\":\"user\",\"content\":\"" + QUESTION + "\"}],"
                + "\"tools\":[{\"name\":\"lookup_river\",\"description\":\"Find the river of a city\",\"parameters\":"
                + "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}],"
                + "\"documents\":[" + docs + "],\"rag\":{\"context_budget_tokens\":" + ragBudget + "}}";
    }

    private static ChatFinal finalOf(NemotronGrpc.NemotronBlockingStub stub, ChatRequest request) {
        List<ChatResponse> responses = new ArrayList<>();
        stub.chat(request).forEachRemaining(responses::add);
        assertThat(responses.getLast().hasFinal()).isTrue();
        return responses.getLast().getFinal();
    }

    @Test
    void toolsAndDocumentsReachThePromptAndTheFinalReportsTheDocuments() throws Exception {
        int budget = 400;   // room for the answer and about one filler: the rest must be reported as dropped
        try (TestServer server = TestServer.loopbackRealEngine(Files.createDirectories(tmp.resolve("cache")))) {
            Path requestFile = tmp.resolve("chat.json");
            Files.writeString(requestFile, requestJson(budget));
            CliRun prompt = CliRun.of("prompt", "--model", "demo", "--chat-request", requestFile.toString());
            assertThat(prompt.exitCode()).as(prompt.err()).isZero();
            assertThat(prompt.out()).contains("lookup_river").contains("Find the river of a city")
                    .contains("[geo] Lyon").contains(ANSWER).contains(QUESTION);
            assertThat(prompt.err()).contains("documents left out:");

            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.port).usePlaintext().build();
            try {
                var stub = NemotronGrpc.newBlockingStub(channel);
                ChatFinal first = finalOf(stub, request(budget));
                int promptTokens;
                try (Tokenizer tokenizer = Tokenizer.load(DemoModel.defaultCacheDir().resolve("checkpoint"))) {
                    promptTokens = tokenizer.encode(prompt.out(), false).length;
                }
                assertThat(first.getUsage().getPromptTokens()).as("the RPC ran the prompt the CLI printed")
                        .isEqualTo(promptTokens);
                assertThat(first.getUsage().getCompletionTokens()).isBetween(1, 4);
                assertThat(first.getDocumentsUsedList()).contains("geo");
                assertThat(first.getDocumentsDroppedList()).isNotEmpty();
                List<String> all = new ArrayList<>(first.getDocumentsUsedList());
                all.addAll(first.getDocumentsDroppedList());
                assertThat(all).containsExactlyInAnyOrderElementsOf(documents().stream().map(Document::getId).toList());

                // the same documents again (another question): the shared prefix comes from the cache
                ChatRequest again = request(budget).toBuilder().setMessages(0, ChatMessage.newBuilder()
                        .setRole(Role.ROLE_USER).setContent(QUESTION + " Answer briefly.")).build();
                ChatFinal second = finalOf(stub, again);
                assertThat(second.getUsage().getCachedPromptTokens()).isGreaterThan(0);
            } finally {
                channel.shutdownNow();
            }
        }
    }
}
