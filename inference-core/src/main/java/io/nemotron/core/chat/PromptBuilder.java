package io.nemotron.core.chat;

import io.nemotron.core.chat.jinja.Strings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns a {@link ChatRequest} into the exact prompt text for one model. Before the chat format renders, the
 * builder applies what the format does not do itself:
 * <ol>
 *   <li>the thinking switch as the system message ({@link ThinkingSwitch} documents the merge rule);</li>
 *   <li>for formats without a tools branch (Ultra's template, the built-in format): the Llama-Nemotron tools
 *       block, {@code <TOOLCALL>} and merged {@code <TOOL_RESPONSE>} turns ({@link NemotronToolFormat});</li>
 *   <li>dropping earlier assistant turns' {@code <think>...</think>} reasoning, as Ultra's template does.</li>
 * </ol>
 * Documents are folded in before this (the service's chat preparation runs the RAG assembler); a request that still
 * holds them is refused, since silently dropping them would answer without them.
 */
public final class PromptBuilder {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String THINK_END = "</think>";

    private final ChatFormat format;
    private final ChatFormat toolFormat;

    /** {@code toolFormat} serves requests with tools (HF's "tool_use" template); null means use {@code format}. */
    public PromptBuilder(ChatFormat format, ChatFormat toolFormat) {
        this.format = format;
        this.toolFormat = toolFormat;
    }

    /** With a template file's text; bos/eos are the Llama-3 strings, as for the reference cases. */
    public static PromptBuilder forTemplate(String templateSource) {
        return forTemplate(templateSource, BuiltinLlamaFormat.BEGIN_OF_TEXT, BuiltinLlamaFormat.EOT);
    }

    public static PromptBuilder forTemplate(String templateSource, String bosToken, String eosToken) {
        return new PromptBuilder(new TemplateChatFormat(templateSource, bosToken, eosToken), null);
    }

    /**
     * With the checkpoint's own chat template (tokenizer_config.json / chat_template.jinja), or, when it has none,
     * the built-in format: the Llama-Nemotron variant for nemotron-nas checkpoints, plain Llama 3.1 otherwise.
     */
    public static PromptBuilder forModel(Path modelDir) {
        TokenizerConfig config = TokenizerConfig.load(modelDir);
        String bos = config.bosToken() != null ? config.bosToken() : BuiltinLlamaFormat.BEGIN_OF_TEXT;
        String eos = config.eosToken() != null ? config.eosToken() : BuiltinLlamaFormat.EOT;
        Map<String, String> templates = config.chatTemplates();
        String main = templates.get("default");
        if (main == null && templates.size() == 1) {
            main = templates.values().iterator().next();
        }
        ChatFormat tool = templates.containsKey("tool_use") ? new TemplateChatFormat(templates.get("tool_use"), bos, eos) : null;
        if (main != null) {
            return new PromptBuilder(new TemplateChatFormat(main, bos, eos), tool);
        }
        if (!templates.isEmpty() && tool == null) {
            throw new PromptException(modelDir + ": chat templates " + templates.keySet() + " include no 'default'");
        }
        // the built-in Llama format ends each turn with <|eot_id|>, whatever the config calls eos
        ChatFormat builtin = isNemotronNas(modelDir) ? BuiltinLlamaFormat.nemotron(bos, BuiltinLlamaFormat.EOT)
                : BuiltinLlamaFormat.llama(bos, BuiltinLlamaFormat.EOT);
        return new PromptBuilder(builtin, tool);
    }

    public String build(ChatRequest request) {
        if (request.messages().isEmpty()) {
            throw new ChatRequestException("messages: must be a non-empty array");
        }
        if (!request.documents().isEmpty()) {
            throw new ChatRequestException("documents: must be folded into the conversation by the chat preparation"
                    + " (RAG assembly) before rendering");
        }
        ChatFormat f = !request.tools().isEmpty() && toolFormat != null ? toolFormat : format;
        List<ChatMessage> messages = request.messages();
        if (!f.stripsReasoning()) {
            messages = stripReasoning(messages);
        }
        boolean foldTools = !f.handlesTools();
        messages = withSystemMessage(messages, request, f, foldTools);
        if (foldTools) {
            messages = NemotronToolFormat.mergeToolResults(messages);
        }
        List<Map<String, Object>> values = new ArrayList<>();
        for (ChatMessage m : messages) {
            values.add(templateValue(m, foldTools));
        }
        List<Map<String, Object>> tools = foldTools || request.tools().isEmpty() ? null : request.tools();
        return f.render(values, tools, request.addsGenerationPrompt());
    }

    /**
     * The reasoning mode the request runs in: its own {@code thinking} when set, else what the chat format's switch
     * makes of the conversation's system message ({@link ThinkingSwitch#modeOf}).
     */
    public Thinking effectiveThinking(ChatRequest request) {
        if (request.thinking() != null) {
            return request.thinking();
        }
        ChatFormat f = !request.tools().isEmpty() && toolFormat != null ? toolFormat : format;
        List<ChatMessage> messages = request.messages();
        boolean hasSystem = !messages.isEmpty() && messages.getFirst().role() == Role.SYSTEM;
        return f.thinkingSwitch().modeOf(hasSystem ? messages.getFirst().content() : null);
    }

    /** Applies the thinking switch and, when folding, the tools block; both live in the first system message. */
    private static List<ChatMessage> withSystemMessage(List<ChatMessage> messages, ChatRequest request, ChatFormat f,
                                                       boolean foldTools) {
        boolean toolsBlock = foldTools && !request.tools().isEmpty();
        if (request.thinking() == null && !toolsBlock) {
            return messages;
        }
        boolean hasSystem = messages.getFirst().role() == Role.SYSTEM;
        String userSystem = hasSystem ? messages.getFirst().content() : null;
        ThinkingSwitch thinking = f.thinkingSwitch();
        // a synthesized system message would hide the template's own default (Ultra: reasoning on), so restate it
        Thinking mode = request.thinking() != null ? request.thinking() : hasSystem ? null : thinking.defaultMode();
        String system = mode == null ? userSystem : thinking.systemContent(mode, userSystem);
        if (toolsBlock) {
            system = NemotronToolFormat.systemBlock(system, request.tools());
        }
        List<ChatMessage> out = new ArrayList<>();
        out.add(ChatMessage.of(Role.SYSTEM, system));
        out.addAll(hasSystem ? messages.subList(1, messages.size()) : messages);
        return out;
    }

    /** What Ultra's template does: keep only the text after the last {@code </think>}, left-stripped. */
    private static List<ChatMessage> stripReasoning(List<ChatMessage> messages) {
        List<ChatMessage> out = new ArrayList<>();
        for (ChatMessage m : messages) {
            int end = m.content().lastIndexOf(THINK_END);
            if (m.role() == Role.ASSISTANT && end >= 0) {
                String answer = Strings.lstrip(m.content().substring(end + THINK_END.length()), null);
                m = new ChatMessage(m.role(), answer, m.toolCalls(), m.name(), m.toolCallId());
            }
            out.add(m);
        }
        return out;
    }

    private static Map<String, Object> templateValue(ChatMessage m, boolean foldTools) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("role", m.role().wire());
        if (foldTools) {
            v.put("content", NemotronToolFormat.assistantContent(m.content(), m.toolCalls()));
        } else {
            v.put("content", m.content());
            if (!m.toolCalls().isEmpty()) {
                v.put("tool_calls", m.toolCalls());
            }
        }
        if (m.name() != null) {
            v.put("name", m.name());
        }
        if (m.toolCallId() != null) {
            v.put("tool_call_id", m.toolCallId());
        }
        return v;
    }

    private static boolean isNemotronNas(Path modelDir) {
        Path config = modelDir.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            return false;
        }
        try {
            JsonNode root = JSON.readTree(Files.readString(config));
            if ("nemotron-nas".equals(root.path("model_type").asString(""))) {
                return true;
            }
            for (JsonNode arch : root.path("architectures")) {
                if ("DeciLMForCausalLM".equals(arch.asString(""))) {
                    return true;
                }
            }
            return false;
        } catch (IOException | JacksonException e) {
            throw new PromptException("cannot read " + config + ": " + e.getMessage());
        }
    }
}
