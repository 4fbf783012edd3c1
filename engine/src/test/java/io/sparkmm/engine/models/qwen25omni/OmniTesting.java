package io.sparkmm.engine.models.qwen25omni;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.models.qwen2audio.Qwen2AudioTestClips;
import io.sparkmm.engine.models.qwen2vl.Qwen2VlTesting;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The media of qwen25omni_fixtures.py written as files the engine reads back bit for bit: clips as
 * 32-bit float WAV, images as PNG, videos as FFV1 + 32-bit float PCM in Matroska (both lossless, so
 * the decoded frames and samples are the very arrays transformers processed).
 */
final class OmniTesting {

    static final Path RES = Path.of("src/test/resources/qwen25omni");
    static final Path CKPT = Path.of("src/test/resources/checkpoints-qwen25omni/qwen25_omni_thinker_tiny");

    private OmniTesting() {
    }

    static JsonNode fixtures() {
        try {
            return new ObjectMapper().readTree(RES.resolve("qwen25omni_fixtures.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode fixtureCase(String name) {
        for (JsonNode c : fixtures().get("cases")) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("no fixture case " + name);
    }

    /** pattern(w, h, seed) of the script: pixel (x, y, c) = (7x + 13y + 50c + 31 seed + x*y) mod 256, [h][w][3]. */
    static byte[] pattern(int w, int h, int seed) {
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    rgb[(y * w + x) * 3 + c] = (byte) Math.floorMod(7 * x + 13 * y + 50 * c + 31 * seed + x * y, 256);
                }
            }
        }
        return rgb;
    }

    static Path png(Path dir, int w, int h, int seed) {
        byte[] rgb = pattern(w, h, seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = (y * w + x) * 3;
                img.setRGB(x, y, ((rgb[i] & 0xff) << 16) | ((rgb[i + 1] & 0xff) << 8) | (rgb[i + 2] & 0xff));
            }
        }
        Path out = dir.resolve("image-" + w + "x" + h + "-" + seed + ".png");
        try {
            ImageIO.write(img, "png", out.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    static Path wav(Path dir, int samples, int seed) {
        Path out = dir.resolve("clip-" + samples + "-" + seed + ".wav");
        try {
            Files.write(out, Qwen2AudioTestClips.floatWav(Qwen2AudioTestClips.clip(samples, seed), 16000));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /**
     * A video of frames pattern(w, h, seed + f), f < frames, at 2 fps, with the clip (samples, audioSeed)
     * as its audio track, or none when samples is 0.
     */
    static Path video(Path dir, int frames, int w, int h, int seed, int samples, int audioSeed) {
        try {
            Path raw = dir.resolve("frames-" + seed + ".rgb");
            ByteBuffer b = ByteBuffer.allocate(frames * w * h * 3);
            for (int f = 0; f < frames; f++) {
                b.put(pattern(w, h, seed + f));
            }
            Files.write(raw, b.array());
            List<String> input = new java.util.ArrayList<>(List.of("-f", "rawvideo", "-pix_fmt", "rgb24", "-s", w + "x" + h,
                    "-r", "2", "-i", raw.toString()));
            Path out = dir.resolve("video-" + seed + "-" + samples + ".mkv");
            if (samples > 0) {
                float[] clip = Qwen2AudioTestClips.clip(samples, audioSeed);
                ByteBuffer a = ByteBuffer.allocate(4 * samples).order(ByteOrder.LITTLE_ENDIAN);
                for (float s : clip) {
                    a.putFloat(s);
                }
                Path pcm = dir.resolve("audio-" + audioSeed + ".f32");
                Files.write(pcm, a.array());
                input.addAll(List.of("-f", "f32le", "-ar", "16000", "-ac", "1", "-i", pcm.toString()));
                return Qwen2VlTesting.ffmpegInput(out, input, "-c:v", "ffv1", "-c:a", "pcm_f32le");
            }
            return Qwen2VlTesting.ffmpegInput(out, input, "-c:v", "ffv1");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static io.sparkmm.engine.EngineRequest request(io.sparkmm.engine.multimodal.MultimodalProcessor p, String text,
                                                   List<io.sparkmm.processors.media.MediaSource> images,
                                                   List<io.sparkmm.processors.media.MediaSource> audio,
                                                   List<io.sparkmm.processors.media.MediaSource> videos,
                                                   boolean audioInVideo, io.sparkmm.engine.sampling.SamplingParams sampling) {
        io.sparkmm.processors.ProcessorKwargs kwargs = audioInVideo
                ? new io.sparkmm.processors.ProcessorKwargs(java.util.Map.of("use_audio_in_video", true))
                : io.sparkmm.processors.ProcessorKwargs.NONE;
        return p.build(null, new io.sparkmm.engine.multimodal.PromptInput(text, null, false, null, images, audio, videos,
                kwargs), sampling);
    }

    static io.sparkmm.processors.media.MediaSource file(Path p) {
        return io.sparkmm.processors.media.MediaSource.ofPath(p.toString());
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
