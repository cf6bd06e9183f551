package io.nemotron.service.reasoning;

import io.nemotron.service.grpc.stream.ChatOutput;
import io.nemotron.service.grpc.stream.ChatTextPipeline;
import io.nemotron.service.grpc.stream.TagPrefix;

/**
 * Splits Llama-Nemotron output into reasoning and answer while it streams: with thinking on, the model opens with
 * {@code <think>}; what follows up to {@code </think>} leaves as reasoning deltas, everything after goes on to the
 * answer stage (the tool-call parser or plain content). The tags themselves are dropped; text that could still
 * become a tag (a prefix of {@code <think>} at the start, of {@code </think>} inside) is held back until the next
 * delta or {@link #finish()} decides, so a tag split across tokens at any character never leaks.
 *
 * <p>With thinking off there is no reasoning: a leading empty {@code <think></think>} (which the model may still
 * emit) is dropped, and a non-empty one is passed on verbatim as answer text, tags included, so nothing the model
 * wrote is lost. With thinking on, output that does not open with {@code <think>} is all answer; a think section
 * cut off by max_tokens ends as reasoning.
 */
public final class ThinkSplitter implements ChatTextPipeline {
    static final String OPEN = "<think>";
    static final String CLOSE = "</think>";

    private enum State { START, THINK, ANSWER }

    private final ChatOutput out;
    private final ChatTextPipeline answer;
    private final boolean thinkingOn;
    private final StringBuilder pending = new StringBuilder();   // held back: may still be (part of) a tag
    private final StringBuilder offThink = new StringBuilder();  // thinking off: the think section seen so far
    private State state = State.START;

    public ThinkSplitter(ChatOutput out, ChatTextPipeline answer, boolean thinkingOn) {
        this.out = out;
        this.answer = answer;
        this.thinkingOn = thinkingOn;
    }

    @Override
    public void accept(String text) {
        if (state == State.ANSWER) {
            answer.accept(text);
            return;
        }
        pending.append(text);
        drain();
    }

    private void drain() {
        if (state == State.START && !openThink()) {
            return;
        }
        if (state == State.THINK) {
            drainThink();
        }
    }

    /** START: true once {@code <think>} opened; false while it may still come or after the output showed it will not. */
    private boolean openThink() {
        int lead = leadingWhitespace(pending);
        String rest = pending.substring(lead);
        if (rest.startsWith(OPEN)) {
            pending.delete(0, lead + OPEN.length());   // whitespace before the tag is formatting, not text
            state = State.THINK;
            return true;
        }
        if (!OPEN.startsWith(rest)) {                  // not "", "<", "<th", ...: all of it is answer
            state = State.ANSWER;
            String all = pending.toString();
            pending.setLength(0);
            answer.accept(all);
        }
        return false;
    }

    /** THINK: reasoning up to {@code </think>}, holding back a suffix that may be the start of the tag. */
    private void drainThink() {
        int close = pending.indexOf(CLOSE);
        if (close >= 0) {
            reasoning(pending.substring(0, close));
            String after = pending.substring(close + CLOSE.length());
            pending.setLength(0);
            endThink();
            state = State.ANSWER;
            if (!after.isEmpty()) {
                answer.accept(after);
            }
            return;
        }
        int keep = TagPrefix.partialSuffix(pending, CLOSE);
        if (pending.length() > keep) {
            reasoning(pending.substring(0, pending.length() - keep));
            pending.delete(0, pending.length() - keep);
        }
    }

    private void reasoning(String text) {
        if (text.isEmpty()) {
            return;
        }
        if (thinkingOn) {
            out.reasoning(text);
        } else {
            offThink.append(text);
        }
    }

    /** Thinking off: an empty section disappears, a non-empty one is answer text, tags included. */
    private void endThink() {
        if (!thinkingOn && !offThink.toString().isBlank()) {
            answer.accept(OPEN + offThink + CLOSE);
        }
        offThink.setLength(0);
    }

    @Override
    public boolean finish() {
        if (state == State.START) {
            if (!pending.isEmpty()) {
                answer.accept(pending.toString());      // a bare "<thi" at the end was answer text after all
            }
        } else if (state == State.THINK) {
            reasoning(pending.toString());              // cut off inside the think section (max_tokens)
            if (!thinkingOn) {
                answer.accept(OPEN + offThink);         // never closed: pass it on as written
                offThink.setLength(0);
            }
        }
        pending.setLength(0);
        state = State.ANSWER;
        return answer.finish();
    }

    private static int leadingWhitespace(CharSequence s) {
        int i = 0;
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }
}
