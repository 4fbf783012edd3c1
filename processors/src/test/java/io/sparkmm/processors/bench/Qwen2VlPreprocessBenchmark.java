package io.sparkmm.processors.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.processors.NodeOracle;
import io.sparkmm.processors.Qwen2VlTestImages;
import io.sparkmm.processors.TestMedia;
import io.sparkmm.processors.image.PilResample;
import io.sparkmm.processors.image.Qwen2VlImageProcessor;
import io.sparkmm.processors.image.Qwen2VlImageProcessorConfig;
import io.sparkmm.processors.media.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Images/s per core of Qwen2-VL image preprocessing (default Qwen2-VL-Instruct config, max_pixels
 * 1003520), Java vs transformers.js 4.3.1 on the same files: half JPEG, half PNG, sizes from 640x480
 * to 1280x960. Unlike {@link ImagePreprocessBenchmark}, the clock covers what a pipeline pays per
 * file: read the bytes, decode, preprocess (Java: MediaIO + Qwen2VlImageProcessor.process; node:
 * RawImage.fromBlob + Qwen2VLImageProcessor), one file at a time on one thread (node with
 * VIPS_CONCURRENCY=1 and UV_THREADPOOL_SIZE=1), after one warm-up pass. It then splits the Java
 * time into decode, resize and rescale/normalize/patchify, to show where it goes.
 *
 * <p>Not a test. Run from the repository root after {@code mvn -pl processors -am test-compile}:
 * <pre>
 * mvn -q -o -pl processors exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=io.sparkmm.processors.bench.Qwen2VlPreprocessBenchmark -Dexec.args="32 3"
 * </pre>
 * Arguments: number of distinct files (default 32), timed passes over them (default 3).
 */
public final class Qwen2VlPreprocessBenchmark {

    private Qwen2VlPreprocessBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 32;
        int passes = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path dir = Files.createDirectories(Path.of("target/bench/qwen2vl").toAbsolutePath());
        ObjectMapper json = new ObjectMapper();
        ObjectNode manifest = json.createObjectNode();
        JsonNode config = json.readTree("""
                {"image_processor_type": "Qwen2VLImageProcessor", "patch_size": 14, "temporal_patch_size": 2,
                 "merge_size": 2, "min_pixels": 3136, "max_pixels": 1003520, "do_resize": true, "resample": 3,
                 "do_rescale": true, "rescale_factor": 0.00392156862745098, "do_normalize": true,
                 "do_convert_rgb": true, "image_mean": [0.48145466, 0.4578275, 0.40821073],
                 "image_std": [0.26862954, 0.26130258, 0.27577711]}""");
        manifest.putObject("qwen2vlConfigs").set("default", config);
        ArrayNode entries = manifest.putArray("qwen2vl");
        List<Path> files = new ArrayList<>();
        long pixels = 0;
        for (int i = 0; i < count; i++) {
            int w = 640 + (i * 97) % 641;          // 640..1280, mixed
            int h = Math.max(480, Math.min(960, w * 3 / 4 + ((i % 3) - 1) * 60));
            boolean jpeg = i % 2 == 0;
            Path file = dir.resolve(String.format(Locale.ROOT, "bench_%02d_%dx%d.%s", i, w, h, jpeg ? "jpg" : "png"));
            RgbImage image = TestMedia.syntheticImage(w, h, 2000 + i);
            if (jpeg) {
                Qwen2VlTestImages.writeJpeg(image, 0.9f, file);
            } else {
                TestMedia.writePng(image, file);
            }
            files.add(file);
            pixels += (long) w * h;
            entries.addObject().put("config", "default").put("input", file.getFileName().toString());
        }
        Path manifestFile = dir.resolve("manifest.json");
        json.writeValue(manifestFile.toFile(), manifest);

        Qwen2VlImageProcessor processor = new Qwen2VlImageProcessor(Qwen2VlImageProcessorConfig.fromJson(config, "bench"));
        double sink = 0;
        for (Path file : files) { // warm-up: JIT and native libraries
            sink += processor.process(Qwen2VlTestImages.decode(file)).pixelValues()[0];
        }
        long start = System.nanoTime();
        for (int p = 0; p < passes; p++) {
            for (Path file : files) {
                sink += processor.process(Qwen2VlTestImages.decode(file)).pixelValues()[0];
            }
        }
        double javaSeconds = (System.nanoTime() - start) / 1e9;
        double javaRate = count * passes / javaSeconds;

        // Where the Java time goes: the same work, stage by stage, one more pass.
        long decode = 0;
        long resize = 0;
        long rest = 0;
        for (Path file : files) {
            long t0 = System.nanoTime();
            RgbImage image = Qwen2VlTestImages.decode(file);
            long t1 = System.nanoTime();
            int[] hw = processor.resizedSize(image.width(), image.height());
            byte[] resized = PilResample.resize(image.rgb(), image.width(), image.height(), hw[1], hw[0],
                    PilResample.Filter.fromPil(3));
            long t2 = System.nanoTime();
            // The full processor minus the resize just timed: rescale + normalize + patchify.
            sink += processor.process(image).pixelValues()[0];
            long t3 = System.nanoTime();
            decode += t1 - t0;
            resize += t2 - t1;
            rest += (t3 - t2) - (t2 - t1);
            sink += resized[0];
        }

        JsonNode node = json.readTree(NodeOracle.run(600,
                Map.of("VIPS_CONCURRENCY", "1", "UV_THREADPOOL_SIZE", "1"),
                "bench-qwen2vl", manifestFile.toString(), String.valueOf(passes)));
        double nodeRate = node.get("imagesPerSecond").asDouble();

        System.out.printf(Locale.ROOT, "Qwen2-VL preprocessing, %d files (JPEG+PNG, 640x480..1280x960, mean %.2f MP)"
                + " -> smart_resize + 1176-float patches, %d passes, 1 thread (checksum %.3f)%n",
                count, pixels / 1e6 / count, passes, sink);
        System.out.printf(Locale.ROOT, "  Java (OpenCV decode, Pillow-exact resize): %7.1f images/s (%.2f ms/image)%n",
                javaRate, 1000 / javaRate);
        System.out.printf(Locale.ROOT, "  transformers.js 4.3.1 (sharp):             %7.1f images/s (%.2f ms/image)%n",
                nodeRate, 1000 / nodeRate);
        System.out.printf(Locale.ROOT, "  ratio Java / transformers.js:              %7.2f%n", javaRate / nodeRate);
        double total = decode + resize + rest;
        System.out.printf(Locale.ROOT, "  Java split: decode %.0f%%, resize %.0f%%, rescale/normalize/patchify %.0f%%"
                + " (%.2f / %.2f / %.2f ms per image)%n", 100 * decode / total, 100 * resize / total,
                100 * rest / total, decode / 1e6 / count, resize / 1e6 / count, rest / 1e6 / count);
    }
}
