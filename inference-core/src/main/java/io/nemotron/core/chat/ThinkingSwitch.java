package io.nemotron.core.chat;

import io.nemotron.core.chat.jinja.Strings;

/**
 * How a chat format turns reasoning on or off, and its default when the request does not say.
 *
 * <p>Llama-Nemotron v1 models (Ultra, Super-49B-v1) read the exact system prompt {@code detailed thinking on|off}
 * ({@link Style#SYSTEM_LINE}); Super-v1.5 style templates read {@code /think} or {@code /no_think} inside the
 * system message ({@link Style#SLASH_FLAG}).
 *
 * <p>Merge rule when the request also has its own system message: the switch line comes first, then a blank
 * line, then the user's system text ({@code "detailed thinking off\n\nYou are terse."}): the model was trained
 * on the switch as the whole system prompt, so it stays verbatim at the top where the model expects it. With
 * slash flags, the user's text comes first and the flag is appended, any flag already there being replaced.
 */
public record ThinkingSwitch(Style style, Thinking defaultMode) {
    public enum Style { SYSTEM_LINE, SLASH_FLAG }

    /** The switch of a template, read from its source; {@code defaultMode} is null when the template has none. */
    public static ThinkingSwitch of(String templateSource) {
        if (templateSource.contains("/no_think")) {
            return new ThinkingSwitch(Style.SLASH_FLAG, Thinking.ON);
        }
        // Ultra's template falls back to this exact system message when the conversation has none
        return new ThinkingSwitch(Style.SYSTEM_LINE, templateSource.contains("detailed thinking on") ? Thinking.ON : null);
    }

    /**
     * The mode a conversation runs in when the request does not set one, read from the template's switch only: with
     * no system message, the template's default (Ultra: on); with one, the switch it holds, at the place the model reads
     * it (the first line for {@code detailed thinking on|off}; a {@code /think} or {@code /no_think} flag), and without a
     * switch there, off for a system-line model (the model was not told to reason) and the default for slash flags.
     * Never from the rest of the prompt: a user quoting the switch does not turn reasoning on.
     */
    public Thinking modeOf(String systemContent) {
        if (systemContent == null) {
            return defaultMode != null ? defaultMode : Thinking.OFF;
        }
        if (style == Style.SLASH_FLAG) {
            return systemContent.contains("/no_think") ? Thinking.OFF
                    : systemContent.contains("/think") ? Thinking.ON : defaultMode;
        }
        String first = Strings.strip(systemContent.lines().findFirst().orElse(""), null);
        return first.equals("detailed thinking on") ? Thinking.ON : Thinking.OFF;
    }

    /** The system message text for {@code mode}, merged with the user's own system text ({@code null} if none). */
    public String systemContent(Thinking mode, String userSystem) {
        boolean hasUserText = userSystem != null && !userSystem.isBlank();
        if (style == Style.SLASH_FLAG) {
            String flag = mode == Thinking.ON ? "/think" : "/no_think";
            String text = hasUserText ? Strings.strip(userSystem.replace("/no_think", "").replace("/think", ""), null) : "";
            return text.isEmpty() ? flag : text + " " + flag;
        }
        String line = "detailed thinking " + mode.wire();
        return hasUserText ? line + "\n\n" + userSystem : line;
    }
}
