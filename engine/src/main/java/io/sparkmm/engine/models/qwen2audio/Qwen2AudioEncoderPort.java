package io.sparkmm.engine.models.qwen2audio;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.encoders.EncoderFeed;
import io.sparkmm.engine.encoders.EncoderPort;
import io.sparkmm.engine.encoders.EncoderSignature;
import io.sparkmm.engine.encoders.EncoderTensor;

import java.util.Arrays;
import java.util.List;

/**
 * Qwen2-Audio's encoder as a graph from outside the checkpoint: {@code input_features} float[1, mels,
 * frames] (the padded log-mel block) and {@code feature_attention_mask} int64[1, frames] (1 for the
 * clip's valid frames) to {@code audio_features} float[1, frames / 4, text hidden], the projector's
 * output over every pooled position with the padding frames masked out of attention, as
 * Qwen2AudioForConditionalGeneration computes it; the engine keeps the first {@code <|AUDIO|>}-count rows.
 */
record Qwen2AudioEncoderPort(Qwen2AudioConfig config) implements EncoderPort {

    static final String MASK = "feature_attention_mask";
    static final String OUTPUT = "audio_features";

    @Override
    public EncoderSignature signature() {
        int frames = config.audio().inputFrames();
        return new EncoderSignature("qwen2_audio", "audio",
                List.of(new EncoderTensor(Qwen2AudioProcessor.INPUT_FEATURES, EncoderTensor.Kind.FLOAT,
                                new long[] {1, config.audio().numMelBins(), frames}),
                        new EncoderTensor(MASK, EncoderTensor.Kind.INT64, new long[] {1, frames})),
                new EncoderTensor(OUTPUT, EncoderTensor.Kind.FLOAT, new long[] {1, pooled(), hiddenSize()}),
                "the audio tower with padding frames masked out of attention, its average pool and the"
                        + " multi-modal projector");
    }

    private int pooled() {
        return Qwen2AudioLengths.audioTokens(config.audio().inputFrames());
    }

    @Override
    public List<EncoderFeed> feeds(MediaInput item) {
        int valid = Qwen2AudioModel.validFrames(config, item);
        int frames = config.audio().inputFrames();
        long[] mask = new long[frames];
        Arrays.fill(mask, 0, Math.min(valid, frames), 1L);
        return List.of(EncoderFeed.ofFloats(Qwen2AudioProcessor.INPUT_FEATURES,
                        item.tensor(Qwen2AudioProcessor.INPUT_FEATURES).data(), 1, config.audio().numMelBins(), frames),
                EncoderFeed.ofLongs(MASK, mask, 1, frames));
    }

    @Override
    public float[] embeddings(MediaInput item, float[] data, long[] shape) {
        long[] want = {1, pooled(), hiddenSize()};
        if (!Arrays.equals(shape, want)) {
            throw new IllegalArgumentException("the audio encoder gave " + EncoderTensor.shape(shape) + " for audio "
                    + item.hash() + "; the language model takes " + EncoderTensor.shape(want)
                    + " (then the clip's first " + item.numEmbeddings() + " rows)");
        }
        return Arrays.copyOf(data, item.numEmbeddings() * hiddenSize());
    }

    @Override
    public int hiddenSize() {
        return config.text().hiddenSize();
    }
}
