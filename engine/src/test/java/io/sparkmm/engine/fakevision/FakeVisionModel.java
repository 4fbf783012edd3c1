package io.sparkmm.engine.fakevision;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.engine.models.ModelFamily;
import io.sparkmm.engine.models.RequestPositions;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.media.MediaIO;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.media.RgbImage;
import io.sparkmm.processors.prompt.ItemReplacement;
import io.sparkmm.processors.prompt.PlaceholderRange;
import io.sparkmm.processors.prompt.PromptReplacement;

import java.util.List;
import java.util.Set;

/**
 * The fake family's model and processor. The "encoder" is the identity on the processed patch
 * embeddings (so a test can predict every input row), and a 7-column image makes it throw (so a
 * test can fail one item). Positions: text tokens count up in all three sections; the k-th patch
 * of an item (row r, column c) sits at (base, base + r, base + c), base being the counter at the
 * item's first patch; after the item the counter jumps to base + max(rows, cols), as in Qwen2-VL.
 */
final class FakeVisionModel implements FamilyModel, FamilyProcessor {

    static final int[] SECTIONS = {2, 3, 3}; // head dim 16: 8 frequency pairs

    private final ModelFamily family;
    private final FakeVisionFamily.FakeVisionConfig config;
    private final DecoderModel decoder;

    FakeVisionModel(ModelFamily family, FakeVisionFamily.FakeVisionConfig config, DecoderModel decoder) {
        this.family = family;
        this.config = config;
        this.decoder = decoder;
        if (decoder.config().headDim() != 16) {
            throw new IllegalArgumentException("the fake family's sections assume head dim 16");
        }
    }

    FakeVisionFamily.FakeVisionConfig configForTest() {
        return config;
    }

    // ------------------------------------------------------------------ FamilyModel

    @Override
    public ModelFamily family() {
        return family;
    }

    @Override
    public DecoderModel languageModel() {
        return decoder;
    }

    @Override
    public FamilyProcessor processor() {
        return this;
    }

    @Override
    public Tensor encode(MediaInput item) {
        ItemTensor e = item.tensor("embeddings");
        int[] grid = item.tensor("grid").ints();
        if (grid[1] == 7) {
            throw new IllegalArgumentException("the fake encoder refuses 7-column images");
        }
        return decoder.backend().upload(e.data(), e.dim(0), e.dim(1));
    }

    @Override
    public int maxEmbeddingsPerItem() {
        return 64 * 64;
    }

    @Override
    public int[] ropeSections() {
        return config.linearPositions() ? null : SECTIONS.clone();
    }

    @Override
    public RequestPositions positions(int[] prompt, List<MediaInput> media) {
        if (config.linearPositions()) {
            return RequestPositions.LINEAR;
        }
        int[][] pos = new int[3][prompt.length];
        int next = 0;
        int item = 0;
        int base = 0;
        for (int i = 0; i < prompt.length; i++) {
            while (item < media.size() && i >= media.get(item).offset() + media.get(item).length()) {
                item++;
            }
            MediaInput m = item < media.size() && i >= media.get(item).offset() ? media.get(item) : null;
            PlaceholderRange r = m == null ? null : m.placeholder();
            if (r == null || !r.isEmbed(i - r.offset())) {
                pos[0][i] = pos[1][i] = pos[2][i] = next++;
                continue;
            }
            int k = r.embeddingsBefore(i - r.offset());
            int[] grid = m.tensor("grid").ints();
            if (k == 0) {
                base = next;
            }
            pos[0][i] = base;
            pos[1][i] = base + k / grid[1];
            pos[2][i] = base + k % grid[1];
            if (k == r.numEmbeddings() - 1) {
                next = Math.max(next, base + Math.max(grid[0], grid[1]));
            }
        }
        return RequestPositions.sectioned(pos, next - prompt.length);
    }

    @Override
    public void close() {
        decoder.close();
    }

    // ------------------------------------------------------------------ FamilyProcessor

    @Override
    public List<String> modalities() {
        return List.of("image");
    }

    @Override
    public String fingerprint() {
        return "fake-vision patch " + config.patchSize();
    }

    /**
     * A per-request patch size stands in for a real processor's settings (Qwen2-VL's pixel budget):
     * it changes the grid, so a test sees a setting reach the processor in the prompt length.
     */
    @Override
    public Set<String> processorKwargs() {
        return Set.of("patch_size");
    }

    @Override
    public ProcessedItem process(String hash, String modality, MediaSource bytes, MediaLimits limits) {
        return process(hash, modality, bytes, limits, ProcessorKwargs.NONE);
    }

    /** One embedding per patch: hidden values from the patch's mean colour, so different images differ. */
    @Override
    public ProcessedItem process(String hash, String modality, MediaSource bytes, MediaLimits limits,
                                 ProcessorKwargs kwargs) {
        RgbImage img = MediaIO.readImage(bytes, limits);
        int p = kwargs.positiveInt("patch_size", config.patchSize());
        int rows = img.height() / p;
        int cols = img.width() / p;
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("image " + bytes.name() + " is smaller than one " + p + "x" + p + " patch");
        }
        int hidden = decoder.config().hiddenSize();
        float[] e = new float[rows * cols * hidden];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double[] mean = new double[3];
                for (int y = r * p; y < (r + 1) * p; y++) {
                    for (int x = c * p; x < (c + 1) * p; x++) {
                        for (int ch = 0; ch < 3; ch++) {
                            mean[ch] += img.channel(x, y, ch) / 255.0 / (p * p);
                        }
                    }
                }
                for (int j = 0; j < hidden; j++) {
                    e[(r * cols + c) * hidden + j] = (float) (0.05 * (mean[j % 3] - 0.5) + 0.01 * Math.sin(j + r - c));
                }
            }
        }
        return new ProcessedItem(hash, modality, java.util.Map.of(
                "embeddings", new ItemTensor(e, new int[] {rows * cols, hidden}),
                "grid", ItemTensor.ofInts(new int[] {rows, cols}, 2)));
    }

    @Override
    public PromptReplacement placeholder(String modality) {
        return new PromptReplacement("image", "<image>", config.imageToken(), config.imageToken());
    }

    /** start, then each row's patches followed by a newline, then end; only the patches are embedded. */
    @Override
    public ItemReplacement replacement(ProcessedItem item) {
        int[] grid = item.tensor("grid").ints();
        int[] tokens = new int[2 + grid[0] * (grid[1] + 1)];
        int t = 0;
        tokens[t++] = config.startToken();
        for (int r = 0; r < grid[0]; r++) {
            for (int c = 0; c < grid[1]; c++) {
                tokens[t++] = config.imageToken();
            }
            tokens[t++] = config.newlineToken();
        }
        tokens[t] = config.endToken();
        return ItemReplacement.selectingToken(tokens, config.imageToken());
    }
}
