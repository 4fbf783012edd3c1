package io.sparkmm.engine.models.qwen2vl;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.CheckpointException;

import java.util.List;

/**
 * Where a Qwen2-VL / Qwen2.5-VL checkpoint keeps each part. The Hub's files (written before
 * transformers 4.52) say {@code model.layers.*} and {@code visual.*}; transformers 4.52+ and 5 say
 * {@code model.language_model.*} and {@code model.visual.*}. The head is {@code lm_head.weight} in
 * both, absent when tied.
 */
record Qwen2VlNaming(String text, String vision) {

    static final String LM_HEAD = "lm_head.weight";
    private static final List<String> TEXT = List.of("model.language_model.", "model.");
    private static final List<String> VISION = List.of("model.visual.", "visual.");

    static Qwen2VlNaming detect(Checkpoint ckpt) {
        return new Qwen2VlNaming(first(ckpt, TEXT, "embed_tokens.weight", "language model"),
                first(ckpt, VISION, "patch_embed.proj.weight", "vision tower"));
    }

    private static String first(Checkpoint ckpt, List<String> prefixes, String probe, String part) {
        for (String p : prefixes) {
            if (ckpt.has(p + probe)) {
                return p;
            }
        }
        throw new CheckpointException("checkpoint " + ckpt.directory() + " is a " + ckpt.architecture() + " but its "
                + part + " is under none of the known names: no "
                + String.join(", ", prefixes.stream().map(p -> p + probe).toList()));
    }
}
