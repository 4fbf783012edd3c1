package io.sparkmm.engine.models.qwen2audio;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.CheckpointException;
import java.util.List;

/**
 * Where a Qwen2-Audio checkpoint keeps each part. The Hub's files say {@code language_model.model.*},
 * {@code language_model.lm_head.weight}, {@code audio_tower.*} and {@code multi_modal_projector.*};
 * transformers 5.18's save_pretrained writes the decoder as {@code language_model.model.model.*}
 * (seen in qwen2audio_fixtures.py's checkpoint) and the other parts as the Hub does.
 */
record Qwen2AudioNaming(String text, String lmHead, String audio, String projector) {

    private static final List<String> TEXT = List.of("language_model.model.model.", "language_model.model.",
            "model.language_model.");
    private static final List<String> LM_HEAD = List.of("language_model.lm_head.", "lm_head.");
    private static final List<String> AUDIO = List.of("audio_tower.", "model.audio_tower.");
    private static final List<String> PROJECTOR = List.of("multi_modal_projector.", "model.multi_modal_projector.");

    static Qwen2AudioNaming detect(Checkpoint ckpt, boolean tied) {
        String head = tied && LM_HEAD.stream().noneMatch(p -> ckpt.has(p + "weight"))
                ? "lm_head.weight" : first(ckpt, LM_HEAD, "weight", "lm_head") + "weight";
        return new Qwen2AudioNaming(first(ckpt, TEXT, "embed_tokens.weight", "language model"), head,
                first(ckpt, AUDIO, "conv1.weight", "audio tower"),
                first(ckpt, PROJECTOR, "linear.weight", "multi-modal projector"));
    }

    private static String first(Checkpoint ckpt, List<String> prefixes, String probe, String part) {
        for (String p : prefixes) {
            if (ckpt.has(p + probe)) {
                return p;
            }
        }
        throw new CheckpointException("checkpoint " + ckpt.directory() + " is a Qwen2-Audio model but its " + part
                + " is under none of the known names: no "
                + String.join(", ", prefixes.stream().map(p -> p + probe).toList()));
    }
}
