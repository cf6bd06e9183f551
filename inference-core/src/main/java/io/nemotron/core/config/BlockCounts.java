package io.nemotron.core.config;

/** How many blocks use each attention kind and each FFN kind. */
public record BlockCounts(int attentionFull, int attentionLinear, int attentionNone, int ffnMlp, int ffnLinear, int ffnNone) {

    static BlockCounts of(ModelConfig config) {
        int full = 0, linearAttn = 0, noAttn = 0, mlp = 0, linearFfn = 0, noFfn = 0;
        for (BlockConfig b : config.blocks()) {
            switch (b.attention()) {
                case AttentionKind.Full f -> full++;
                case AttentionKind.Linear l -> linearAttn++;
                case AttentionKind.None n -> noAttn++;
            }
            switch (b.ffn()) {
                case FfnKind.Mlp m -> mlp++;
                case FfnKind.Linear l -> linearFfn++;
                case FfnKind.None n -> noFfn++;
            }
        }
        return new BlockCounts(full, linearAttn, noAttn, mlp, linearFfn, noFfn);
    }
}
