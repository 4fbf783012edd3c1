package io.sparkmm.engine.encoders;

import java.util.List;

/**
 * What a family's media encoder takes and gives, so that an encoder from outside the checkpoint
 * (an ONNX file) can be checked against it before any row runs.
 *
 * @param family the family's name, for messages
 * @param modality the media it encodes ("image", "audio")
 * @param inputs what the family's processor output becomes, by graph input name
 * @param output the encoder's result, by graph output name (a graph with one output may name it otherwise)
 * @param covers what the graph must compute, in words, for messages and docs (e.g. "the CLIP tower
 *     up to the selected feature layer and the multi-modal projector")
 */
public record EncoderSignature(String family, String modality, List<EncoderTensor> inputs, EncoderTensor output,
                               String covers) {

    public EncoderSignature {
        inputs = List.copyOf(inputs);
        if (inputs.isEmpty() || output == null) {
            throw new IllegalArgumentException("an encoder signature needs inputs and an output");
        }
    }

    @Override
    public String toString() {
        return family + " " + modality + " encoder " + inputs + " -> " + output + " (" + covers + ")";
    }
}
