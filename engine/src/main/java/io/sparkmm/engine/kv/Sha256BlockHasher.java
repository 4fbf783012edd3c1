package io.sparkmm.engine.kv;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * SHA-256 of (parent, tokens, extras, salt), truncated to 128 bits. Every variable-length part
 * is length-prefixed and every optional part is flagged, so no two different inputs encode to
 * the same bytes (e.g. a salt cannot masquerade as an extra key). Not thread-safe: it reuses
 * one digest.
 */
public final class Sha256BlockHasher implements BlockHasher {
    /** Domain tag: bump when the encoding changes, so old and new hashes never meet. */
    private static final byte[] DOMAIN = "sparkmm-kv-block-v1".getBytes(StandardCharsets.US_ASCII);

    private final MessageDigest digest;
    private final ByteBuffer scratch = ByteBuffer.allocate(Long.BYTES);

    public Sha256BlockHasher() {
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            // Every Java SE platform must provide SHA-256, so this cannot happen on a conforming JVM.
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    @Override
    public BlockHash hash(BlockHash parent, int[] tokens, List<BlockExtraKey> extras, String salt) {
        digest.reset();
        digest.update(DOMAIN);
        if (parent == null) {
            digest.update((byte) 0);
        } else {
            digest.update((byte) 1);
            putLong(parent.hi());
            putLong(parent.lo());
        }
        putInt(tokens.length);
        ByteBuffer tokenBytes = ByteBuffer.allocate(tokens.length * Integer.BYTES);
        tokenBytes.asIntBuffer().put(tokens);
        digest.update(tokenBytes.array());
        putInt(extras.size());
        for (BlockExtraKey extra : extras) {
            putString(extra.key());
            putInt(extra.offset());
        }
        if (salt == null) {
            digest.update((byte) 0);
        } else {
            digest.update((byte) 1);
            putString(salt);
        }
        ByteBuffer out = ByteBuffer.wrap(digest.digest());
        return new BlockHash(out.getLong(), out.getLong());
    }

    private void putString(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        putInt(bytes.length);
        digest.update(bytes);
    }

    private void putInt(int v) {
        scratch.clear();
        scratch.putInt(v);
        digest.update(scratch.array(), 0, Integer.BYTES);
    }

    private void putLong(long v) {
        scratch.clear();
        scratch.putLong(v);
        digest.update(scratch.array(), 0, Long.BYTES);
    }
}
