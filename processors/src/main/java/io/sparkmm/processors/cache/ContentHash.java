package io.sparkmm.processors.cache;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The identity of a processed media item: SHA-256 over (model id, modality, processor options,
 * the media's bytes), each part length-prefixed so no two different inputs share a digest
 * stream. It keys the processor cache, the encoder cache and the prefix-cache block hashes.
 *
 * <p>The hash is over the file's bytes, not the decoded pixels: a hit then skips decoding as
 * well as processing. The same picture saved twice with different encoders gets two entries,
 * which costs a little cache, never a wrong answer.
 */
public final class ContentHash {

    private ContentHash() {
    }

    public static String of(String modelId, String modality, String processorOptions, byte[] content) {
        MessageDigest d = sha256();
        part(d, modelId.getBytes(StandardCharsets.UTF_8));
        part(d, modality.getBytes(StandardCharsets.UTF_8));
        part(d, processorOptions.getBytes(StandardCharsets.UTF_8));
        part(d, content);
        return HexFormat.of().formatHex(d.digest());
    }

    private static void part(MessageDigest d, byte[] bytes) {
        long n = bytes.length;
        for (int i = 0; i < 8; i++) {
            d.update((byte) (n >>> (8 * i)));
        }
        d.update(bytes);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}
