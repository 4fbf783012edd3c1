package io.sparkmm.engine.models.qwen25omni;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.CheckpointException;

/**
 * Where the thinker's parts sit. A thinker saved alone (transformers 5.18's save_pretrained of
 * Qwen2_5OmniThinkerForConditionalGeneration) says {@code audio_tower.*}, {@code visual.*},
 * {@code model.*} and {@code lm_head.weight}; a whole Omni checkpoint (the Hub's Qwen2.5-Omni-7B)
 * puts the same names under {@code thinker.}, next to {@code talker.*} and {@code token2wav.*}, which
 * are not loaded (vLLM's thinker maps the same two layouts).
 */
record Qwen25OmniNaming(String root) {

    static Qwen25OmniNaming detect(Checkpoint ckpt) {
        for (String root : new String[] {"", "thinker."}) {
            if (ckpt.has(root + "model.embed_tokens.weight")) {
                for (String part : new String[] {"audio_tower.conv1.weight", "visual.patch_embed.proj.weight"}) {
                    if (!ckpt.has(root + part)) {
                        throw new CheckpointException("checkpoint " + ckpt.directory() + " is a Qwen2.5-Omni thinker"
                                + " but has no " + root + part);
                    }
                }
                return new Qwen25OmniNaming(root);
            }
        }
        throw new CheckpointException("checkpoint " + ckpt.directory() + " is a Qwen2.5-Omni model but has neither"
                + " model.embed_tokens.weight (a thinker) nor thinker.model.embed_tokens.weight (a whole Omni model)");
    }

    String text() {
        return root + "model.";
    }

    String lmHead() {
        return root + "lm_head.weight";
    }

    String audio() {
        return root + "audio_tower.";
    }

    String vision() {
        return root + "visual.";
    }
}
