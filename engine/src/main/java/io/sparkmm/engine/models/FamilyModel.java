package io.sparkmm.engine.models;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.encoders.EncoderPort;
import io.sparkmm.kernels.Tensor;

import java.util.List;

/**
 * A checkpoint of one family, loaded on a backend: its language model (the shared decoder), its
 * media encoders, its processor and its positions. The engine, the runner and the naive oracle
 * use only this interface.
 */
public interface FamilyModel extends AutoCloseable {

    ModelFamily family();

    /** The decoder every family builds on: embeddings, layers over positions, logits. */
    DecoderModel languageModel();

    /** Media -> processed items, placeholder replacements, chat-template entries. */
    FamilyProcessor processor();

    /**
     * Runs one processed item through its encoder: out[item.numEmbeddings(), text hidden], the rows
     * that replace the embeddings of the item's is-embed positions, in order. Caller owns it.
     *
     * @throws IllegalArgumentException if this model cannot take the item (modality, shape)
     */
    Tensor encode(MediaInput item);

    /**
     * The most encoder rows one item of this model can need (vLLM profiles this with dummy
     * inputs): the scheduler's encoder budget must hold it. 0 for a text-only model.
     */
    int maxEmbeddingsPerItem();

    /** Sections of the rotary frequencies (M-RoPE's {@code mrope_section}), or null for ordinary 1-D rope. */
    default int[] ropeSections() {
        return null;
    }

    /**
     * The rope positions of one request (computed once, when it is admitted): 1-D for ordinary
     * rope; for M-RoPE, 3 rows over the prompt derived from its media, then a per-request offset
     * for generated tokens.
     */
    default RequestPositions positions(int[] promptTokenIds, List<MediaInput> media) {
        return RequestPositions.LINEAR;
    }

    /**
     * This family's side of a media encoder from outside the checkpoint (an ONNX file): what it must
     * take and give, how an item feeds it and how its output becomes embedding rows.
     *
     * @throws UnsupportedOperationException naming the family and why, when its encoder cannot come from elsewhere
     */
    default EncoderPort externalEncoderPort() {
        throw new UnsupportedOperationException("the " + family().name() + " family cannot take an ONNX encoder"
                + (family().modalities().isEmpty() ? ": it has no media encoder" : ""));
    }

    @Override
    void close();
}
