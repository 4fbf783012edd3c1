package io.sparkmm.processors.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.processors.NodeOracle;
import io.sparkmm.processors.TestMedia;
import io.sparkmm.processors.image.ClipImageProcessor;
import io.sparkmm.processors.image.ClipImageProcessorConfig;
import io.sparkmm.processors.media.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Images/s per core of CLIP preprocessing (clip-vit-large-patch14-336: 512x512 -> resize 336 ->
 * crop 336 -> normalize), Java vs transformers.js on the same PNG files. Both sides decode the PNGs
 * before the clock starts and time the processor alone, from raw RGB pixels, one image at a time on
 * one thread (node runs with VIPS_CONCURRENCY=1 and UV_THREADPOOL_SIZE=1), after one warm-up pass.
 *
 * <p>Not a test. Run from the repository root after {@code mvn -pl processors -am test-compile}:
 * <pre>
 * mvn -q -o -pl processors exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=io.sparkmm.processors.bench.ImagePreprocessBenchmark -Dexec.args="32 5"
 * </pre>
 * Arguments: number of distinct images (default 32), timed passes over them (default 5).
 */
public final class ImagePreprocessBenchmark {

    private ImagePreprocessBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 32;
        int passes = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Path dir = Files.createDirectories(Path.of("target/bench/images").toAbsolutePath());
        ObjectMapper json = new ObjectMapper();
        ObjectNode manifest = json.createObjectNode();
        manifest.set("clipConfig", json.readTree("""
                {"do_resize": true, "size": {"shortest_edge": 336}, "resample": 3,
                 "do_center_crop": true, "crop_size": {"height": 336, "width": 336},
                 "do_rescale": true, "rescale_factor": 0.00392156862745098, "do_normalize": true,
                 "image_mean": [0.48145466, 0.4578275, 0.40821073],
                 "image_std": [0.26862954, 0.26130258, 0.27577711]}"""));
        ArrayNode entries = manifest.putArray("images");
        List<RgbImage> images = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Path png = dir.resolve("bench_" + i + ".png");
            TestMedia.writePng(TestMedia.syntheticImage(512, 512, 1000 + i), png);
            images.add(TestMedia.readPng(png)); // decoded outside the clock, like the node side
            entries.addObject().put("input", png.getFileName().toString());
        }
        Path manifestFile = dir.resolve("manifest.json");
        json.writeValue(manifestFile.toFile(), manifest);

        ClipImageProcessor processor = new ClipImageProcessor(ClipImageProcessorConfig.clipVitLargePatch14_336());
        double sink = 0;
        for (RgbImage image : images) {
            sink += processor.process(image)[0];
        }
        long start = System.nanoTime();
        for (int p = 0; p < passes; p++) {
            for (RgbImage image : images) {
                sink += processor.process(image)[0];
            }
        }
        double javaSeconds = (System.nanoTime() - start) / 1e9;
        double javaRate = count * passes / javaSeconds;

        // One core on the node side too: libvips and libuv would otherwise use worker threads.
        JsonNode node = json.readTree(NodeOracle.run(600,
                java.util.Map.of("VIPS_CONCURRENCY", "1", "UV_THREADPOOL_SIZE", "1"),
                "bench", manifestFile.toString(), String.valueOf(passes)));
        double nodeRate = node.get("imagesPerSecond").asDouble();

        System.out.printf(Locale.ROOT, "CLIP preprocessing, %d images 512x512 -> 3x336x336, %d passes, 1 thread"
                + " (checksum %.3f)%n", count, passes, sink);
        System.out.printf(Locale.ROOT, "  Java (Pillow-exact resize):      %8.1f images/s (%.2f ms/image)%n",
                javaRate, 1000 / javaRate);
        System.out.printf(Locale.ROOT, "  transformers.js 4.3.1 (sharp):   %8.1f images/s (%.2f ms/image)%n",
                nodeRate, 1000 / nodeRate);
        System.out.printf(Locale.ROOT, "  ratio Java / transformers.js:    %8.2f%n", javaRate / nodeRate);
    }
}
