package io.sparkmm.processors.media;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.global.avformat;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;

/**
 * Decodes MP4, WebM, MKV and AVI with FFmpeg and returns the frames a {@link VideoSampling}
 * asks for, as RGB.
 *
 * <p>The total frame count comes from the container ({@code nb_frames} of the video stream,
 * present in MP4/AVI). WebM/MKV do not store it; then the video packets are counted in a first
 * pass without decoding (one packet per frame for the codecs we support). Frames are then decoded
 * in order and only the chosen ones are converted to RGB (by JavaCV's swscale), so unwanted
 * frames cost a decode but no colour conversion. If the stream ends before the last chosen
 * frame (truncated or corrupt file) the call fails, as vLLM's loader asserts.
 */
final class VideoDecoder {

    private VideoDecoder() {
    }

    static VideoClip decode(MediaSource src, VideoSampling sampling, MediaLimits limits) {
        if (sampling.isUniform() && sampling.numFrames() > limits.maxFrames()) {
            throw new MediaException(src.name(), "asked for numFrames=" + sampling.numFrames()
                    + ", over the limit maxFrames=" + limits.maxFrames());
        }
        FFmpegInput in = FFmpegInput.resolve(src, limits);
        String item = in.item();
        FFmpegFrameGrabber g = in.open("video", gr -> gr.setPixelFormat(avutil.AV_PIX_FMT_RGB24));
        try {
            if (!g.hasVideo()) {
                throw new MediaException(item, "no video stream (format " + g.getFormat() + ")");
            }
            int w = g.getImageWidth();
            int h = g.getImageHeight();
            if (w <= 0 || h <= 0) {
                throw new MediaException(item, "video stream has no frame size (unsupported codec?)");
            }
            ImageDecoder.checkPixels(item, w, h, limits);
            double fps = g.getVideoFrameRate();
            if (!(fps > 0) || Double.isInfinite(fps)) {
                throw new MediaException(item, "video stream has no frame rate");
            }
            int total = containerFrameCount(g);
            if (total <= 0) {
                FFmpegInput.close(g);
                g = null;
                total = countPackets(in);
                g = in.open("video", gr -> gr.setPixelFormat(avutil.AV_PIX_FMT_RGB24));
            }
            if (total <= 0) {
                throw new MediaException(item, "video stream has no frames");
            }
            long lengthMicros = g.getLengthInTime();
            double duration = lengthMicros > 0 ? lengthMicros / 1e6 : total / fps;
            int[] indices;
            if (sampling.isSelector()) {
                indices = selected(item, sampling.selector(), total, fps, limits);
            } else {
                indices = sampling.isUniform()
                        ? FrameIndices.uniform(total, sampling.numFrames())
                        : FrameIndices.atFps(total, fps, sampling.fps(), limits.maxFrames());
            }
            List<RgbImage> frames = grabFrames(item, g, indices, total, limits);
            return new VideoClip(frames, indices, fps, duration, total);
        } finally {
            FFmpegInput.close(g);
        }
    }

