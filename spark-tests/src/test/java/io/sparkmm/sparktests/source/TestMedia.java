package io.sparkmm.sparktests.source;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Media of known facts, made in the test: images with javax.imageio, audio and video with the
 * Debian ffmpeg CLI (CI installs it; a missing ffmpeg fails the test, it is never skipped).
 */
final class TestMedia {

    private TestMedia() {
    }

    static void image(Path file, String format, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(51, 102, 204));
        g.fillRect(0, 0, w, h);
        g.dispose();
        try {
            Files.createDirectories(file.getParent());
            if (!ImageIO.write(img, format, file.toFile())) {
                throw new IllegalStateException("no ImageIO writer for " + format);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A 440 Hz sine: {@code channels} channels at {@code rate} Hz for {@code seconds}. */
    static void audio(Path file, int rate, int channels, double seconds) {
        ffmpeg(file, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=" + rate + ":duration=" + seconds,
                "-ac", String.valueOf(channels));
    }

    /** H.264 (MP4) or VP8 (WebM/MKV) test pattern of the given size, rate and length, no sound. */
    static void video(Path file, int w, int h, int fps, double seconds) {
        String codec = file.toString().endsWith(".mp4") ? "libx264" : "libvpx";
        ffmpeg(file, "-f", "lavfi", "-i", "testsrc=size=" + w + "x" + h + ":rate=" + fps + ":duration=" + seconds,
                "-c:v", codec, "-pix_fmt", "yuv420p");
    }

    private static void ffmpeg(Path out, String... args) {
        List<String> cmd = new ArrayList<>(List.of("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"));
        cmd.addAll(List.of(args));
        cmd.add(out.toString());
        try {
            Files.createDirectories(out.getParent());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IllegalStateException("ffmpeg failed for " + out + ": " + log);
            }
        } catch (IOException e) {
            throw new IllegalStateException("the ffmpeg CLI is needed to make test media: install the Debian"
                    + " package 'ffmpeg' (" + e.getMessage() + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
