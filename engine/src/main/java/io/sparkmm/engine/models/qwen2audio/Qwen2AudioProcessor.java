package io.sparkmm.engine.models.qwen2audio;

import io.sparkmm.engine.models.ProcessorSettings;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.processors.audio.WhisperFeatureExtractor;
import io.sparkmm.processors.audio.WhisperFeatureExtractorConfig;
import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.media.AudioClip;
import io.sparkmm.processors.media.MediaIO;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.prompt.ItemReplacement;
import io.sparkmm.processors.prompt.PromptReplacement;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import io.sparkmm.processors.ProcessorKwargs;

/**
 * Qwen2AudioProcessor's behaviour: each clip decoded to mono at the feature extractor's rate,
 * padded or truncated to 30 s (transformers truncates a longer clip: 750 tokens at most, the rest
 * is dropped), Whisper log-mel features, and {@code <|AUDIO|>} expanded to
 * {@link Qwen2AudioLengths#audioTokens(int)} tokens, all embedded. The prompt's
 * {@code <|audio_bos|>} and {@code <|audio_eos|>} around it stay text, as in the chat template.
 */
final class Qwen2AudioProcessor implements FamilyProcessor {

    static final String INPUT_FEATURES = "input_features";
    static final String VALID_FRAMES = "feature_attention_mask_sum";

    private final WhisperFeatureExtractor extractor;
    private final String fingerprint;
    private final PromptReplacement placeholder;

    private Qwen2AudioProcessor(WhisperFeatureExtractor extractor, String fingerprint, PromptReplacement placeholder) {
        this.extractor = extractor;
        this.fingerprint = fingerprint;
        this.placeholder = placeholder;
    }

    /**
     * The extractor's settings come from {@code preprocessor_config.json} (the Hub's files,
     * transformers 4), else from the {@code feature_extractor} entry of {@code processor_config.json}
     * (transformers 5 writes only that one). The mel count must be the tower's.
     */
    static Qwen2AudioProcessor load(Path dir, Qwen2AudioConfig config) {
        ProcessorSettings found = ProcessorSettings.read(dir, "feature_extractor", "Qwen2-Audio");
        JsonNode settings = found.node();
        String source = found.source();
        WhisperFeatureExtractorConfig fc = WhisperFeatureExtractorConfig.fromJson(settings, source);
        if (fc.featureSize() != config.audio().numMelBins() || fc.numFrames() != config.audio().inputFrames()) {
            throw new IllegalArgumentException(source + ": the feature extractor makes " + fc.featureSize() + " mels x "
                    + fc.numFrames() + " frames but the audio tower takes " + config.audio().numMelBins() + " x "
                    + config.audio().inputFrames());
        }
        int audio = config.audioTokenId();
        return new Qwen2AudioProcessor(new WhisperFeatureExtractor(fc), settings.toString(),
                new PromptReplacement("audio", "<|AUDIO|>", audio, audio));
    }

    @Override
    public List<String> modalities() {
        return List.of("audio");
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    @Override
    public ProcessedItem process(String hash, String modality, MediaSource bytes, MediaLimits limits) {
        requireAudio(modality);
        AudioClip clip = MediaIO.readAudio(bytes, extractor.config().samplingRate(), limits);
        // named by its source (a path, or the row's media name), not the content hash: the user must find the file
        return processed(hash, bytes.name(), clip.samples());
    }

    /** The item of already decoded mono samples at the extractor's rate. */
    ProcessedItem processed(String hash, float[] samples) {
        return processed(hash, hash, samples);
    }

    private ProcessedItem processed(String hash, String name, float[] samples) {
        int valid = extractor.numValidFrames(samples.length);
        if (Qwen2AudioLengths.audioTokens(valid) <= 0) {
            // transformers would write no <|AUDIO|> token at all and leave the prompt's one unmatched.
            throw new IllegalArgumentException("audio " + name + " is too short: " + samples.length + " samples make "
                    + valid + " mel frames, and Qwen2-Audio needs at least 3 for one audio token");
        }
        return new ProcessedItem(hash, "audio", Map.of(
                INPUT_FEATURES, new ItemTensor(extractor.extract(samples),
                        new int[] {extractor.numMels(), extractor.numFrames()}),
                VALID_FRAMES, ItemTensor.ofInts(new int[] {valid}, 1)));
    }

    @Override
    public PromptReplacement placeholder(String modality) {
        requireAudio(modality);
        return placeholder;
    }

    @Override
    public ItemReplacement replacement(ProcessedItem item) {
        requireAudio(item.modality());
        return ItemReplacement.repeat(placeholder.featureTokenId(), tokens(item));
    }

    /**
     * The clip's length at the extractor's rate (resampling keeps duration: {@code samples * rate /
     * sampleRate}, rounded down), then the same frames and token formula as {@link #process}. A clip
     * too short for one token prices as 0; {@link #process} refuses it.
     */
    @Override
    public OptionalInt audioTokens(long samples, int sampleRate, ProcessorKwargs kwargs) {
        if (samples < 0 || sampleRate <= 0) {
            throw new IllegalArgumentException("an audio clip's length must be >= 0 samples at a rate > 0, got "
                    + samples + " at " + sampleRate + " Hz");
        }
        // past 30 s the extractor truncates, so a longer clip's exact length does not matter (nor can it overflow)
        long capped = Math.min(samples, (long) sampleRate * 60 * 60 * 24);
        long atRate = capped * extractor.config().samplingRate() / sampleRate;
        int valid = extractor.numValidFrames((int) Math.min(atRate, Integer.MAX_VALUE));
        return OptionalInt.of(Math.max(0, Qwen2AudioLengths.audioTokens(valid)));
    }

    /** Qwen2-Audio's chat template writes an audio entry as {"type": "audio"} (it also accepts audio_url). */
    @Override
    public Map<String, Object> chatContentEntry(String modality) {
        return Map.of("type", modality);
    }

    static int tokens(ProcessedItem item) {
        return Qwen2AudioLengths.audioTokens(item.tensor(VALID_FRAMES).ints()[0]);
    }

    private static void requireAudio(String modality) {
        if (!modality.equals("audio")) {
            throw new IllegalArgumentException("this Qwen2-Audio model takes audio, not " + modality);
        }
    }
}
