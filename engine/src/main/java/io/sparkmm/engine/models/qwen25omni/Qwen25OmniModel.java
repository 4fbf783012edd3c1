package io.sparkmm.engine.models.qwen25omni;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.DecoderWeights;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.engine.models.RequestPositions;
import io.sparkmm.engine.models.WeightLoader;
import io.sparkmm.engine.models.qwen2vl.Qwen2VlVisionTower;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.cache.ProcessedItem;

import java.util.ArrayList;
import java.util.List;

/**
 * Qwen2_5OmniThinkerForConditionalGeneration: the audio tower and the Qwen2.5-VL vision tower (the
 * encoders: their rows replace the {@code <|AUDIO|>}, {@code <|IMAGE|>} and {@code <|VIDEO|>}
 * embeddings) in front of a Qwen2 decoder whose rotary embedding reads TMRoPE's (temporal, height,
 * width) positions. A video with its own audio is one item: its encoder rows come out in the
 * interleaved order of its placeholder run.
 */
public final class Qwen25OmniModel implements FamilyModel {

    private final ModelFamily family;
    private final Qwen25OmniConfig config;
    private final DecoderModel languageModel;
    private final OmniAudioEncoder audio;
    private final Qwen2VlVisionTower vision;
    private final Qwen25OmniProcessor processor;

    private Qwen25OmniModel(ModelFamily family, Qwen25OmniConfig config, DecoderModel languageModel,
                            OmniAudioEncoder audio, Qwen2VlVisionTower vision, Qwen25OmniProcessor processor) {
        this.family = family;
        this.config = config;
        this.languageModel = languageModel;
        this.audio = audio;
        this.vision = vision;
        this.processor = processor;
    }

    static Qwen25OmniModel load(ModelFamily family, Checkpoint ckpt, Backend backend) {
        Qwen25OmniConfig c = Qwen25OmniConfig.parse(ckpt.configJson());
        Qwen25OmniNaming naming = Qwen25OmniNaming.detect(ckpt);
        Qwen25OmniProcessor processor = Qwen25OmniProcessor.load(ckpt.directory(), c);
        DecoderModel text = new DecoderModel(c.text(), backend,
                DecoderWeights.load(ckpt, c.text(), backend, naming.text(), naming.lmHead()));
        OmniAudioEncoder audio = null;
        try {
            audio = OmniAudioEncoder.load(new WeightLoader(ckpt, backend), c.audio(), naming.audio());
            Qwen2VlVisionTower vision = Qwen2VlVisionTower.load(ckpt, c.vision(), backend, naming.vision());
            return new Qwen25OmniModel(family, c, text, audio, vision, processor);
        } catch (RuntimeException e) {
            if (audio != null) {
                audio.close();
            }
            text.close();
            throw e;
        }
    }

    public Qwen25OmniConfig config() {
        return config;
    }

    @Override
    public ModelFamily family() {
        return family;
    }

    @Override
    public DecoderModel languageModel() {
        return languageModel;
    }

    @Override
    public FamilyProcessor processor() {
        return processor;
    }

    @Override
    public int maxEmbeddingsPerItem() {
        return (int) Math.min(processor.maxTokensPerItem(), languageModel.config().maxPositionEmbeddings());
    }

    @Override
    public int[] ropeSections() {
        return config.mropeSection();
    }

    @Override
    public Tensor encode(MediaInput item) {
        ProcessedItem p = item.item();
        int expected = expectedEmbeddings(p);
        if (item.numEmbeddings() != expected) {
            throw new IllegalArgumentException(item.modality() + " " + item.hash() + " makes " + expected
                    + " encoder rows but has " + item.numEmbeddings() + " placeholder positions");
        }
        if (p.modality().equals("audio")) {
            return encodeAudio(p);
        }
        Tensor pixels = encodeVision(p);
        if (!p.tensors().containsKey(Qwen25OmniProcessor.INPUT_FEATURES)) {
            return pixels;
        }
        try (Tensor videoRows = pixels; Tensor audioRows = encodeAudio(p)) {
            Tensor out = languageModel.backend().zeros(expected, config.text().hiddenSize());
            int row = 0;
            for (int[] seg : processor.layout(p)) {
                languageModel.backend().copyRows(seg[0] == 0 ? videoRows : audioRows, seg[1], out, row, seg[2] - seg[1]);
                row += seg[2] - seg[1];
            }
            return out;
        }
    }

    private int expectedEmbeddings(ProcessedItem p) {
        int n = 0;
        if (p.tensors().containsKey(Qwen25OmniProcessor.GRID_THW)) {
            int[] g = p.tensor(Qwen25OmniProcessor.GRID_THW).ints();
            n += config.visionTokens(g[0], g[1], g[2]);
        }
        if (p.tensors().containsKey(Qwen25OmniProcessor.INPUT_FEATURES)) {
            n += Qwen25OmniProcessor.audioTokens(p);
        }
        return n;
    }

    /** The audio tower's rows of an audio item or of a video's track, in time order; caller owns them. */
    Tensor encodeAudio(ProcessedItem p) {
        int frames = p.tensor(Qwen25OmniProcessor.FEATURE_FRAMES).ints()[0];
        return audio.encode(p.tensor(Qwen25OmniProcessor.INPUT_FEATURES).data(), frames);
    }

    /** The vision tower's rows of an image or video, in frame, row, column order; caller owns them. */
    Tensor encodeVision(ProcessedItem p) {
        int[] g = p.tensor(Qwen25OmniProcessor.GRID_THW).ints();
        return vision.encode(p.tensor(Qwen25OmniProcessor.PIXEL_VALUES).data(), g[0], g[1], g[2]);
    }

    /** TMRoPE positions ({@link TmropeIndex}) of the prompt's items, sorted by offset. */
    @Override
    public RequestPositions positions(int[] promptTokenIds, List<MediaInput> media) {
        List<TmropeIndex.Item> items = new ArrayList<>();
        for (MediaInput m : media) {
            items.add(item(m.item(), m.offset()));
        }
        return processor.index().positions(promptTokenIds.length, items);
    }

    static TmropeIndex.Item item(ProcessedItem p, int offset) {
        if (p.modality().equals("audio")) {
            return new TmropeIndex.Audio(offset, Qwen25OmniProcessor.audioTokens(p));
        }
        int[] g = p.tensor(Qwen25OmniProcessor.GRID_THW).ints();
        float spg = p.modality().equals("video") ? p.tensor(Qwen25OmniProcessor.SECOND_PER_GRID).data()[0] : 1f;
        if (p.tensors().containsKey(Qwen25OmniProcessor.INPUT_FEATURES)) {
            return new TmropeIndex.AudioInVideo(offset, g[0], g[1], g[2], spg, Qwen25OmniProcessor.audioTokens(p));
        }
        return new TmropeIndex.Vision(offset, g[0], g[1], g[2], spg);
    }

    @Override
    public void close() {
        try {
            audio.close();
            vision.close();
        } finally {
            languageModel.close();
        }
    }
}
