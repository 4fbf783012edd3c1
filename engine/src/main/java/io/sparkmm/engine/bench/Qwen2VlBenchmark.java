package io.sparkmm.engine.bench;

import io.sparkmm.engine.EngineMetrics;
import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.models.qwen2vl.TinyQwen2VlCheckpoint;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.media.MediaSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

/**
 * Qwen2-VL encoder and engine figures, side by side in one run, on random checkpoints whose vision
 * tower is small enough for a laptop CPU but shaped like the real one (patch 14, merge 2,
 * temporal 2; 2.5-VL with 112-pixel windows):
 * <ol>
 *   <li>vision-tower time per image at three sizes (the grid, and so the work, follows the
 *       image: 224x224, 448x448, 896x672), Qwen2-VL's full attention per frame vs Qwen2.5-VL's
 *       windows;</li>
 *   <li>256 requests over 64 distinct images through the paged engine: encoder runs (64 while the
 *       encoder cache holds them), requests/s, and the naive path (one encode per request, full
 *       recompute) on the same requests for the ratio.</li>
 * </ol>
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp engine/target/sparkmm-cli.jar io.sparkmm.engine.bench.Qwen2VlBenchmark [threads]
 * </pre>
 */
public final class Qwen2VlBenchmark {

    private Qwen2VlBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : Runtime.getRuntime().availableProcessors();
        Path dir = Files.createTempDirectory("sparkmm-qwen2vl-bench");
        TinyCheckpoint.Spec text = new TinyCheckpoint.Spec(TinyCheckpoint.Architecture.QWEN2, 256, 512, 2, 4, 2, false,
                DType.F32, 5, 4096, 10000.0, null);
        var q2 = TinyQwen2VlCheckpoint.Spec.qwen2Vl();
        q2 = new TinyQwen2VlCheckpoint.Spec(false, q2.layout(), text, new int[] {8, 12, 12}, 256, 1024, 4, 4, 0,
                List.of(), 0);
        var q25 = TinyQwen2VlCheckpoint.Spec.qwen25Vl();
        q25 = new TinyQwen2VlCheckpoint.Spec(true, q25.layout(), text.withTieWordEmbeddings(true), new int[] {8, 12, 12},
                256, 1024, 4, 4, 112, List.of(3), 2);
        Path m2 = TinyQwen2VlCheckpoint.write(dir.resolve("qwen2-vl"), q2);
        Path m25 = TinyQwen2VlCheckpoint.write(dir.resolve("qwen2.5-vl"), q25);
        System.out.printf("threads %d; vision tower: dim 256, 4 blocks, 4 heads, MLP 1024; decoder: 256 wide, 2 layers%n",
                threads);

        System.out.println("== vision tower, ms per image (median of 5 after 2 warm-ups; a first pass over both models warms the JIT)");
        var backend = Backends.open("cpu", threads);
        List<Path> order = List.of(m2, m25, m2, m25);
        for (int k = 0; k < order.size(); k++) {
            Path m = order.get(k);
            boolean report = k >= 2;
            try (LoadedModel model = LoadedModel.open(m, backend)) {
                EngineSession session = EngineSession.over(model, EngineOptions.defaults(),
                        new io.sparkmm.processors.cache.ProcessorCache(1L << 28));
                ProcessorKwargs big = new ProcessorKwargs(Map.of("max_pixels", 1003520));
                for (int[] size : new int[][] {{224, 224}, {448, 448}, {896, 672}}) {
                    EngineRequest r = session.requests().build(null, new PromptInput("<|vision_start|><|image_pad|><|vision_end|>x",
                            null, false, null, List.of(png(size[0], size[1], size[0])), List.of(), List.of(), big),
                            SamplingParams.builder().maxTokens(1).build());
                    MediaInput item = r.media().get(0);
                    long[] times = new long[7];
                    for (int i = 0; i < times.length; i++) {
                        long t0 = System.nanoTime();
                        try (Tensor t = model.model().encode(item)) {
                            times[i] = System.nanoTime() - t0;
                        }
                    }
                    long[] timed = java.util.Arrays.copyOfRange(times, 2, times.length);
                    java.util.Arrays.sort(timed);
                    int[] g = item.tensor("grid_thw").ints();
                    if (!report) {
                        continue;
                    }
                    System.out.printf("  %-11s %4dx%-4d grid %2dx%-2d %5d patches -> %4d tokens: %8.1f ms%n",
                            m.getFileName(), size[0], size[1], g[1], g[2], g[1] * g[2], item.length(), timed[2] / 1e6);
                }
            }
        }

        System.out.println("== 256 requests over 64 distinct 448x336 images, 8 tokens each (Qwen2.5-VL)");
        // the encoder cache sized to hold all 64 images' rows (192 each), so each is encoded once
        EngineOptions options = EngineOptions.defaults().withEngine(
                EngineOptions.defaults().engine().withEncoderCacheRows(64 * 192));
        try (LoadedModel model = LoadedModel.open(m25, backend);
             EngineSession session = EngineSession.over(model, options,
                     new io.sparkmm.processors.cache.ProcessorCache(1L << 29))) {
            List<MediaSource> images = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                images.add(png(448, 336, 1000 + i));
            }
            SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(8).ignoreEos(true).build();
            List<EngineRequest> reqs = new ArrayList<>();
            String[] questions = {"what is in the picture", "describe the image", "the red car", "the cat and the dog"};
            for (int i = 0; i < 256; i++) {
                reqs.add(session.requests().build(null, PromptInput.text("<|vision_start|><|image_pad|><|vision_end|>"
                        + questions[i / 64], false, List.of(images.get(i % 64))), greedy));
            }
            long t0 = System.nanoTime();
            List<RequestHandle> hs = new ArrayList<>();
            for (EngineRequest r : reqs) {
                hs.add(session.engine().submit(r));
            }
            int failed = 0;
            for (RequestHandle h : hs) {
                EngineResult res = h.result().get();
                failed += res.ok() ? 0 : 1;
            }
            double engineSec = (System.nanoTime() - t0) / 1e9;
            EngineMetrics m = session.engine().metrics();
            System.out.printf("  engine: %.2f s, %.1f requests/s, encoder runs %d (distinct images 64), prefix hit rate %.2f,"
                    + " failed %d%n", engineSec, 256 / engineSec, m.encoderRuns(), m.prefixHitRate(), failed);
            NaiveGenerator naive = new NaiveGenerator(model.model(), new HashSet<>(model.eosTokenIds()));
            int sample = 32;
            long n0 = System.nanoTime();
            for (int i = 0; i < sample; i++) {
                naive.generate(reqs.get(i).promptTokenIds(), reqs.get(i).media(), greedy);
            }
            double naiveSec = (System.nanoTime() - n0) / 1e9 * 256 / sample;
            System.out.printf("  naive (one encode per request, full recompute): %.2f s for 256 (from %d), engine speed-up %.1fx%n",
                    naiveSec, sample, naiveSec / engineSec);
        }
        backend.close();
    }

    private static MediaSource png(int w, int h, long seed) throws Exception {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        java.util.Random r = new java.util.Random(seed);
        double a = r.nextDouble() * 0.05;
        double b = r.nextDouble() * 0.05;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int v = (int) (127 + 127 * Math.sin(a * x + b * y));
                img.setRGB(x, y, (v << 16) | ((255 - v) << 8) | ((x * y + (int) seed) & 0xff));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return MediaSource.ofBytes("bench-" + w + "x" + h + "-" + seed + ".png", out.toByteArray());
    }
}
