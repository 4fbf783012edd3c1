package io.sparkmm.processors.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.processors.NodeOracle;
import io.sparkmm.processors.Qwen2VlTestImages;
import io.sparkmm.processors.TestMedia;
import io.sparkmm.processors.image.LlavaOnevisionImageProcessor;
import io.sparkmm.processors.image.LlavaOnevisionImageProcessorConfig;
import io.sparkmm.processors.media.RgbImage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Images/s per core of LLaVA-OneVision image preprocessing (the released checkpoints' settings: 384-pixel
 * tiles, bicubic, the 36 pinpoints up to 2304x2304), Java vs transformers.js 4.3.1 on the same files
 * (half JPEG, half PNG, 640x480 to 1280x960), per file read + decode + preprocess on one thread after a
 * warm-up pass (node with VIPS_CONCURRENCY=1 and UV_THREADPOOL_SIZE=1).
 *
 * <p>transformers.js's {@code LlavaOnevisionImageProcessor} is the generic ImageProcessor: one resize of
 * the whole image to 384x384, no AnyRes tiles, no {@code image_sizes}; it is not what HF's Python
 * processor computes. So two Java rates are printed: the real AnyRes work of an image alone in its
 * prompt (base view plus every tile of the chosen pinpoint, 5 to 10 patches here), and the one-patch
 * work of an image of a multi-image prompt (pad to a square, one resize), the closest to what
 * transformers.js does.
 *
 * <p>Not a test. Run from the repository root after {@code mvn -pl processors -am test-compile}:
 * <pre>
 * mvn -q -o -pl processors exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=io.sparkmm.processors.bench.LlavaOnevisionPreprocessBenchmark -Dexec.args="32 3 3"
 * </pre>
 * Arguments: number of distinct files (default 32), timed passes over them (default 3), rounds
 * (default 3; Java and node alternate round by round, the median ratio is printed).
 */
public final class LlavaOnevisionPreprocessBenchmark {

    private LlavaOnevisionPreprocessBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 32;
        int passes = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        Path dir = Files.createDirectories(Path.of("target/bench/onevision").toAbsolutePath());
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = json.createObjectNode();
        config.put("image_processor_type", "LlavaOnevisionImageProcessor");
        config.put("do_resize", true).put("do_rescale", true).put("do_normalize", true).put("do_pad", true)
                .put("do_convert_rgb", true).put("resample", 3).put("rescale_factor", 1 / 255.0);
        config.putObject("size").put("height", 384).put("width", 384);
        config.putArray("image_mean").add(0.48145466).add(0.4578275).add(0.40821073);
        config.putArray("image_std").add(0.26862954).add(0.26130258).add(0.27577711);
        ArrayNode pins = config.putArray("image_grid_pinpoints");
        for (int[] p : LlavaOnevisionImageProcessorConfig.defaultPinpoints()) {
            pins.addArray().add(p[0]).add(p[1]);
        }
        ObjectNode manifest = json.createObjectNode();
        manifest.set("onevisionConfig", config);
        ArrayNode entries = manifest.putArray("onevision");
        List<Path> files = new ArrayList<>();
        long pixels = 0;
        for (int i = 0; i < count; i++) {
            int w = 640 + (i * 97) % 641;
            int h = Math.max(480, Math.min(960, w * 3 / 4 + ((i % 3) - 1) * 60));
            boolean jpeg = i % 2 == 0;
            Path file = dir.resolve(String.format(Locale.ROOT, "bench_%02d_%dx%d.%s", i, w, h, jpeg ? "jpg" : "png"));
            RgbImage image = TestMedia.syntheticImage(w, h, 3000 + i);
            if (jpeg) {
                Qwen2VlTestImages.writeJpeg(image, 0.9f, file);
            } else {
                TestMedia.writePng(image, file);
            }
            files.add(file);
            pixels += (long) w * h;
            entries.addObject().put("input", file.getFileName().toString());
        }
        Path manifestFile = dir.resolve("manifest.json");
        json.writeValue(manifestFile.toFile(), manifest);

        LlavaOnevisionImageProcessor processor = new LlavaOnevisionImageProcessor(
                LlavaOnevisionImageProcessorConfig.fromJson(config, "bench"));
        double sink = 0;
        long patches = 0;
        for (Path file : files) { // warm-up
            var p = processor.process(Qwen2VlTestImages.decode(file));
            sink += p.pixelValues()[0] + processor.processOfMany(Qwen2VlTestImages.decode(file)).pixelValues()[0];
            patches += p.numPatches();
        }
        // Java and node alternate, round by round, so a change of the machine's load hits both sides.
        double[] anyres = new double[rounds];
        double[] onePatch = new double[rounds];
        double[] nodeRate = new double[rounds];
        for (int k = 0; k < rounds; k++) {
            anyres[k] = rate(passes, files, file -> processor.process(Qwen2VlTestImages.decode(file)).pixelValues()[0]);
            onePatch[k] = rate(passes, files, file -> processor.processOfMany(Qwen2VlTestImages.decode(file)).pixelValues()[0]);
            JsonNode node = json.readTree(NodeOracle.run(600, Map.of("VIPS_CONCURRENCY", "1", "UV_THREADPOOL_SIZE", "1"),
                    "bench-onevision", manifestFile.toString(), String.valueOf(passes)));
            nodeRate[k] = node.get("imagesPerSecond").asDouble();
        }

        System.out.printf(Locale.ROOT, "LLaVA-OneVision preprocessing, %d files (JPEG+PNG, 640x480..1280x960, mean"
                + " %.2f MP), %d passes x %d rounds, 1 thread (checksum %.3f)%n", count, pixels / 1e6 / count, passes,
                rounds, sink);
        double[] ratioAnyres = new double[rounds];
        double[] ratioOne = new double[rounds];
        for (int k = 0; k < rounds; k++) {
            ratioAnyres[k] = anyres[k] / nodeRate[k];
            ratioOne[k] = onePatch[k] / nodeRate[k];
            System.out.printf(Locale.ROOT, "  round %d: Java AnyRes (%.1f patches of 384^2 a file) %.1f images/s, Java one"
                    + " patch %.1f, transformers.js 4.3.1 (generic: 1 resize, no tiles) %.1f; ratios %.2f / %.2f%n",
                    k + 1, (double) patches / count, anyres[k], onePatch[k], nodeRate[k], ratioAnyres[k], ratioOne[k]);
        }
        System.out.printf(Locale.ROOT, "  median ratio Java / transformers.js: AnyRes %.2f, one patch %.2f%n",
                median(ratioAnyres), median(ratioOne));
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private interface Work {
        double run(Path file) throws Exception;
    }

    private static double rate(int passes, List<Path> files, Work work) throws Exception {
        double sink = 0;
        long start = System.nanoTime();
        for (int p = 0; p < passes; p++) {
            for (Path file : files) {
                sink += work.run(file);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (Double.isNaN(sink)) {
            throw new IllegalStateException("NaN pixels");
        }
        return files.size() * passes / seconds;
    }
}