    /**
     * Asks the selector, then checks what it returned: grabFrames walks the stream once, so the
     * indices must be ascending and in range; a rule's refusal becomes this item's error.
     */
    private static int[] selected(String item, FrameSelector selector, int total, double fps, MediaLimits limits) {
        int[] indices;
        try {
            indices = selector.select(total, fps);
        } catch (IllegalArgumentException e) {
            throw new MediaException(item, "cannot sample frames (" + total + " frames at " + fps + " fps): "
                    + e.getMessage(), e);
        }
        if (indices == null || indices.length == 0) {
            throw new MediaException(item, "the frame selector chose no frames of " + total);
        }
        if (indices.length > limits.maxFrames()) {
            throw new MediaException(item, "the frame selector chose " + indices.length
                    + " frames, over the limit maxFrames=" + limits.maxFrames());
        }
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] < 0 || indices[i] >= total || (i > 0 && indices[i] <= indices[i - 1])) {
                throw new MediaException(item, "the frame selector returned index " + indices[i] + " at position " + i
                        + "; indices must be strictly ascending and in [0, " + total + ")");
            }
        }
        return indices.clone();
    }

    /** Decodes in order, converting only the frames at {@code indices} (ascending). */
    private static List<RgbImage> grabFrames(String item, FFmpegFrameGrabber g, int[] indices, int total,
                                             MediaLimits limits) {
        List<RgbImage> out = new ArrayList<>(indices.length);
        int k = 0;
        int idx = 0;
        while (k < indices.length) {
            boolean wanted = idx == indices[k];
            Frame f;
            try {
                f = g.grabFrame(false, true, wanted, false, false);
            } catch (Exception e) {
                throw new MediaException(item, "corrupt video data at frame " + idx, e);
            }
            if (f == null) {
                throw new MediaException(item, "truncated or corrupt video: the container lists " + total
                        + " frames but only " + idx + " could be decoded");
            }
            if (f.image == null && f.imageWidth <= 0) {
                continue;   // not a picture
            }
            if (wanted) {
                out.add(toRgb(item, f, limits));
                k++;
            }
            idx++;
        }
        return out;
    }

    private static RgbImage toRgb(String item, Frame f, MediaLimits limits) {
        int w = f.imageWidth;
        int h = f.imageHeight;
        ImageDecoder.checkPixels(item, w, h, limits);
        // The grabber converts to RGB24 as asked. JavaCV derives imageChannels from the row stride,
        // which FFmpeg pads for alignment (a 96-pixel-wide RGB24 row of 288 bytes is stored in 384,
        // read as "4 channels"), so the stride is checked instead of the channel count.
        int stride = f.imageStride;   // bytes per row for 8-bit data, may include padding
        if (f.image == null || f.imageDepth != Frame.DEPTH_UBYTE || stride < 3 * w) {
            throw new MediaException(item, "unexpected decoded frame layout (" + f.imageChannels + " channels, depth "
                    + f.imageDepth + ", " + stride + " bytes per row of " + w + " pixels)");
        }
        ByteBuffer buf = ((ByteBuffer) f.image[0]).duplicate();
        byte[] rgb = new byte[3 * w * h];
        int base = buf.position();
        for (int y = 0; y < h; y++) {
            buf.position(base + y * stride);
            buf.get(rgb, 3 * w * y, 3 * w);
        }
        return new RgbImage(w, h, rgb);
    }

    /** nb_frames of the first video stream, 0 when the container does not say. */
    private static int containerFrameCount(FFmpegFrameGrabber g) {
        AVStream st = firstVideoStream(g.getFormatContext());
        long n = st == null ? 0 : st.nb_frames();
        return n > 0 && n <= Integer.MAX_VALUE ? (int) n : 0;
    }

    private static AVStream firstVideoStream(AVFormatContext fc) {
        for (int i = 0; i < fc.nb_streams(); i++) {
            AVStream st = fc.streams(i);
            if (st.codecpar().codec_type() == avutil.AVMEDIA_TYPE_VIDEO
                    && (st.disposition() & avformat.AV_DISPOSITION_ATTACHED_PIC) == 0) {
                return st;
            }
        }
        return null;
    }

    /** Counts the first video stream's packets without decoding them. */
    private static int countPackets(FFmpegInput in) {
        FFmpegFrameGrabber g = in.open("video", gr -> { });
        try {
            AVStream st = firstVideoStream(g.getFormatContext());
            if (st == null) {
                throw new MediaException(in.item(), "no video stream");
            }
            int stream = st.index();
            int n = 0;
            AVPacket p;
            while ((p = g.grabPacket()) != null) {
                if (p.stream_index() == stream) {
                    n++;
                }
                avcodec_unref(p);
            }
            return n;
        } catch (MediaException e) {
            throw e;
        } catch (Exception e) {
            throw new MediaException(in.item(), "corrupt video while counting frames", e);
        } finally {
            FFmpegInput.close(g);
        }
    }

    private static void avcodec_unref(AVPacket p) {
        org.bytedeco.ffmpeg.global.avcodec.av_packet_unref(p);
    }
}
