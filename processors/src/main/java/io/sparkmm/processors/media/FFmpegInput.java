package io.sparkmm.processors.media;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.bytedeco.javacv.FFmpegFrameGrabber;

/**
 * An audio/video item resolved once (local file, or bytes in memory) from which FFmpeg grabbers
 * are opened, one per pass and per call: grabbers are never shared between threads.
 *
 * <p>Local files are handed to FFmpeg by path (no copy through the heap); in-memory bytes and
 * remote files go through JavaCV's InputStream support, seekable because the stream is a
 * ByteArrayInputStream (MP4s with the index at the end need to seek back).
 *
 * <p>Hardening: only the demuxers we support may probe the input (so a text file is not read
 * as FFmpeg's "tty" ANSI-art format, and playlists such as HLS cannot make FFmpeg open other
 * files or URLs), local files may only use the file protocol, and probing is bounded.
 */
final class FFmpegInput {

    /** Demuxer names as FFmpeg spells them; a demuxer matches when any of its names is listed. */
    static final String DEMUXERS = "wav,w64,flac,mp3,ogg,mov,mp4,m4a,3gp,matroska,webm,avi,aac";
    private static final String PROBE_BYTES = "5000000";
    private static final String ANALYZE_MICROS = "5000000";

    private final String item;
    private final Path file;
    private final byte[] data;

    private FFmpegInput(String item, Path file, byte[] data) {
        this.item = item;
        this.file = file;
        this.data = data;
    }

    /** Resolves the source, enforcing maxFileBytes and refusing empty input. */
    static FFmpegInput resolve(MediaSource src, MediaLimits limits) {
        var file = src.localFile(limits);
        if (file.isPresent()) {
            if (file.get().toFile().length() == 0) {
                throw new MediaException(src.name(), "empty file (0 bytes)");
            }
            return new FFmpegInput(src.name(), file.get(), null);
        }
        byte[] bytes = src.bytes(limits);
        if (bytes.length == 0) {
            throw new MediaException(src.name(), "empty file (0 bytes)");
        }
        return new FFmpegInput(src.name(), null, bytes);
    }

    String item() {
        return item;
    }

    /**
     * Opens and starts a grabber; {@code configure} sets the output format before start. The
     * caller must {@link #close} it in a finally block.
     */
    FFmpegFrameGrabber open(String kind, Consumer<FFmpegFrameGrabber> configure) {
        Natives.ensureLoaded();
        FFmpegFrameGrabber g = file != null
                ? new FFmpegFrameGrabber("file:" + file.toAbsolutePath())
                : new FFmpegFrameGrabber(new ByteArrayInputStream(data), data.length);
        try {
            g.setOption("format_whitelist", DEMUXERS);
            g.setOption("protocol_whitelist", "file");
            g.setOption("probesize", PROBE_BYTES);
            g.setOption("analyzeduration", ANALYZE_MICROS);
            configure.accept(g);
            g.start();
            return g;
        } catch (Exception | LinkageError e) {
            close(g);
            throw new MediaException(item, "cannot open as " + kind
                    + " (not a supported media file, unsupported codec, or corrupt)", e);
        }
    }

    /** Releases the native decoder and demuxer; never throws (used in finally blocks). */
    static void close(FFmpegFrameGrabber g) {
        if (g == null) {
            return;
        }
        try {
            g.close();
        } catch (Exception ignored) {
            // closing after a failure: the original error is what matters
        }
    }
}
