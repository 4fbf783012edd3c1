package io.sparkmm.engine.scheduler;

import io.sparkmm.engine.kv.BlockExtraKey;
import io.sparkmm.engine.kv.TokenSequence;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Scheduler-owned mutable state of one request. The engine creates it and reads it; only the
 * scheduler (this package) changes it.
 */
public final class Sequence implements TokenSequence {
  /** Canonical order, so that the same media listed in another order hashes the same. */
  private static final Comparator<ExtraKeyRange> RANGE_ORDER = Comparator.comparingInt(ExtraKeyRange::start)
      .thenComparingInt(ExtraKeyRange::end).thenComparing(ExtraKeyRange::key);

  private final String requestId;
  private final int numPromptTokens;
  private final String cacheSalt;
  private final List<ExtraKeyRange> extraKeys;
  private final long arrivalOrder;
  private int[] tokens;
  private int numTokens;
  private int numComputedTokens;
  private int numCachedTokens;
  private int numPreemptions;
  private SequenceStatus status = SequenceStatus.WAITING;

  public Sequence(String requestId, int[] promptTokenIds, String cacheSalt, List<ExtraKeyRange> extraKeys,
                  long arrivalOrder) {
    this.requestId = Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(promptTokenIds, "promptTokenIds");
    this.numPromptTokens = promptTokenIds.length;
    // Room for some outputs up front; grows by doubling.
    this.tokens = Arrays.copyOf(promptTokenIds, Math.max(8, promptTokenIds.length + 16));
    this.numTokens = promptTokenIds.length;
    this.cacheSalt = cacheSalt;
    List<ExtraKeyRange> sorted = new ArrayList<>(Objects.requireNonNull(extraKeys, "extraKeys"));
    sorted.sort(RANGE_ORDER);
    this.extraKeys = List.copyOf(sorted);
    this.arrivalOrder = arrivalOrder;
  }

  public String requestId() {
    return requestId;
  }

  public int numPromptTokens() {
    return numPromptTokens;
  }

  /** Prompt plus output tokens. */
  @Override
  public int numTokens() {
    return numTokens;
  }

  @Override
  public int tokenAt(int position) {
    if (position < 0 || position >= numTokens) {
      throw new IndexOutOfBoundsException("position " + position + " of " + numTokens + " tokens");
    }
    return tokens[position];
  }

  public int[] allTokenIds() {
    return Arrays.copyOf(tokens, numTokens);
  }

  /** Tokens at [start, end), a copy. */
  public int[] tokenIds(int start, int end) {
    if (start < 0 || end > numTokens || start > end) {
      throw new IndexOutOfBoundsException("[" + start + ", " + end + ") of " + numTokens + " tokens");
    }
    return Arrays.copyOfRange(tokens, start, end);
  }

  public int numOutputTokens() {
    return numTokens - numPromptTokens;
  }

  public int[] outputTokenIds() {
    return Arrays.copyOfRange(tokens, numPromptTokens, numTokens);
  }

  public int numComputedTokens() {
    return numComputedTokens;
  }

  /** Prefix-cache hit tokens found when the request was (last) admitted. */
  public int numCachedTokens() {
    return numCachedTokens;
  }

  public int numPreemptions() {
    return numPreemptions;
  }

  public SequenceStatus status() {
    return status;
  }

  public long arrivalOrder() {
    return arrivalOrder;
  }

  @Override
  public String cacheSalt() {
    return cacheSalt;
  }

  public List<ExtraKeyRange> extraKeys() {
    return extraKeys;
  }

  @Override
  public List<BlockExtraKey> extraKeysIn(int start, int end) {
    List<BlockExtraKey> out = List.of();
    for (ExtraKeyRange r : extraKeys) {
      if (r.start() >= end) {
        break; // sorted by start: no later range can overlap
      }
      if (r.end() > start) {
        if (out.isEmpty()) {
          out = new ArrayList<>();
        }
        out.add(new BlockExtraKey(r.key(), r.start() - start));
      }
    }
    return out;
  }

  // ---- mutations, scheduler only ----

  void admit(int cachedTokens) {
    status = SequenceStatus.RUNNING;
    numComputedTokens = cachedTokens;
    numCachedTokens = cachedTokens;
  }

  void advance(int computed) {
    numComputedTokens += computed;
  }

  void append(int token) {
    if (numTokens == tokens.length) {
      tokens = Arrays.copyOf(tokens, tokens.length * 2);
    }
    tokens[numTokens++] = token;
  }

  /** Preemption by recompute: the KV is gone, the tokens (outputs included) are kept. */
  void preempt() {
    status = SequenceStatus.WAITING;
    numComputedTokens = 0;
    numPreemptions++;
  }

  void end(SequenceStatus finalStatus) {
    status = finalStatus;
  }

  @Override
  public String toString() {
    return "Sequence[" + requestId + " " + status + " computed " + numComputedTokens + "/" + numTokens + "]";
  }
}
