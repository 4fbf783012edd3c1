package io.sparkmm.engine;

import io.sparkmm.engine.structured.StructuredOutputIndexes;
import io.sparkmm.engine.structured.TokenBytes;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.GenerationConfig;
import io.sparkmm.engine.checkpoint.ModelConfig;
import io.sparkmm.engine.encoders.onnx.OnnxEncoders;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.ModelFamilies;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.engine.tokenizer.HfTokenizer;
import io.sparkmm.kernels.Backend;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A checkpoint directory opened for generation: its family's model on a backend, its tokenizer
 * (when the directory has one) and the end-of-sequence ids gathered from every place HF keeps
 * them. Nothing here names a family: {@link ModelFamilies} picks it from config.json.
 * Thread-safe to share: engines with different options may run over one loaded model.
 */
public final class LoadedModel implements AutoCloseable {

    private final Checkpoint checkpoint;
    private final FamilyModel model;
    private final HfTokenizer tokenizer;
    private final Set<Integer> eosTokenIds;
    private final Backend ownedBackend;
    private final StructuredOutputIndexes structuredOutputs = new StructuredOutputIndexes(
            () -> TokenBytes.of(tokenizer(), checkpoint().directory()), 64);

    private LoadedModel(Checkpoint checkpoint, FamilyModel model, HfTokenizer tokenizer, Set<Integer> eosTokenIds,
                        Backend ownedBackend) {
        this.checkpoint = checkpoint;
        this.model = model;
        this.tokenizer = tokenizer;
        this.eosTokenIds = Set.copyOf(eosTokenIds);
        this.ownedBackend = ownedBackend;
    }

    /** Opens {@code dir} on a backend the caller owns (and closes after this model). */
    public static LoadedModel open(Path dir, Backend backend) {
        return open(dir, backend, null, null);
    }

    /**
     * Opens {@code dir} on a backend the caller owns, with the media encoder from the ONNX file
     * {@code encoderOnnx} instead of the checkpoint's tower (null: the checkpoint's own).
     *
     * @throws IllegalArgumentException naming the file when the family cannot take it or it does not fit
     */
    public static LoadedModel open(Path dir, Backend backend, Path encoderOnnx) {
        return open(dir, backend, null, encoderOnnx);
    }

    /** Opens {@code dir} on {@code backend} and closes the backend with the model. */
    public static LoadedModel openOwning(Path dir, Backend backend) {
        return openOwning(dir, backend, null);
    }

    /** {@link #openOwning(Path, Backend)} with the media encoder from {@code encoderOnnx} (null: the checkpoint's). */
    public static LoadedModel openOwning(Path dir, Backend backend, Path encoderOnnx) {
        try {
            return open(dir, backend, backend, encoderOnnx);
        } catch (RuntimeException | Error e) {
            backend.close();
            throw e;
        }
    }

    private static LoadedModel open(Path dir, Backend backend, Backend owned, Path encoderOnnx) {
        Checkpoint ckpt = Checkpoint.open(dir);
        FamilyModel model = null;
        try {
            ModelFamily family = ModelFamilies.forCheckpoint(ckpt);
            model = family.load(ckpt, backend);
            if (encoderOnnx != null) {
                FamilyModel own = model;
                model = null; // attach owns it now, and closes it when it fails
                model = OnnxEncoders.attach(own, encoderOnnx, backend);
            }
            HfTokenizer tok = HfTokenizer.present(dir) ? loadTokenizer(dir) : null;
            Set<Integer> eos = new LinkedHashSet<>(model.languageModel().config().eosTokenIds());
            GenerationConfig gen = ckpt.generationConfig();
            eos.addAll(gen.eosTokenIds());
            if (tok != null && tok.config().eosToken() != null) {
                OptionalInt id = tok.tokenId(tok.config().eosToken());
                id.ifPresent(eos::add);
            }
            return new LoadedModel(ckpt, model, tok, eos, owned);
        } catch (RuntimeException e) {
            if (model != null) {
                model.close();
            }
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

    /** The family's model: language model, encoders, processor, positions. */
    public FamilyModel model() {
        return model;
    }

    public ModelFamily family() {
        return model.family();
    }

    /** The language model's config (the text decoder of a multimodal checkpoint). */
    public ModelConfig textConfig() {
        return model.languageModel().config();
    }

    public Backend backend() {
        return model.languageModel().backend();
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

    /**
     * The compiled structured-output constraints over this model's vocabulary, shared by every
     * engine over these weights; the vocabulary's bytes are read on first use.
     */
    public StructuredOutputIndexes structuredOutputs() {
        return structuredOutputs;
    }

    public Set<Integer> eosTokenIds() {
        return eosTokenIds;
    }

    @Override
    public void close() {
        try {
            model.close();
            if (tokenizer != null) {
                tokenizer.close();
            }
            checkpoint.close();
        } finally {
            if (ownedBackend != null) {
                ownedBackend.close();
            }
        }
    }
}
