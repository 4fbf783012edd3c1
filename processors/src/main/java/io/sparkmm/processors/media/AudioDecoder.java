package io.sparkmm.processors.media;

import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;

/**
 * Decodes WAV, FLAC, MP3, Ogg (Vorbis, Opus) and M4A/AAC (or the audio track of MP4/MKV/AVI)
 * with FFmpeg to mono float at a target sample rate.
 *
 * <p>FFmpeg's libswresample (inside JavaCV's grabber) converts to interleaved 32-bit float and
 * resamples to the target rate with its default filter (windowed sinc, 32 taps, linear
 * interpolation between phases). vLLM resamples with librosa (soxr) instead, so samples differ
 * slightly near the band edge, not in level or length. Channels are kept through the resampler
 * and averaged here (the mean over channels, as librosa's {@code to_mono}), because swresample's
 * default downmix matrix depends on the channel layout.
 *
 * <p>{@link MediaLimits#maxAudioSeconds()} is checked from the container's duration before
 * decoding and again on the decoded length, with {@link #SLACK_SECONDS} of slack for encoder
 * padding (MP3/AAC priming frames); a longer clip is refused, never cut.
 */
final class AudioDecoder {

    /** Codec padding tolerated beyond maxAudioSeconds. */
    static final double SLACK_SECONDS = 0.1;

    private AudioDecoder() {
    }

    static AudioClip decode(MediaSource src, int targetSampleRate, MediaLimits limits) {
        if (targetSampleRate <= 0) {
            throw new IllegalArgumentException("targetSampleRate must be > 0, got " + targetSampleRate);
        }
        FFmpegInput in = FFmpegInput.resolve(src, limits);
        String item = in.item();
        FFmpegFrameGrabber g = in.open("audio", gr -> {
            gr.setSampleFormat(avutil.AV_SAMPLE_FMT_FLT);
            gr.setSampleRate(targetSampleRate);
        });
        try {
            if (!g.hasAudio()) {
                throw new MediaException(item, "no audio stream (format " + g.getFormat() + ")");
            }
            double limit = limits.maxAudioSeconds() + SLACK_SECONDS;
            long lengthMicros = g.getLengthInTime();
            if (lengthMicros > 0 && lengthMicros / 1e6 > limit) {
                throw tooLong(item, "", lengthMicros / 1e6, limits);
            }
            long maxSamples = (long) Math.ceil(limit * targetSampleRate);
            float[] mono = new float[(int) Math.min(maxSamples, Math.max(1024,
                    lengthMicros > 0 ? lengthMicros * targetSampleRate / 1_000_000L + 1024 : 1 << 16))];
            int n = 0;
            Frame f;
            while ((f = grab(item, g, n)) != null) {
                if (f.samples == null || f.samples.length == 0) {
                    continue;
                }
                int frames = frameCount(f);
                if (n + (long) frames > maxSamples) {
                    throw tooLong(item, "at least ", (n + (long) frames) / (double) targetSampleRate, limits);
                }
                if (n + frames > mono.length) {
                    mono = Arrays.copyOf(mono, (int) Math.min(maxSamples, Math.max(n + frames, 2L * mono.length)));
                }
                downmix(f, frames, mono, n);
                n += frames;
            }
            if (n == 0) {
                throw new MediaException(item, "no audio samples could be decoded (corrupt or empty stream)");
            }
            return new AudioClip(n == mono.length ? mono : Arrays.copyOf(mono, n), targetSampleRate);
        } finally {
            FFmpegInput.close(g);
        }
    }

    private static Frame grab(String item, FFmpegFrameGrabber g, int decoded) {
        try {
            return g.grabSamples();
        } catch (Exception e) {
            throw new MediaException(item, "corrupt audio data after " + decoded + " samples", e);
        }
    }

    /** Samples per channel in the frame: interleaved (one buffer) or planar (one per channel). */
    private static int frameCount(Frame f) {
        int channels = Math.max(1, f.audioChannels);
        Buffer b0 = f.samples[0];
        return f.samples.length == 1 ? b0.remaining() / channels : b0.remaining();
    }

    /** Mean over channels, written to mono[at..at+frames). */
    private static void downmix(Frame f, int frames, float[] mono, int at) {
        if (f.samples.length == 1) {
            FloatBuffer fb = (FloatBuffer) f.samples[0];
            int base = fb.position();
            int channels = Math.max(1, f.audioChannels);
            for (int i = 0; i < frames; i++) {
                double sum = 0;
                for (int c = 0; c < channels; c++) {
                    sum += fb.get(base + i * channels + c);
                }
                mono[at + i] = (float) (sum / channels);
            }
            return;
        }
        int planes = f.samples.length;
        for (int i = 0; i < frames; i++) {
            double sum = 0;
            for (Buffer b : f.samples) {
                FloatBuffer fb = (FloatBuffer) b;
                sum += fb.get(fb.position() + i);
            }
            mono[at + i] = (float) (sum / planes);
        }
    }

    private static MediaException tooLong(String item, String atLeast, double seconds, MediaLimits limits) {
        return new MediaException(item, String.format(java.util.Locale.ROOT,
                "audio is %s%.2f s, over the limit maxAudioSeconds=%s", atLeast, seconds, limits.maxAudioSeconds()));
    }
}
