package io.nemotron.core.chat;

import io.nemotron.core.chat.jinja.Template;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A Jinja chat template with its special-token strings, rendered the way HF's apply_chat_template does. */
public final class TemplateChatFormat implements ChatFormat {
    private final Template template;
    private final String bosToken;
    private final String eosToken;

    public TemplateChatFormat(String templateSource, String bosToken, String eosToken) {
        this.template = Template.compile(templateSource);
        this.bosToken = bosToken;
        this.eosToken = eosToken;
    }

    @Override
    public String render(List<Map<String, Object>> messages, List<Map<String, Object>> tools, boolean addGenerationPrompt) {
        Map<String, Object> vars = new HashMap<>();
        vars.put("messages", messages);
        vars.put("tools", tools);
        vars.put("bos_token", bosToken);
        vars.put("eos_token", eosToken);
        vars.put("add_generation_prompt", addGenerationPrompt);
        return template.render(vars);
    }

    /** A template that never reads {@code tools} has no tools branch (Ultra's): it would drop them silently. */
    @Override
    public boolean handlesTools() {
        return template.readsVariable("tools");
    }

    @Override
    public boolean stripsReasoning() {
        return template.source().contains("</think>");
    }

    @Override
    public ThinkingSwitch thinkingSwitch() {
        return ThinkingSwitch.of(template.source());
    }
}
