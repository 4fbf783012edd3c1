package io.sparkmm.processors.media;

import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.opencv.global.opencv_imgcodecs;

/**
 * One-time native setup, done by the JVM's class initialisation (thread-safe, once): load the
 * JavaCPP libraries and quiet FFmpeg, whose default INFO logging would print a banner of
 * stream details to the executor's stderr for every file. Errors still reach stderr; they also
 * surface as {@link MediaException}s.
 */
final class Natives {

    private Natives() {
    }

    private static final class Holder {
        static final boolean READY = init();

        private static boolean init() {
            Loader.load(avutil.class);
            avutil.av_log_set_level(avutil.AV_LOG_ERROR);
            Loader.load(opencv_imgcodecs.class);
            return true;
        }
    }

    static void ensureLoaded() {
        if (!Holder.READY) {
            throw new IllegalStateException("native media libraries not loaded");
        }
    }
}
