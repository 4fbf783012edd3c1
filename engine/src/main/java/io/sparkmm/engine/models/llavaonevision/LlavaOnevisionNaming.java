package io.sparkmm.engine.models.llavaonevision;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.CheckpointException;

import java.util.List;

/**
 * Where each part of a LLaVA-OneVision checkpoint keeps its weights, detected part by part since the
 * generations mix: transformers 5's {@code save_pretrained} writes {@code language_model.model.*},
 * {@code language_model.lm_head.weight} and a bare SigLIP transformer {@code vision_tower.*}; the Hub's
 * llava-hf files have {@code vision_tower.vision_model.*}; the in-memory names of 4.52+ (used by some
 * re-saved files) put everything under {@code model.} with the head at {@code lm_head.weight}.
 *
 * @param text      module path of the decoder body (embed_tokens, layers, norm)
 * @param lmHead    the output head's weight (absent in tied checkpoints)
 * @param vision    module path of the SigLIP transformer (embeddings, encoder, post_layernorm)
 * @param projector module path of the projector (linear_1, linear_2)
 * @param newline   the image_newline tensor's name
 */
record LlavaOnevisionNaming(String text, String lmHead, String vision, String projector, String newline) {

    private static final List<String[]> TEXT = List.of(
            new String[] {"model.language_model.", "lm_head.weight"},
            new String[] {"language_model.model.", "language_model.lm_head.weight"});
    private static final List<String> VISION = List.of("model.vision_tower.vision_model.", "model.vision_tower.",
            "vision_tower.vision_model.", "vision_tower.");
    private static final List<String> PROJECTOR = List.of("model.multi_modal_projector.", "multi_modal_projector.");
    private static final List<String> NEWLINE = List.of("model.", "");

    static LlavaOnevisionNaming detect(Checkpoint ckpt) {
        String[] text = null;
        for (String[] t : TEXT) {
            if (ckpt.has(t[0] + "embed_tokens.weight")) {
                text = t;
                break;
            }
        }
        if (text == null) {
            throw missing(ckpt, "language model", TEXT.stream().map(t -> t[0]).toList(), "embed_tokens.weight");
        }
        return new LlavaOnevisionNaming(text[0], text[1],
                first(ckpt, VISION, "embeddings.patch_embedding.weight", "vision tower"),
                first(ckpt, PROJECTOR, "linear_1.weight", "projector"),
                first(ckpt, NEWLINE, "image_newline", "image_newline") + "image_newline");
    }

    private static String first(Checkpoint ckpt, List<String> prefixes, String probe, String part) {
        for (String p : prefixes) {
            if (ckpt.has(p + probe)) {
                return p;
            }
        }
        throw missing(ckpt, part, prefixes, probe);
    }

    private static CheckpointException missing(Checkpoint ckpt, String part, List<String> prefixes, String probe) {
        return new CheckpointException("checkpoint " + ckpt.directory() + " is a " + LlavaOnevisionConfig.ARCHITECTURE
                + " but its " + part + " is under none of the known names: no "
                + String.join(", ", prefixes.stream().map(p -> p + probe).toList()));
    }
}
