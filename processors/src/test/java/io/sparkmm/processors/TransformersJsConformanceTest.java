package io.sparkmm.processors;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.processors.audio.WhisperFeatureExtractor;
import io.sparkmm.processors.audio.WhisperFeatureExtractorConfig;
import io.sparkmm.processors.image.ClipImageProcessor;
import io.sparkmm.processors.image.ClipImageProcessorConfig;
import io.sparkmm.processors.media.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Hugging Face conformance against transformers.js 4.3.1 (node, offline): CLIP image
 * preprocessing (openai/clip-vit-large-patch14-336 settings) and Whisper log-mel features (80 mels).
 *
 * <p>Tolerances (measured values in the report of the commit that set them):
 * <ul>
 *   <li>Whisper: the same formulas on both sides (transformers.js keeps the power spectrum and the
 *       mel projection in float32); measured max |diff| 1.2e-7 (one float32 ulp) on every clip.
 *       Required: {@value #WHISPER_TOLERANCE}.</li>
 *   <li>CLIP, input already 336x336 (no resize, no crop): only float rounding may differ
 *       (transformers.js normalizes in float64 then stores float32; Python and we in float32).
 *       Required: max |diff| {@value #EXACT_TOLERANCE}.</li>
 *   <li>CLIP with a resize: transformers.js resizes with sharp/libvips {@code affine} (bicubic
 *       interpolation with no antialiasing, and corner-aligned sampling: output x reads input
 *       x / scale, where Pillow reads (x + 0.5) / scale - 0.5), while Python transformers, and we,
 *       use Pillow's antialiased, center-aligned convolution. Checked with numpy on the 100x80
 *       upscale: a corner-aligned bicubic reproduces transformers.js (mean |diff| 0.018) and a
 *       center-aligned one reproduces us (0.003). So single pixels legitimately differ by up to
 *       ~3 (the normalized range spans ~4) at edges, on the checkerboard and on noise. The exact
 *       oracle for the resize is real Pillow (PilResampleTest and ClipImageProcessorTest, committed
 *       fixtures). Here we require what survives the resampler change: the mean of 16x16 blocks
 *       within {@value #BLOCK_TOLERANCE} (measured <= 0.064; a crop off by 2 pixels gives >= 0.39, a
 *       channel swap >= 2.7) and mean |diff| <= {@value #MEAN_TOLERANCE} (measured <= 0.087). The
 *       upscale also carries sharp's half-pixel shift (0.38 input pixels = 1.6 output pixels), so
 *       it gets {@value #UPSCALE_BLOCK_TOLERANCE} and {@value #UPSCALE_MEAN_TOLERANCE} (measured
 *       0.46 and 0.137).</li>
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TransformersJsConformanceTest {

    static final double WHISPER_TOLERANCE = 1e-5;
    static final double EXACT_TOLERANCE = 1e-6;
    static final double BLOCK_TOLERANCE = 0.1;
    static final double MEAN_TOLERANCE = 0.12;
    static final double UPSCALE_BLOCK_TOLERANCE = 0.6;
    static final double UPSCALE_MEAN_TOLERANCE = 0.2;
    static final double MAX_TOLERANCE = 4.0;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path WORK = Path.of("target/conformance/processors").toAbsolutePath();
    private static final int[][] IMAGE_SIZES = {{512, 512}, {640, 480}, {480, 640}, {333, 517}, {100, 80},
        {336, 336}};
    private static final double[] AUDIO_SECONDS = {1.0, 7.3, 30.0, 35.0};

    private final ClipImageProcessorConfig clipConfig = ClipImageProcessorConfig.clipVitLargePatch14_336();
    private final ClipImageProcessor clip = new ClipImageProcessor(clipConfig);
    private final WhisperFeatureExtractor whisper =
            new WhisperFeatureExtractor(WhisperFeatureExtractorConfig.whisper80());
    private JsonNode summary;

    @BeforeAll
    void runOracle() throws Exception {
        Files.createDirectories(WORK);
        ObjectNode manifest = JSON.createObjectNode();
        manifest.set("clipConfig", JSON.readTree("""
                {"do_resize": true, "size": {"shortest_edge": 336}, "resample": 3,
                 "do_center_crop": true, "crop_size": {"height": 336, "width": 336},
                 "do_rescale": true, "rescale_factor": 0.00392156862745098, "do_normalize": true,
                 "image_mean": [0.48145466, 0.4578275, 0.40821073],
                 "image_std": [0.26862954, 0.26130258, 0.27577711], "do_convert_rgb": true,
                 "image_processor_type": "CLIPImageProcessor"}"""));
        manifest.set("whisperConfig", JSON.readTree("""
                {"feature_extractor_type": "WhisperFeatureExtractor", "feature_size": 80,
                 "sampling_rate": 16000, "hop_length": 160, "n_fft": 400, "chunk_length": 30,
                 "n_samples": 480000, "nb_max_frames": 3000, "padding_value": 0.0,
                 "padding_side": "right", "return_attention_mask": false}"""));
        ArrayNode images = manifest.putArray("images");
        for (int[] s : IMAGE_SIZES) {
            String name = "image_" + s[0] + "x" + s[1];
            TestMedia.writePng(TestMedia.syntheticImage(s[0], s[1], s[0] * 31L + s[1]), WORK.resolve(name + ".png"));
            images.addObject().put("input", name + ".png").put("output", name + ".js.f32");
        }
        ArrayNode audio = manifest.putArray("audio");
        for (double seconds : AUDIO_SECONDS) {
            String name = audioName(seconds);
            TestMedia.writeFloats(TestMedia.syntheticAudio(seconds, 16000, (long) (seconds * 10)),
                    WORK.resolve(name + ".f32"));
            audio.addObject().put("input", name + ".f32").put("output", name + ".js.f32");
        }
        Path manifestFile = WORK.resolve("manifest.json");
        JSON.writerWithDefaultPrettyPrinter().writeValue(manifestFile.toFile(), manifest);
        summary = JSON.readTree(NodeOracle.run(300, "run", manifestFile.toString()));
    }

    private static String audioName(double seconds) {
        return String.format(Locale.ROOT, "audio_%.1fs", seconds);
    }

    @Test
    void imagesMatchTransformersJs() {
        assertThat(summary.get("images")).hasSize(IMAGE_SIZES.length);
        for (int i = 0; i < IMAGE_SIZES.length; i++) {
            int[] s = IMAGE_SIZES[i];
            String name = "image_" + s[0] + "x" + s[1];
            RgbImage image = TestMedia.readPng(WORK.resolve(name + ".png"));
            float[] java = clip.process(image);
            float[] js = TestMedia.readFloats(WORK.resolve(name + ".js.f32"));
            TestMedia.writeFloats(java, WORK.resolve(name + ".java.f32")); // for a look with numpy
            assertThat(summary.get("images").get(i).get("dims").toString()).isEqualTo("[1,3,336,336]");
            assertThat(java).hasSize(js.length);
            Diff d = Diff.of(java, js);
            double block = blockMeanDiff(java, js, 336, 16);
            System.out.printf(Locale.ROOT, "CLIP %-8s vs transformers.js: max |diff| %.3g, mean %.3g,"
                    + " 16x16 block means %.3g%n", s[0] + "x" + s[1], d.max, d.mean, block);
            if (s[0] == 336 && s[1] == 336) {
                assertThat(d.max).as(name + " (no resize): max |diff|").isLessThanOrEqualTo(EXACT_TOLERANCE);
            } else {
                boolean upscale = Math.min(s[0], s[1]) < 336;
                assertThat(block).as(name + ": 16x16 block means, max |diff|")
                        .isLessThanOrEqualTo(upscale ? UPSCALE_BLOCK_TOLERANCE : BLOCK_TOLERANCE);
                assertThat(d.mean).as(name + ": mean |diff|")
                        .isLessThanOrEqualTo(upscale ? UPSCALE_MEAN_TOLERANCE : MEAN_TOLERANCE);
                assertThat(d.max).as(name + ": max |diff|").isLessThanOrEqualTo(MAX_TOLERANCE);
            }
        }
    }

    @Test
    void whisperFeaturesMatchTransformersJs() {
        assertThat(summary.get("audio")).hasSize(AUDIO_SECONDS.length);
        for (int i = 0; i < AUDIO_SECONDS.length; i++) {
            String name = audioName(AUDIO_SECONDS[i]);
            float[] samples = TestMedia.readFloats(WORK.resolve(name + ".f32"));
            float[] java = whisper.extract(samples);
            float[] js = TestMedia.readFloats(WORK.resolve(name + ".js.f32"));
            assertThat(summary.get("audio").get(i).get("dims").toString()).isEqualTo("[1,80,3000]");
            assertThat(java).hasSize(80 * 3000).hasSize(js.length);
            Diff d = Diff.of(java, js);
            System.out.printf(Locale.ROOT, "Whisper %-11s vs transformers.js: max |diff| %.3g, mean %.3g%n",
                    name, d.max, d.mean);
            assertThat(d.max).as(name + ": max |diff|").isLessThanOrEqualTo(WHISPER_TOLERANCE);
        }
    }

    /** Max |diff| between the means of b x b blocks of two CHW [3, size, size] tensors. */
    static double blockMeanDiff(float[] a, float[] b, int size, int blockSize) {
        double max = 0;
        for (int c = 0; c < 3; c++) {
            for (int by = 0; by < size / blockSize; by++) {
                for (int bx = 0; bx < size / blockSize; bx++) {
                    double sum = 0;
                    for (int y = by * blockSize; y < (by + 1) * blockSize; y++) {
                        for (int x = bx * blockSize; x < (bx + 1) * blockSize; x++) {
                            int i = (c * size + y) * size + x;
                            sum += a[i] - b[i];
                        }
                    }
                    max = Math.max(max, Math.abs(sum) / (blockSize * blockSize));
                }
            }
        }
        return max;
    }

    /** Element-wise |a - b|: max and mean. */
    record Diff(double max, double mean) {
        static Diff of(float[] a, float[] b) {
            double max = 0;
            double sum = 0;
            for (int i = 0; i < a.length; i++) {
                double d = Math.abs(a[i] - b[i]);
                max = Math.max(max, d);
                sum += d;
            }
            return new Diff(max, sum / a.length);
        }
    }
}
