package io.sparkmm.engine.scheduler;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for the model that really uses the paged KV: the "KV" of position p is a mix of
 * the KV of p-1 (read through the block table), the token at p and the media key covering p.
 * The sampled token is derived from the last position's KV. So a wrong slot, a wrong block
 * table or a prefix hit on a block computed for another prefix changes the outputs, and the
 * outputs can be compared with {@link #reference}, which runs the same chain with no paging.
 */
final class FakePagedModel {
  private static final long SEED = 0x9E3779B97F4A7C15L;
  private final int blockSize;
  private final long[] slots;

  FakePagedModel(int numBlocks, int blockSize) {
    this.blockSize = blockSize;
    this.slots = new long[numBlocks * blockSize];
  }

  /** Runs one step; returns the sampled token of every chunk that samples. */
  Map<String, Integer> run(SchedulerOutput out, Map<String, Sequence> sequences) {
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
        last = kv(prev, tokens[j], mediaAt(seq.extraKeys(), pos));
        slots[slotMap[j]] = last;
      }
      if (c.samples()) {
        sampled.put(c.requestId(), sample(last));
      }
    }
    return sampled;
  }

  /**
   * What the request generates alone with unbounded memory: no paging, no chunking. It stops at
   * maxOutputs, at maxModelLen tokens, or once it has more tokens than {@code poolTokens} (the
   * scheduler finishes such a request: its next token could not be computed even with the whole
   * pool).
   */
  static int[] reference(int[] prompt, List<ExtraKeyRange> extras, int maxOutputs, int maxModelLen, int poolTokens) {
    int[] tokens = java.util.Arrays.copyOf(prompt, prompt.length + maxOutputs);
    int n = prompt.length;
    long prev = SEED;
    int computed = 0;
    int produced = 0;
    while (produced < maxOutputs && n < maxModelLen && n <= poolTokens) {
      for (; computed < n; computed++) {
        prev = kv(prev, tokens[computed], mediaAt(extras, computed));
      }
      tokens[n++] = sample(prev);
      produced++;
    }
    return java.util.Arrays.copyOfRange(tokens, prompt.length, n);
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
}
