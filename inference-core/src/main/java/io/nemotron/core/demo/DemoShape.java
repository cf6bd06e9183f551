package io.nemotron.core.demo;

import io.nemotron.core.config.AttentionKind;
import io.nemotron.core.config.BlockConfig;
import io.nemotron.core.config.FfnKind;
import io.nemotron.core.config.ModelConfig;
import io.nemotron.core.config.RopeScaling;
import java.util.List;

/**
 * The demo model's architecture: a ~21M-parameter nemotron-nas model small enough to write in about a second and
 * to decode fast on a laptop, yet holding every block variant Ultra has (and one more: a fully empty block), so
 * that every code path of a server that serves Ultra runs on a fresh machine.
 */
final class DemoShape {
    static final int HIDDEN = 512;
    static final int HEADS = 8;
    static final int HEAD_DIM = HIDDEN / HEADS;
    static final int CONTEXT = 4096;

    private DemoShape() {}

    /**
     * Ten blocks. GQA groups of 1, 2, 4 and 8 (kv heads 8, 4, 2, 1); FFN widths 1024, 1536 and 2048 (ffn_mult 3,
     * 4.5 and 6, the multiples of 256 that DeciLM's rounding can express). First and last blocks are plain
     * attention + MLP, as in Ultra.
     */
    static List<BlockConfig> blocks() {
        return List.of(
                block(new AttentionKind.Full(8), new FfnKind.Mlp(1536)),
                block(new AttentionKind.Full(2), new FfnKind.Mlp(1024)),
                block(new AttentionKind.Linear(), new FfnKind.Mlp(1536)),
                block(new AttentionKind.Full(4), new FfnKind.Linear()),
                block(new AttentionKind.None(), new FfnKind.Mlp(2048)),
                block(new AttentionKind.None(), new FfnKind.None()),
                block(new AttentionKind.Full(1), new FfnKind.Mlp(1024)),
                block(new AttentionKind.Full(2), new FfnKind.None()),
                block(new AttentionKind.Linear(), new FfnKind.Linear()),
                block(new AttentionKind.Full(8), new FfnKind.Mlp(1536)));
    }

    /**
     * Llama-3.1-style: untied head, rope theta 500000 with llama3 scaling (factor 8 over an original 512 positions,
     * so the 4096-token context is in the scaled regime like Ultra's), eos = end_of_text, eom and eot.
     */
    static ModelConfig config() {
        List<Integer> eos = List.of(DemoTokenizer.id(DemoTokenizer.END_OF_TEXT), DemoTokenizer.id(DemoTokenizer.EOM),
                DemoTokenizer.id(DemoTokenizer.EOT));
        return new ModelConfig("DeciLMForCausalLM", "nemotron-nas", HIDDEN, HEADS, HEAD_DIM, DemoTokenizer.VOCAB_SIZE,
                CONTEXT, 1e-5, 500000.0, new RopeScaling(8.0, 1.0, 4.0, 512), false,
                DemoTokenizer.id(DemoTokenizer.BEGIN_OF_TEXT), eos, "bfloat16", blocks());
    }

    private static BlockConfig block(AttentionKind attention, FfnKind ffn) {
        return new BlockConfig(attention, ffn);
    }
}
