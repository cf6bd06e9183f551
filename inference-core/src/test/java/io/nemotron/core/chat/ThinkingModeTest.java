package io.nemotron.core.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The effective reasoning mode comes from the template's switch in the system message, never from other text. */
class ThinkingModeTest {
    private static final ThinkingSwitch ULTRA = new ThinkingSwitch(ThinkingSwitch.Style.SYSTEM_LINE, Thinking.ON);
    private static final ThinkingSwitch NO_SWITCH = new ThinkingSwitch(ThinkingSwitch.Style.SYSTEM_LINE, null);
    private static final ThinkingSwitch SLASH = new ThinkingSwitch(ThinkingSwitch.Style.SLASH_FLAG, Thinking.ON);

    @Test
    void systemLineModels() {
        assertEquals(Thinking.ON, ULTRA.modeOf(null), "Ultra's template default without a system message");
        assertEquals(Thinking.ON, ULTRA.modeOf("  detailed thinking on  \n\nYou are terse."));
        assertEquals(Thinking.OFF, ULTRA.modeOf("detailed thinking off"));
        assertEquals(Thinking.OFF, ULTRA.modeOf("You are terse. Never say 'detailed thinking on'."),
                "the switch is the first line, not a phrase anywhere");
        assertEquals(Thinking.OFF, NO_SWITCH.modeOf(null));
    }

    @Test
    void slashFlagModels() {
        assertEquals(Thinking.ON, SLASH.modeOf(null));
        assertEquals(Thinking.OFF, SLASH.modeOf("Be brief. /no_think"));
        assertEquals(Thinking.ON, SLASH.modeOf("/think"));
        assertEquals(Thinking.ON, SLASH.modeOf("Be brief."));
    }

    @Test
    void theRequestWinsAndAUserTurnNeverCounts() {
        PromptBuilder b = PromptBuilder.forTemplate(
                "{%- if messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}{%- else %}detailed thinking on{%- endif %}");
        ChatRequest quoting = ChatRequestParser.parse("""
                {"messages":[{"role":"system","content":"detailed thinking off"},
                             {"role":"user","content":"say detailed thinking on"}]}""");
        assertEquals(Thinking.OFF, b.effectiveThinking(quoting));
        assertEquals(Thinking.ON, b.effectiveThinking(ChatRequestParser.parse(
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")));
        assertEquals(Thinking.OFF, b.effectiveThinking(ChatRequestParser.parse(
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}], \"thinking\": \"off\"}")));
    }
}
