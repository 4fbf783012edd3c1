package io.sparkmm.engine.models.qwenvl;

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

/** Test glue for Qwen-VL: the oracle script's images drawn by the same formulas, requests through the real processor path. */
final class QwenVlTesting {

    private QwenVlTesting() {
    }

    /** The images of src/test/python/qwenvl_fixtures.py, PNG-encoded (lossless, so the decoded pixels are the formula's). */
    static byte[] png(String name) {
        int w;
        int h;
        switch (name) {
            case "grad90x60" -> {
                w = 90;
                h = 60;
            }
            case "dot1x1" -> {
                w = 1;
                h = 1;
            }
            case "strip20000x20" -> {
                w = 20000;
                h = 20;
            }
            default -> throw new IllegalArgumentException(name);
        }
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int[] c = switch (name) {
                    case "grad90x60" -> new int[] {(x * 2) % 256, (y * 3) % 256, (x + y * 5) % 256};
                    case "dot1x1" -> new int[] {200, 30, 90};
                    default -> new int[] {x % 256, (y * 13) % 256, (x / 7 + y * 3) % 256};
                };
                img.setRGB(x, y, (c[0] << 16) | (c[1] << 8) | c[2]);
            }
        }
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static MediaSource image(String name) {
        return MediaSource.ofBytes(name + ".png", png(name));
    }

    static MultimodalProcessor processor(LoadedModel model) {
        return new MultimodalProcessor(model, new ProcessorCache(64L << 20), MediaLimits.defaults());
    }

    static EngineRequest request(MultimodalProcessor p, String text, boolean chat, List<MediaSource> images,
                                 SamplingParams sampling) {
        return p.build(null, new PromptInput(text, null, chat, null, images, List.of(), List.of(), ProcessorKwargs.NONE),
                sampling);
    }
}
