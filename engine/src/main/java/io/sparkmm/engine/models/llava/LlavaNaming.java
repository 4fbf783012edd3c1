package io.sparkmm.engine.models.llava;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.CheckpointException;

import java.util.List;

/**
 * Where each part of a LLaVA checkpoint keeps its weights. The parts are detected one by one,
 * because the generations mix: transformers 4.52+ holds {@code model.language_model.*} and
 * {@code model.vision_tower.vision_model.*} in memory (and our writer and some Hub files use
 * those names), but {@code save_pretrained} of 4.57 writes the older {@code language_model.model.*}
 * and {@code vision_tower.vision_model.*}, and 5.x writes {@code language_model.model.*} next to a
 * tower with no {@code vision_model.} level at all ({@code vision_tower.embeddings.*}), since its
 * vision tower is the bare CLIP transformer.
 *
 * @param text      module path of the decoder body (embed_tokens, layers, norm)
 * @param lmHead    name of the output head's weight (absent in tied checkpoints)
 * @param vision    module path of the CLIP transformer (embeddings, pre_layrnorm, encoder)
 * @param projector module path of the projector (linear_1, linear_2)
 */
record LlavaNaming(String text, String lmHead, String vision, String projector) {

    private static final List<String[]> TEXT = List.of(
            new String[] {"model.language_model.", "lm_head.weight"},
            new String[] {"language_model.model.", "language_model.lm_head.weight"});
    private static final List<String> VISION = List.of("model.vision_tower.vision_model.", "model.vision_tower.",
            "vision_tower.vision_model.", "vision_tower.");
    private static final List<String> PROJECTOR = List.of("model.multi_modal_projector.", "multi_modal_projector.");

    static LlavaNaming detect(Checkpoint ckpt) {
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
        String vision = first(ckpt, VISION, "embeddings.patch_embedding.weight", "vision tower");
        String projector = first(ckpt, PROJECTOR, "linear_1.weight", "projector");
        return new LlavaNaming(text[0], text[1], vision, projector);
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
        return new CheckpointException("checkpoint " + ckpt.directory() + " is a " + LlavaConfig.ARCHITECTURE
                + " but its " + part + " is under none of the known names: no "
                + String.join(", ", prefixes.stream().map(p -> p + probe).toList()));
    }
}
