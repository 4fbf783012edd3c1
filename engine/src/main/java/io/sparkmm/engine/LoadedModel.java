package io.sparkmm.engine;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.GenerationConfig;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.LlavaModel;
import io.sparkmm.engine.tokenizer.HfTokenizer;
import io.sparkmm.kernels.Backend;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A checkpoint directory opened for generation: the model on a backend, its tokenizer (when
 * the directory has one) and the end-of-sequence ids gathered from every place HF keeps them.
 */
public final class LoadedModel implements AutoCloseable {

    private final Checkpoint checkpoint;
    private final DecoderModel model;
    private final LlavaModel llava;
    private final HfTokenizer tokenizer;
    private final Set<Integer> eosTokenIds;

    private LoadedModel(Checkpoint checkpoint, DecoderModel model, LlavaModel llava, HfTokenizer tokenizer,
                        Set<Integer> eosTokenIds) {
        this.checkpoint = checkpoint;
        this.model = model;
        this.llava = llava;
        this.tokenizer = tokenizer;
        this.eosTokenIds = Set.copyOf(eosTokenIds);
    }

    public static LoadedModel open(Path dir, Backend backend) {
        Checkpoint ckpt = Checkpoint.open(dir);
        try {
            LlavaModel llava = ckpt.llavaConfig() != null ? LlavaModel.load(ckpt, backend) : null;
            DecoderModel model = llava != null ? llava.languageModel() : DecoderModel.load(ckpt, backend);
            HfTokenizer tok = Files.exists(dir.resolve("tokenizer.json")) ? loadTokenizer(dir) : null;
            Set<Integer> eos = new LinkedHashSet<>(ckpt.config().eosTokenIds());
            GenerationConfig gen = ckpt.generationConfig();
            eos.addAll(gen.eosTokenIds());
            if (tok != null && tok.config().eosToken() != null) {
                OptionalInt id = tok.tokenId(tok.config().eosToken());
                id.ifPresent(eos::add);
            }
            return new LoadedModel(ckpt, model, llava, tok, eos);
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    private static HfTokenizer loadTokenizer(Path dir) {
        try {
            return HfTokenizer.load(dir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e.getMessage(), e);
        }
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    /** The language model (the text decoder of a multimodal checkpoint). */
    public DecoderModel model() {
        return model;
    }

    /** The multimodal model when the checkpoint is a LLaVA one, else null. */
    public LlavaModel llava() {
        return llava;
    }

    public boolean isMultimodal() {
        return llava != null;
    }

    /** The tokenizer; fails with a message naming the directory when it has no tokenizer.json. */
    public HfTokenizer tokenizer() {
        if (tokenizer == null) {
            throw new IllegalStateException("model directory " + checkpoint.directory()
                    + " has no tokenizer.json: pass token ids instead of text");
        }
        return tokenizer;
    }

    public boolean hasTokenizer() {
        return tokenizer != null;
    }

    public Set<Integer> eosTokenIds() {
        return eosTokenIds;
    }

    @Override
    public void close() {
        if (llava != null) {
            llava.close();
        } else {
            model.close();
        }
        if (tokenizer != null) {
            tokenizer.close();
        }
        checkpoint.close();
    }
}
