package io.nemotron.core.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.nemotron.core.chat.jinja.Template;
import io.nemotron.core.testing.Reference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import tools.jackson.databind.JsonNode;

/** Every case of reference/chat-template/cases.json, rendered by the interpreter with the case's own template. */
class ChatTemplateCasesTest {
    private static final JsonNode CASES = Reference.json("chat-template/cases.json");

    @TestFactory
    Stream<DynamicTest> everyCaseRendersExactlyAsJinja2() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : CASES.get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("description").asString(), () -> {
                Template template = Template.compile(Reference.readString("nemotron/" + c.get("template").asString()));
                Map<String, Object> vars = new HashMap<>();
                vars.put("messages", JsonValues.fromJson(c.get("messages")));
                vars.put("tools", JsonValues.fromJson(c.get("tools")));
                vars.put("add_generation_prompt", c.get("add_generation_prompt").booleanValue());
                vars.put("bos_token", CASES.get("bos_token").asString());
                vars.put("eos_token", CASES.get("eos_token").asString());
                assertEquals(c.get("expected_prompt").asString(), template.render(vars));
            }));
        }
        return tests.stream();
    }

    /** llama.cpp's "Llama-3" case, rendered with the Llama 3.1 tokenizer_config.json chat_template (see SOURCE.md). */
    @Test
    void llama31TemplateMatchesLlamaCppCase() {
        JsonNode c = Reference.json("llama31-prompt-format/llamacpp_llama3_template_case.json");
        String template = Reference.json("llama-3.1-tokenizer/tokenizer_config.json").get("chat_template").asString();
        Map<String, Object> vars = new HashMap<>();
        vars.put("messages", JsonValues.fromJson(c.get("messages")));
        vars.put("add_generation_prompt", true);
        vars.put("bos_token", c.get("bos_token").asString());
        assertEquals(c.get("expected_output").asString(), Template.compile(template).render(vars));
        assertEquals(c.get("expected_output").asString(), Template.compile(c.get("template").asString()).render(vars));
    }
}
