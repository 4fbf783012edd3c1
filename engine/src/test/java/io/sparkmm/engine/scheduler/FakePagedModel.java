package io.sparkmm.engine.scheduler;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for the model that really uses the paged KV: the "KV" of position p is a mix of
 * the KV of p-1 (read through the block table), the token at p and the media input at p.
 * The sampled token is derived from the last position's KV. So a wrong slot, a wrong block
 * table or a prefix hit on a block computed for another prefix changes the outputs, and the
 * outputs can be compared with {@link #reference}, which runs the same chain with no paging.
 *
 * <p>For requests with {@link MediaItem}s the media input comes the way the engine gets it: the
 * fake encoder runs on a chunk's {@code encodeItems} (row r of an item is {@link #embedding} of
 * its hash and r), outputs are kept by hash until the scheduler frees them, and each position of
 * a chunk takes the row of the {@code mediaInChunk} item covering it. A missing encode, an
 * encode of the wrong item, a wrong merge or an early eviction fails or changes the outputs.
 * Requests with bare {@link ExtraKeyRange}s mix in the key directly, as before.
 */
final class FakePagedModel {
    private static final long SEED = 0x9E3779B97F4A7C15L;
    private final int blockSize;
    private final long[] slots;
    /** The engine side of the encoder cache: outputs by hash. */
    private final Map<String, long[]> encoderOutputs = new HashMap<>();
    /** Encoder runs per hash (cumulative). */
    final Map<String, Integer> encodes = new HashMap<>();

    FakePagedModel(int numBlocks, int blockSize) {
        this.blockSize = blockSize;
        this.slots = new long[numBlocks * blockSize];
    }

    /** Runs one step; returns the sampled token of every chunk that samples. */
    Map<String, Integer> run(SchedulerOutput out, Map<String, Sequence> sequences) {
        // Drop freed outputs first: a hash freed and needed again in one step is encoded again.
        for (String h : out.freedEncoderHashes()) {
            check(encoderOutputs.remove(h) != null, "freed encoder output %s was never encoded", h);
        }
        for (ScheduledChunk c : out.chunks()) {
            for (MediaItem m : c.encodeItems()) {
                check(!encoderOutputs.containsKey(m.hash()), "%s encodes %s, which is still cached", c.requestId(), m);
                long[] rows = new long[m.numEmbeddings()];
                for (int r = 0; r < rows.length; r++) {
                    rows[r] = embedding(m.hash(), r);
                }
                encoderOutputs.put(m.hash(), rows);
                encodes.merge(m.hash(), 1, Integer::sum);
            }
        }
        Map<String, Integer> sampled = new HashMap<>();
        for (ScheduledChunk c : out.chunks()) {
            Sequence seq = sequences.get(c.requestId());
            int[] table = c.blockTable();
            int[] tokens = c.tokenIds();
            int[] slotMap = c.slotMapping();
            long last = 0;
            for (int j = 0; j < tokens.length; j++) {
                int pos = c.startPosition() + j;
                long prev = pos == 0 ? SEED : slots[table[(pos - 1) / blockSize] * blockSize + (pos - 1) % blockSize];
                long media = seq.mediaItems().isEmpty() ? mediaAt(seq.extraKeys(), pos) : merged(c, pos);
                last = kv(prev, tokens[j], media);
                slots[slotMap[j]] = last;
            }
            if (c.samples()) {
                sampled.put(c.requestId(), sample(last));
            }
        }
        return sampled;
    }

    boolean holdsEncoderOutput(String hash) {
        return encoderOutputs.containsKey(hash);
    }

    int encodesOf(String hash) {
        return encodes.getOrDefault(hash, 0);
    }

    /** The merge the runner does: the row of the chunk's media item covering pos, else none. */
    private long merged(ScheduledChunk c, int pos) {
        for (MediaItem m : c.mediaInChunk()) {
            if (pos >= m.offset() && pos < m.end()) {
                long[] rows = encoderOutputs.get(m.hash());
                check(rows != null, "%s merges %s at %d but its output is not there", c.requestId(), m, pos);
                return rows[pos - m.offset()];
            }
        }
        return 0;
    }

    /**
     * What the request generates alone with unbounded memory: no paging, no chunking. It stops at
     * maxOutputs, at maxModelLen tokens, or once it has more tokens than {@code poolTokens} (the
     * scheduler finishes such a request: its next token could not be computed even with the whole
     * pool).
     */
    static int[] reference(int[] prompt, List<ExtraKeyRange> extras, int maxOutputs, int maxModelLen, int poolTokens) {
        return reference(prompt, extras, List.of(), maxOutputs, maxModelLen, poolTokens);
    }

    /** As above; with media items, position p takes the embedding of the item covering it. */
    static int[] reference(int[] prompt, List<ExtraKeyRange> extras, List<MediaItem> media, int maxOutputs,
                                                  int maxModelLen, int poolTokens) {
        int[] tokens = java.util.Arrays.copyOf(prompt, prompt.length + maxOutputs);
        int n = prompt.length;
        long prev = SEED;
        int computed = 0;
        int produced = 0;
        while (produced < maxOutputs && n < maxModelLen && n <= poolTokens) {
            for (; computed < n; computed++) {
                long m = media.isEmpty() ? mediaAt(extras, computed) : embeddingAt(media, computed);
                prev = kv(prev, tokens[computed], m);
            }
            tokens[n++] = sample(prev);
            produced++;
        }
        return java.util.Arrays.copyOfRange(tokens, prompt.length, n);
    }

    /** Row {@code row} of the fake encoder output of the item with this content hash. */
    static long embedding(String hash, int row) {
        long x = hash.hashCode() * 0xD6E8FEB86659FD93L + row * 0xA0761D6478BD642FL + 1;
        x ^= x >>> 32;
        x *= 0xE7037ED1A0B428DBL;
        return x ^ (x >>> 29);
    }

    private static long embeddingAt(List<MediaItem> media, int pos) {
        for (MediaItem m : media) {
            if (pos >= m.offset() && pos < m.end()) {
                return embedding(m.hash(), pos - m.offset());
            }
        }
        return 0;
    }

    private static long kv(long prev, int token, long media) {
        long x = prev * 0xBF58476D1CE4E5B9L + token * 0x94D049BB133111EBL + media;
        x ^= x >>> 31;
        x *= 0x9E3779B97F4A7C15L;
        return x ^ (x >>> 29);
    }

    private static int sample(long kv) {
        return (int) Math.floorMod(kv, 1000L);
    }

    private static long mediaAt(List<ExtraKeyRange> extras, int pos) {
        long m = 0;
        for (ExtraKeyRange r : extras) {
            if (pos >= r.start() && pos < r.end()) {
                m = m * 31 + r.key().hashCode() * 131L + (pos - r.start());
            }
        }
        return m;
    }

    private static void check(boolean ok, String format, Object... args) {
        if (!ok) {
            throw new AssertionError(String.format(format, args));
        }
    }
}
