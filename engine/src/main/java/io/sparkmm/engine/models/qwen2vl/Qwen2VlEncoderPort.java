package io.sparkmm.engine.models.qwen2vl;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.encoders.EncoderFeed;
import io.sparkmm.engine.encoders.EncoderPort;
import io.sparkmm.engine.encoders.EncoderSignature;
import io.sparkmm.engine.encoders.EncoderTensor;
import io.sparkmm.processors.cache.ItemTensor;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Qwen2-VL's (and 2.5-VL's) vision tower with its merger as a graph from outside the checkpoint, for
 * ONE image grid: {@code pixel_values} float[t*h*w, C*T*P*P] (the processor's flattened patches) to
 * {@code image_features} float[t*h*w / merge^2, text hidden]. The tower's rotary positions, attention
 * blocks (and 2.5's windows) are built from grid_thw by Python loops that tracing freezes, so a graph
 * is only right for the grid it was exported with; the export records it in the model's metadata
 * under {@link #GRID_KEY} ("t,h,w") and every image of another grid fails its own request.
 *
 * @param grid the graph's (t, h, w), or null before the graph's metadata is read
 */
record Qwen2VlEncoderPort(Qwen2VlConfig config, String family, int[] grid) implements EncoderPort {

    static final String OUTPUT = "image_features";
    /** The ONNX model metadata key that holds the grid the graph was exported for. */
    public static final String GRID_KEY = "sparkmm.grid_thw";

    @Override
    public EncoderPort forGraph(Map<String, String> metadata) {
        String v = metadata.get(GRID_KEY);
        if (v == null) {
            throw new IllegalArgumentException("has no metadata " + GRID_KEY + ": a " + family + " vision graph is"
                    + " only right for the one image grid it was exported with, and must record it (\"t,h,w\" in"
                    + " patches, as onnx_encoder_export.py writes)");
        }
        int[] g;
        try {
            g = Arrays.stream(v.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            g = new int[0];
        }
        int m = config.vision().mergeSize();
        if (g.length != 3 || g[0] <= 0 || g[1] <= 0 || g[2] <= 0 || g[1] % m != 0 || g[2] % m != 0) {
            throw new IllegalArgumentException("metadata " + GRID_KEY + " = \"" + v + "\" is not a grid \"t,h,w\" of"
                    + " positive patch counts with h and w multiples of spatial_merge_size " + m);
        }
        return new Qwen2VlEncoderPort(config, family, g);
    }

    @Override
    public EncoderSignature signature() {
        long patches = grid == null ? EncoderTensor.ANY : (long) grid[0] * grid[1] * grid[2];
        long tokens = grid == null ? EncoderTensor.ANY : config.tokensFor(grid[0], grid[1], grid[2]);
        return new EncoderSignature(family, "image",
                List.of(new EncoderTensor(Qwen2VlProcessor.PIXEL_VALUES, EncoderTensor.Kind.FLOAT,
                        new long[] {patches, config.vision().patchDim()})),
                new EncoderTensor(OUTPUT, EncoderTensor.Kind.FLOAT, new long[] {tokens, hiddenSize()}),
                "the vision tower and its patch merger for the one grid " + describe(grid));
    }

    @Override
    public List<EncoderFeed> feeds(MediaInput item) {
        if (!item.modality().equals("image")) {
            throw new IllegalArgumentException("this " + family + " model's ONNX encoder takes images; "
                    + item.modality() + " " + item.hash() + " needs the native vision tower (run without the ONNX"
                    + " encoder)");
        }
        int[] g = item.tensor(Qwen2VlProcessor.GRID_THW).ints();
        if (grid == null || !Arrays.equals(g, grid)) {
            throw new IllegalArgumentException("image " + item.hash() + " has grid (t, h, w) " + describe(g)
                    + " but the ONNX vision encoder was exported for grid " + describe(grid) + ": resize images to "
                    + (grid == null ? "the export size" : grid[2] * config.vision().patchSize() + "x"
                    + grid[1] * config.vision().patchSize() + " pixels") + " and set min_pixels = max_pixels to that"
                    + " area, or run without the ONNX encoder");
        }
        ItemTensor pixels = item.tensor(Qwen2VlProcessor.PIXEL_VALUES);
        int patches = g[0] * g[1] * g[2];
        if (pixels.data().length != patches * config.vision().patchDim()) {
            throw new IllegalArgumentException("image " + item.hash() + " has " + pixels.data().length
                    + " pixel values; grid " + describe(g) + " needs " + patches + " x " + config.vision().patchDim());
        }
        int tokens = config.tokensFor(g[0], g[1], g[2]);
        if (item.numEmbeddings() != tokens) {
            throw new IllegalArgumentException("image " + item.hash() + " with grid " + describe(g) + " makes " + tokens
                    + " tokens but has " + item.numEmbeddings() + " placeholder positions");
        }
        return List.of(EncoderFeed.ofFloats(Qwen2VlProcessor.PIXEL_VALUES, pixels.data(), patches,
                config.vision().patchDim()));
    }

    @Override
    public float[] embeddings(MediaInput item, float[] data, long[] shape) {
        long[] want = {item.numEmbeddings(), hiddenSize()};
        if (!Arrays.equals(shape, want)) {
            throw new IllegalArgumentException("the image encoder gave " + EncoderTensor.shape(shape) + " for image "
                    + item.hash() + "; the language model takes " + EncoderTensor.shape(want));
        }
        return data;
    }

    @Override
    public int hiddenSize() {
        return config.text().hiddenSize();
    }

    private static String describe(int[] g) {
        return g == null ? "(unknown)" : "(" + g[0] + ", " + g[1] + ", " + g[2] + ")";
    }
}
