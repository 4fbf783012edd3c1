package io.sparkmm.engine.bench;

import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.encoders.MediaEncoder;
import io.sparkmm.engine.encoders.NativeMediaEncoder;
import io.sparkmm.engine.encoders.onnx.OnnxMediaEncoder;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * LLaVA image encoders (vision tower + projector) native vs ONNX Runtime, images/s side by side in
 * one process: for each checkpoint and thread count, alternating A/B rounds (the order flips every
 * round) over the same processed images, reporting each side's best and median round and the ratio.
 * The engine's CPU backend and ONNX Runtime's CPU provider get the same number of threads.
 * <pre>
 *   # the realistic tower (CLIP ViT-L/14-336 + a 1024 -> 4096 projector, random weights), not committed:
 *   python engine/src/test/python/onnx_encoder_export.py clip-l /tmp/onnx-bench
 *   java --add-modules jdk.incubator.vector -cp engine/target/sparkmm-cli.jar io.sparkmm.engine.bench.OnnxEncoderBenchmark \
 *       engine/src/test/resources/checkpoints-llava/llava-llama-default-bf16=engine/src/test/resources/onnx/llava-llama-default-bf16.onnx:200 \
 *       /tmp/onnx-bench/clip-l-336=/tmp/onnx-bench/clip-l-336.onnx:2 [--threads 1,2] [--rounds 3]
 * </pre>
 * Each argument is CHECKPOINT=ONNX_FILE[:IMAGES_PER_ROUND].
 */
public final class OnnxEncoderBenchmark {

    private OnnxEncoderBenchmark() {
    }

    private record Case(Path checkpoint, Path onnx, int images) {
    }

    public static void main(String[] args) throws Exception {
        List<Case> cases = new ArrayList<>();
        int[] threads = {1, 2};
        int rounds = 3;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = java.util.Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                default -> {
                    String[] kv = args[i].split("=", 2);
                    if (kv.length != 2) {
                        throw new IllegalArgumentException("expected CHECKPOINT=ONNX_FILE[:IMAGES], got " + args[i]);
                    }
                    int colon = kv[1].lastIndexOf(':');
                    boolean counted = colon > 0 && kv[1].substring(colon + 1).matches("\\d+");
                    cases.add(new Case(Path.of(kv[0]), Path.of(counted ? kv[1].substring(0, colon) : kv[1]),
                            counted ? Integer.parseInt(kv[1].substring(colon + 1)) : 8));
                }
            }
        }
        if (cases.isEmpty()) {
            throw new IllegalArgumentException("give at least one CHECKPOINT=ONNX_FILE[:IMAGES] (see the class comment)");
        }
        System.out.printf(Locale.ROOT, "ONNX Runtime %s, Java %s, %d processors, %d rounds (A/B order flips each round)%n",
                OnnxMediaEncoder.runtimeVersion(), Runtime.version(),
                Runtime.getRuntime().availableProcessors(), rounds);
        System.out.println("| encoder | threads | images/round | native img/s (best, median) | ORT img/s (best, median) "
                + "| ORT / native (medians) | max abs diff |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        for (Case c : cases) {
            for (int t : threads) {
                run(c, t, rounds);
            }
        }
    }

    private static void run(Case c, int threads, int rounds) throws Exception {
        try (Backend backend = Backends.open("cpu", threads); LoadedModel model = LoadedModel.open(c.checkpoint(), backend);
             OnnxMediaEncoder onnx = OnnxMediaEncoder.open(c.onnx(), model.model().externalEncoderPort(), backend, threads)) {
            List<MediaInput> items = items(model, c.images());
            MediaEncoder nat = new NativeMediaEncoder(model.model());
            double diff = maxDiff(model, nat, onnx, items.get(0)); // also the warm-up of both
            double[] a = new double[rounds];
            double[] b = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                if (r % 2 == 0) {
                    a[r] = imagesPerSecond(nat, items);
                    b[r] = imagesPerSecond(onnx, items);
                } else {
                    b[r] = imagesPerSecond(onnx, items);
                    a[r] = imagesPerSecond(nat, items);
                }
            }
            System.out.printf(Locale.ROOT, "| %s | %d | %d | %.2f, %.2f | %.2f, %.2f | %.2fx | %.2g |%n",
                    c.checkpoint().getFileName(), threads, items.size(), max(a), median(a), max(b), median(b),
                    median(b) / median(a), diff);
        }
    }

    private static double imagesPerSecond(MediaEncoder encoder, List<MediaInput> items) {
        long t0 = System.nanoTime();
        for (MediaInput m : items) {
            try (Tensor t = encoder.encode(m)) {
                if (t.rows() != m.numEmbeddings()) {
                    throw new IllegalStateException("encoder gave " + t.rows() + " rows, expected " + m.numEmbeddings());
                }
            }
        }
        return items.size() / ((System.nanoTime() - t0) / 1e9);
    }

    private static double maxDiff(LoadedModel model, MediaEncoder a, MediaEncoder b, MediaInput item) {
        try (Tensor x = a.encode(item); Tensor y = b.encode(item)) {
            float[] fx = model.backend().download(x);
            float[] fy = model.backend().download(y);
            double d = 0;
            for (int i = 0; i < fx.length; i++) {
                d = Math.max(d, Math.abs(fx[i] - fy[i]));
            }
            return d;
        }
    }

    /** Distinct processed images (the family's own processor on generated 512x384 PNGs). */
    private static List<MediaInput> items(LoadedModel model, int n) throws Exception {
        List<MediaInput> out = new ArrayList<>();
        int imageToken = imageToken(model);
        try (EngineSession s = EngineSession.over(model, EngineOptions.defaults(), new ProcessorCache(0))) {
            for (int i = 0; i < n; i++) {
                PromptInput p = new PromptInput(null, new int[] {imageToken}, false, null,
                        List.of(MediaSource.ofBytes("img" + i + ".png", png(i))), List.of(), List.of());
                out.addAll(s.requests().build("b" + i, p, SamplingParams.greedy(1)).media());
            }
        }
        return out;
    }

    private static int imageToken(LoadedModel model) {
        if (!(model.model() instanceof io.sparkmm.engine.models.llava.LlavaModel llava)) {
            throw new IllegalArgumentException(model.checkpoint().directory() + " is not a LLaVA checkpoint");
        }
        return llava.imageTokenId();
    }

    private static byte[] png(int seed) throws Exception {
        BufferedImage img = new BufferedImage(512, 384, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int v = ((x * (seed + 3)) ^ (y * 7)) & 0xff;
                img.setRGB(x, y, (v << 16) | (((v + seed * 31) & 0xff) << 8) | ((255 - v) & 0xff));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    private static double max(double[] v) {
        return java.util.Arrays.stream(v).max().orElse(0);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
