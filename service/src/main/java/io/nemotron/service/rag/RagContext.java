package io.nemotron.service.rag;

import java.util.List;

/**
 * The assembled context.
 *
 * @param text       the context block that opens the user turn ("" when no document text fits); it ends with a
 *                   blank line, so {@link #userTurn} is {@code text + question}
 * @param tokenCount exact token count of {@code text} with the assembler's counter, never above the budget
 * @param usedIds    citation ids of the documents with text in the context, in request order
 * @param dropped    every other document, in request order, with the reason. Ids are citation ids
 *                   ({@link RagAssembler#citationIds}): the client's id unless it was blank, repeated, or held
 *                   whitespace or square brackets
 */
public record RagContext(String text, int tokenCount, List<String> usedIds, List<DroppedDocument> dropped) {

    public static final RagContext EMPTY = new RagContext("", 0, List.of(), List.of());

    public RagContext {
        usedIds = List.copyOf(usedIds);
        dropped = List.copyOf(dropped);
    }

    public List<String> droppedIds() {
        return dropped.stream().map(DroppedDocument::id).toList();
    }

    /**
     * The user message content: the documents and the instruction to cite them before the question, since the
     * model card asks for all instructions in the user turn. The question alone when no document text fits.
     */
    public String userTurn(String question) {
        return text + question;
    }
}
