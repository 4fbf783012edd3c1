package io.sparkmm.engine.encoders;

import io.sparkmm.engine.MediaInput;

import java.util.List;

/**
 * A family's side of a media encoder that runs outside its own kernels: the signature the encoder
 * must have, the feeds of one processed item, and the item's embedding rows from the encoder's
 * output. Pure: no runtime, no backend; the family knows its processor's tensors and what its
 * language model expects, the runtime knows neither.
 */
public interface EncoderPort {

    EncoderSignature signature();

    /**
     * The encoder inputs of one item, in {@link EncoderSignature#inputs()} order.
     *
     * @throws IllegalArgumentException if the item is not one this family's encoder takes (modality, shape)
     */
    List<EncoderFeed> feeds(MediaInput item);

    /**
     * The item's embeddings, [item.numEmbeddings() x text hidden] row-major, from the encoder's output
     * {@code data} of shape {@code shape} (a family may drop padding rows).
     *
     * @throws IllegalArgumentException naming both shapes when the output is not what the language model expects
     */
    float[] embeddings(MediaInput item, float[] data, long[] shape);

    /** The width of one embedding row (the language model's hidden size). */
    int hiddenSize();

    /**
     * This port for one graph, given the graph's metadata (ONNX metadata_props): a family whose
     * encoder a graph can only cover for sizes fixed at export reads them here. Most need nothing.
     *
     * @throws IllegalArgumentException saying what the metadata lacks or holds wrong (the caller names the file)
     */
    default EncoderPort forGraph(java.util.Map<String, String> metadata) {
        return this;
    }
}
