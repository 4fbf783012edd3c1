package io.sparkmm.engine.models.qwen2vl;

import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Random;

/** Test glue for Qwen2-VL: images as PNG bytes and requests built by the real processor path. */
public final class Qwen2VlTesting {

    public static final String IMAGE = TinyQwen2VlCheckpoint.VISION_START + TinyQwen2VlCheckpoint.IMAGE_PAD
            + TinyQwen2VlCheckpoint.VISION_END;

    private Qwen2VlTesting() {
    }

    /** A smooth random RGB image (blobs of color, so resizing keeps structure), PNG-encoded. */
    public static byte[] png(int width, int height, long seed) {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        double[] a = new double[9];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextDouble() * 0.2;
        }
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rr = (int) (127 + 127 * Math.sin(a[0] * x + a[1] * y + a[2] * 10));
                int gg = (int) (127 + 127 * Math.sin(a[3] * x - a[4] * y + a[5] * 10));
                int bb = (int) (127 + 127 * Math.cos(a[6] * x + a[7] * y + a[8] * 10));
                img.setRGB(x, y, (rr << 16) | (gg << 8) | bb);
            }
        }
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static MediaSource image(int width, int height, long seed) {
        return MediaSource.ofBytes("img-" + width + "x" + height + "-" + seed + ".png", png(width, height, seed));
    }

    public static final String VIDEO = TinyQwen2VlCheckpoint.VISION_START + TinyQwen2VlCheckpoint.VIDEO_PAD
            + TinyQwen2VlCheckpoint.VISION_END;

    /**
     * Runs the ffmpeg command line (CI installs it) to make a test file: {@code lavfiInput} is an
     * ffmpeg lavfi source, e.g. "testsrc=size=96x64:rate=10:duration=2".
     */
    public static java.nio.file.Path ffmpeg(java.nio.file.Path out, String lavfiInput, String... extra) {
        return ffmpegInput(out, List.of("-f", "lavfi", "-i", lavfiInput), extra);
    }

    /** ffmpeg with the given input arguments, then {@code extra} output options, writing {@code out}. */
    public static java.nio.file.Path ffmpegInput(java.nio.file.Path out, List<String> input, String... extra) {
        java.util.List<String> cmd = new java.util.ArrayList<>(List.of("ffmpeg", "-y", "-loglevel", "error"));
        cmd.addAll(input);
        cmd.addAll(List.of(extra));
        cmd.add(out.toString());
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + log);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run ffmpeg (install it: apt-get install ffmpeg)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A processor over {@code model} with its own cache. */
    public static MultimodalProcessor processor(LoadedModel model) {
        return new MultimodalProcessor(model, new ProcessorCache(64L << 20), MediaLimits.defaults());
    }

    public static EngineRequest request(MultimodalProcessor p, String text, List<MediaSource> images,
                                        List<MediaSource> videos, SamplingParams sampling) {
        return p.build(null, new PromptInput(text, null, false, null, images, List.of(), videos, ProcessorKwargs.NONE),
                sampling);
    }
}
