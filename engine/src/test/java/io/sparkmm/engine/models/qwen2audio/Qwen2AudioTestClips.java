package io.sparkmm.engine.models.qwen2audio;

/**
 * The synthetic clips of qwen2audio_fixtures.py, regenerated bit for bit: sample i is
 * {@code 0.4 sin(2 pi 440 i / 16000) + 0.2 (u_i - 0.5)}, u_i = (s_i >>> 8) / 2^24 with the 32-bit LCG
 * s_{i+1} = 1664525 s_i + 1013904223 from s_0 = seed, in double, rounded to float32.
 */
public final class Qwen2AudioTestClips {

    private Qwen2AudioTestClips() {
    }

    public static float[] clip(int samples, long seed) {
        float[] out = new float[samples];
        long s = seed & 0xFFFFFFFFL;
        for (int i = 0; i < samples; i++) {
            double u = (s >>> 8) / (double) (1 << 24);
            out[i] = (float) (0.4 * Math.sin(2 * Math.PI * 440.0 * i / 16000) + 0.2 * (u - 0.5));
            s = (1664525L * s + 1013904223L) & 0xFFFFFFFFL;
        }
        return out;
    }

    /** 32-bit float mono PCM WAV: the decoder hands back these very samples, so the features are HF's. */
    public static byte[] floatWav(float[] samples, int rate) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(44 + 4 * samples.length)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(36 + 4 * samples.length)
                .put("WAVE".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        // format 3 = IEEE float, mono, 4 bytes a sample
        b.put("fmt ".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(16).putShort((short) 3)
                .putShort((short) 1).putInt(rate).putInt(4 * rate).putShort((short) 4).putShort((short) 32);
        b.put("data".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(4 * samples.length);
        for (float s : samples) {
            b.putFloat(s);
        }
        return b.array();
    }
}
