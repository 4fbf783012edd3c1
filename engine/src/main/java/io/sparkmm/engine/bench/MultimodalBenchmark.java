package io.sparkmm.engine.bench;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.EngineMetrics;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.models.llava.TinyLlavaCheckpoint;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.processors.cache.ContentHash;
import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.image.ClipImageProcessor;
import io.sparkmm.processors.image.ClipImageProcessorConfig;
import io.sparkmm.processors.media.MediaIO;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Multimodal preprocessing figures, side by side in one run:
 * <ol>
 *   <li>512x512 JPEG -> CLIP ViT-L/14-336 pixel values (decode + resize + crop + normalize), per
 *       core, on distinct images (every one a processor-cache miss);</li>
 *   <li>the same image requested again: a processor-cache hit (read bytes + hash + lookup);</li>
 *   <li>three questions on one image through the paged engine: how many times it was encoded.</li>
 * </ol>
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp engine/target/sparkmm-cli.jar io.sparkmm.engine.bench.MultimodalBenchmark
 * </pre>
 */
public final class MultimodalBenchmark {

    private MultimodalBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int images = args.length > 0 ? Integer.parseInt(args[0]) : 48;
        Path dir = Files.createTempDirectory("sparkmm-mm-bench");
        List<Path> files = new ArrayList<>();
        Random rnd = new Random(1);
        for (int i = 0; i < images; i++) {
            BufferedImage img = new BufferedImage(512, 512, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 512; y++) {
                for (int x = 0; x < 512; x++) {
                    int base = ((x * (i + 3)) ^ (y * 7)) & 0xff;
                    img.setRGB(x, y, (base << 16) | (((base + rnd.nextInt(32)) & 0xff) << 8) | ((255 - base) & 0xff));
                }
            }
            Path f = dir.resolve("img" + i + ".jpg");
            ImageIO.write(img, "jpeg", f.toFile());
            files.add(f);
        }
        ClipImageProcessor processor = new ClipImageProcessor(ClipImageProcessorConfig.clipVitLargePatch14_336());
        MediaLimits limits = MediaLimits.defaults();
        ProcessorCache cache = new ProcessorCache(1L << 30);

        for (Path f : files.subList(0, Math.min(8, files.size()))) { // warm-up, outside the cache
            processor.process(MediaIO.readImage(MediaSource.ofPath(f.toString()), limits));
        }
        long t0 = System.nanoTime();
        for (Path f : files) {
            lookup(cache, processor, f, limits);
        }
        double missMs = (System.nanoTime() - t0) / 1e6 / files.size();
        int repeats = 2000;
        long t1 = System.nanoTime();
        for (int i = 0; i < repeats; i++) {
            lookup(cache, processor, files.get(0), limits);
        }
        double hitMs = (System.nanoTime() - t1) / 1e6 / repeats;
        System.out.printf("preprocess 512x512 JPEG -> [3, 336, 336] (decode + CLIP processor), 1 thread: %.2f ms/image = %.1f images/s per core%n",
                missMs, 1000 / missMs);
        System.out.printf("processor-cache hit on a repeated image (read + SHA-256 + lookup): %.3f ms = %.0fx faster than a miss (hits %d, misses %d)%n",
                hitMs, missMs / hitMs, cache.hits(), cache.misses());

        Path model = TinyLlavaCheckpoint.write(dir.resolve("tiny-llava"), TinyLlavaCheckpoint.Spec.llama());
        try (EngineSession session = EngineSession.open(model.toString(), EngineOptions.defaults().withProcessorCacheBytes(1L << 28))) {
            Engine engine = session.engine();
            MultimodalProcessor mm = session.requests();
            SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(8).build();
            List<RequestHandle> hs = new ArrayList<>();
            for (String q : List.of("What color is the shape?", "What shape is this?", "Describe the image.")) {
                hs.add(engine.submit(mm.build(null, PromptInput.text(q, true,
                        List.of(MediaSource.ofPath(files.get(0).toString()))), greedy)));
            }
            for (RequestHandle h : hs) {
                h.result().get();
            }
            EngineMetrics m = engine.metrics();
            System.out.printf("three prompts on one image through the engine: %d encoder run(s), %d encoder-cache hit(s), "
                    + "processor cache %d miss / %d hits%n", m.encoderRuns(), m.encoderCacheHits(),
                    mm.cache().misses(), mm.cache().hits());
        }
    }

    private static ProcessedItem lookup(ProcessorCache cache, ClipImageProcessor processor, Path file, MediaLimits limits) {
        MediaSource src = MediaSource.ofPath(file.toString());
        byte[] bytes = src.bytes(limits);
        String hash = ContentHash.of("bench", "image", "clip-336", bytes);
        return cache.get(hash, () -> ProcessedItem.of(hash, "image", "pixel_values", new ItemTensor(
                processor.process(MediaIO.readImage(MediaSource.ofBytes(src.name(), bytes), limits)),
                new int[] {3, 336, 336})));
    }
}
