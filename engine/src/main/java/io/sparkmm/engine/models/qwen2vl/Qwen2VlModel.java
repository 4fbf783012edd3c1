package io.sparkmm.engine.models.qwen2vl;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.DecoderWeights;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.engine.models.RequestPositions;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.cache.ItemTensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Qwen2VLForConditionalGeneration and Qwen2_5_VLForConditionalGeneration: the vision tower with
 * its merger (the encoder: its rows replace the pad tokens' embeddings) in front of a Qwen2
 * decoder whose rotary embedding reads (temporal, height, width) positions per frequency section.
 */
public final class Qwen2VlModel implements FamilyModel {

    private final ModelFamily family;
    private final Qwen2VlConfig config;
    private final DecoderModel languageModel;
    private final Qwen2VlVisionTower visionTower;
    private final Qwen2VlProcessor processor;
    private final MropeIndex mrope;

    private Qwen2VlModel(ModelFamily family, Qwen2VlConfig config, DecoderModel languageModel,
                         Qwen2VlVisionTower visionTower, Qwen2VlProcessor processor) {
        this.family = family;
        this.config = config;
        this.languageModel = languageModel;
        this.visionTower = visionTower;
        this.processor = processor;
        int merge = config.vision().mergeSize();
        this.mrope = config.qwen25()
                ? MropeIndex.qwen25Vl(config.imageTokenId(), config.videoTokenId(), merge, config.vision().tokensPerSecond())
                : MropeIndex.qwen2Vl(config.imageTokenId(), config.videoTokenId(), merge);
    }

    static Qwen2VlModel load(ModelFamily family, Checkpoint ckpt, Backend backend) {
        Qwen2VlConfig c = Qwen2VlConfig.parse(ckpt.configJson(), ckpt.architecture());
        Qwen2VlNaming naming = Qwen2VlNaming.detect(ckpt);
        Qwen2VlProcessor processor = Qwen2VlProcessor.load(ckpt.directory(), c);
        DecoderModel text = new DecoderModel(c.text(), backend,
                DecoderWeights.load(ckpt, c.text(), backend, naming.text(), Qwen2VlNaming.LM_HEAD));
        try {
            return new Qwen2VlModel(family, c, text, Qwen2VlVisionTower.load(ckpt, c.vision(), backend, naming.vision()),
                    processor);
        } catch (RuntimeException e) {
            text.close();
            throw e;
        }
    }

    public Qwen2VlConfig config() {
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
        int[] g = grid(item);
        ItemTensor pixels = item.tensor(Qwen2VlProcessor.PIXEL_VALUES);
        int tokens = config.tokensFor(g[0], g[1], g[2]);
        if (item.numEmbeddings() != tokens) {
            throw new IllegalArgumentException(item.modality() + " " + item.hash() + " with grid (" + g[0] + ", " + g[1]
                    + ", " + g[2] + ") makes " + tokens + " tokens but has " + item.numEmbeddings() + " placeholder positions");
        }
        return visionTower.encode(pixels.data(), g[0], g[1], g[2]);
    }

    /**
     * M-RoPE positions from the prompt's pad tokens and the items' grids (transformers'
     * get_rope_index); the items come sorted by prompt offset, so each modality's grids are in
     * prompt order.
     */
    @Override
    public RequestPositions positions(int[] promptTokenIds, List<MediaInput> media) {
        List<int[]> images = new ArrayList<>();
        List<int[]> videos = new ArrayList<>();
        List<Float> seconds = new ArrayList<>();
        for (MediaInput m : media) {
            if (m.modality().equals("video")) {
                videos.add(grid(m));
                ItemTensor s = m.item().tensors().get(Qwen2VlProcessor.SECOND_PER_GRID_T);
                seconds.add(s == null ? 1f : s.data()[0]);
            } else {
                images.add(grid(m));
            }
        }
        float[] secondPerGridTs = new float[seconds.size()];
        for (int i = 0; i < secondPerGridTs.length; i++) {
            secondPerGridTs[i] = seconds.get(i);
        }
        return mrope.positions(promptTokenIds, images.toArray(new int[0][]), videos.toArray(new int[0][]),
                secondPerGridTs);
    }

    private static int[] grid(MediaInput item) {
        int[] g = item.tensor(Qwen2VlProcessor.GRID_THW).ints();
        if (g.length != 3) {
            throw new IllegalArgumentException(item.modality() + " " + item.hash() + " grid_thw must be (t, h, w)");
        }
        return g;
    }

    /**
     * An ONNX vision graph covers one image grid only (see {@link Qwen2VlEncoderPort}): its rotary
     * positions and attention blocks are built from grid_thw by loops an export freezes.
     */
    @Override
    public io.sparkmm.engine.encoders.EncoderPort externalEncoderPort() {
        return new Qwen2VlEncoderPort(config, family.name(), null);
    }

    @Override
    public void close() {
        try {
            visionTower.close();
        } finally {
            languageModel.close();
        }
    }
}
