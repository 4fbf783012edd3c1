package io.sparkmm.processors.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class AudioDecodeTest extends MediaFixtures {

    private static final MediaLimits L = MediaLimits.defaults();

    /** Frequency from zero crossings over the middle of the clip (skips codec edges). */
    static double frequency(AudioClip a) {
        float[] s = a.samples();
        int from = s.length / 10;
        int to = s.length - s.length / 10;
        int first = -1;
        int last = -1;
        int crossings = 0;
        for (int i = from + 1; i < to; i++) {
            if (s[i - 1] < 0 && s[i] >= 0) {   // upward crossings: one per period
                if (first < 0) {
                    first = i;
                } else {
                    crossings++;
                }
                last = i;
            }
        }
        return crossings * a.sampleRate() / (double) (last - first);
    }

    static double rms(AudioClip a) {
        float[] s = a.samples();
        int from = s.length / 10;
        int to = s.length - s.length / 10;
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += s[i] * (double) s[i];
        }
        return Math.sqrt(sum / (to - from));
    }

    @Test
    void stereoWavIsAveragedAndResampled() {
        AudioClip a = MediaIO.readAudio(src(good("sine440_stereo_44k.wav")), 16000, L);
        assertThat(a.sampleRate()).isEqualTo(16000);
        assertThat(a.samples().length).isCloseTo(32000, within(64));
        assertThat(frequency(a)).isCloseTo(440.0, within(1.0));
        // left 0.5, right 0.25: the mean is a 0.375 sine
        assertThat(rms(a)).isCloseTo(0.375 / Math.sqrt(2), within(0.005));
    }

    @Test
    void antiPhaseChannelsCancel() {
        AudioClip a = MediaIO.readAudio(src(good("antiphase.wav")), 16000, L);
        assertThat(rms(a)).isLessThan(1e-3);
    }

    @Test
    void flacAtItsOwnRateIsNotResampled() {
        AudioClip a = MediaIO.readAudio(src(good("sine440_16k.flac")), 16000, L);
        assertThat(a.samples().length).isEqualTo(32000);
        assertThat(frequency(a)).isCloseTo(440.0, within(0.5));
        assertThat(rms(a)).isCloseTo(0.5 / Math.sqrt(2), within(0.002));
        AudioClip up = MediaIO.readAudio(src(good("sine440_16k.flac")), 24000, L);
        assertThat(up.samples().length).isCloseTo(48000, within(64));
        assertThat(frequency(up)).isCloseTo(440.0, within(0.5));
    }

    @ParameterizedTest
    @CsvSource({"sine440.mp3", "sine440_vorbis.ogg", "sine440_opus.ogg", "sine440.m4a"})
    void compressedFormatsKeepFrequencyAmplitudeAndLength(String file) {
        AudioClip a = MediaIO.readAudio(src(good(file)), 16000, L);
        assertThat(a.sampleRate()).isEqualTo(16000);
        assertThat(a.durationSeconds()).as(file).isCloseTo(2.0, within(0.1));
        assertThat(frequency(a)).as(file).isCloseTo(440.0, within(1.0));
        assertThat(rms(a)).as(file).isCloseTo(0.5 / Math.sqrt(2), within(0.02));
    }

    @Test
    void bytesAndPathAgree() throws Exception {
        byte[] data = Files.readAllBytes(good("sine440.m4a"));
        assertThat(MediaIO.readAudio(MediaSource.ofBytes("clip-1", data), 16000, L))
                .isEqualTo(MediaIO.readAudio(src(good("sine440.m4a")), 16000, L));
    }

    @Test
    void tooLongAudioIsRefusedNotTruncated() {
        assertThatThrownBy(() -> MediaIO.readAudio(src(good("sine440_stereo_44k.wav")), 16000,
                L.withMaxAudioSeconds(1.0)))
                .isInstanceOf(MediaException.class)
                .hasMessageContaining("sine440_stereo_44k.wav")
                .hasMessageContaining("maxAudioSeconds=1.0");
    }

    @Test
    void badTargetRateIsACallerError() {
        assertThatThrownBy(() -> MediaIO.readAudio(src(good("antiphase.wav")), 0, L))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
