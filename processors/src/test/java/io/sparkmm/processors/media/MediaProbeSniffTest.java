package io.sparkmm.processors.media;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Magic-byte sniffing, from hand-made heads (no files, no natives). */
class MediaProbeSniffTest {

    private static byte[] head(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void images() {
        assertThat(MediaProbe.sniff(head(0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A), "audio")).isEqualTo("image");
        assertThat(MediaProbe.sniff(head(0xFF, 0xD8, 0xFF, 0xE0), null)).isEqualTo("image");
        assertThat(MediaProbe.sniff(ascii("GIF89a"), null)).isEqualTo("image");
        assertThat(MediaProbe.sniff(ascii("RIFF\0\0\0\0WEBPVP8 "), null)).isEqualTo("image");
    }

    @Test
    void audioAndVideo() {
        assertThat(MediaProbe.sniff(ascii("RIFF\0\0\0\0WAVEfmt "), "image")).isEqualTo("audio");
        assertThat(MediaProbe.sniff(ascii("RIFF\0\0\0\0AVI LIST"), null)).isEqualTo("video");
        assertThat(MediaProbe.sniff(ascii("fLaC"), null)).isEqualTo("audio");
        assertThat(MediaProbe.sniff(ascii("ID3\u0004"), null)).isEqualTo("audio");
        assertThat(MediaProbe.sniff(head(0xFF, 0xFB, 0x90, 0x00), null)).as("MP3 frame sync").isEqualTo("audio");
    }

    @Test
    void containersOfEitherKeepAnAudioOrVideoHint() {
        byte[] mp4 = ascii("\0\0\0\u0018ftypisom");
        byte[] m4a = ascii("\0\0\0\u0018ftypM4A ");
        byte[] mkv = head(0x1A, 0x45, 0xDF, 0xA3);
        assertThat(MediaProbe.sniff(mp4, null)).isEqualTo("video");
        assertThat(MediaProbe.sniff(mp4, "audio")).isEqualTo("audio");
        assertThat(MediaProbe.sniff(mp4, "image")).isEqualTo("video");
        assertThat(MediaProbe.sniff(m4a, null)).isEqualTo("audio");
        assertThat(MediaProbe.sniff(mkv, null)).isEqualTo("video");
        assertThat(MediaProbe.sniff(mkv, "audio")).isEqualTo("audio");
        assertThat(MediaProbe.sniff(ascii("OggS"), null)).isEqualTo("audio");
        assertThat(MediaProbe.sniff(ascii("OggS"), "video")).isEqualTo("video");
    }

    @Test
    void unknown() {
        assertThat(MediaProbe.sniff(ascii("not media"), "image")).isNull();
        assertThat(MediaProbe.sniff(new byte[0], null)).isNull();
        assertThat(MediaProbe.sniff(null, "audio")).isNull();
    }
}
