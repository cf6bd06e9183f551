package io.nemotron.service.http;

import io.nemotron.core.engine.InvalidRequestException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Field paths of the API's messages (what the shared planning names in its errors) as the OpenAI request spells
 * them, so a 400's {@code param} points into the body the client sent: {@code tools[0].name} is
 * {@code tools[0].function.name}, {@code tool_choice.mode} is {@code tool_choice}, a Generate {@code text} or
 * {@code token_ids[3]} is {@code prompt} or {@code prompt[3]}.
 */
final class OpenAiParams {
    private record Rename(Pattern pattern, String replacement) {}

    private static final List<Rename> CHAT = List.of(
            new Rename(Pattern.compile("^tool_choice\\..*$"), "tool_choice"),
            new Rename(Pattern.compile("^(tools\\[\\d+\\])\\.(name|description|parameters)(.*)$"), "$1.function.$2$3"),
            // OpenAI sends arguments as one JSON string: a path inside it is the string's
            new Rename(Pattern.compile("^(messages\\[\\d+\\]\\.tool_calls\\[\\d+\\])\\.arguments\\..*$"),
                    "$1.function.arguments"),
            new Rename(Pattern.compile("^(messages\\[\\d+\\]\\.tool_calls\\[\\d+\\])\\.(name|arguments)$"),
                    "$1.function.$2"),
            new Rename(Pattern.compile("^rag_context_budget_tokens$"), "rag.context_budget_tokens"),
            new Rename(Pattern.compile("^thinking$"), "chat_template_kwargs.thinking"));
    private static final List<Rename> COMPLETIONS = List.of(
            new Rename(Pattern.compile("^(?:text|token_ids)(.*)$"), "prompt$1"));

    private OpenAiParams() {}

    static InvalidRequestException chat(InvalidRequestException e) {
        return renamed(e, CHAT);
    }

    static InvalidRequestException completions(InvalidRequestException e) {
        return renamed(e, COMPLETIONS);
    }

    private static InvalidRequestException renamed(InvalidRequestException e, List<Rename> renames) {
        String field = e.field();
        for (Rename r : renames) {
            Matcher m = r.pattern().matcher(field);
            if (m.matches()) {
                String name = m.replaceFirst(r.replacement());
                InvalidRequestException out = new InvalidRequestException(name + e.getMessage().substring(field.length()));
                out.initCause(e);
                return out;
            }
        }
        return e;
    }
}
