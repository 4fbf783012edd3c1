package io.sparkmm.engine.kv;

import java.util.Objects;

/**
 * Identity of a block that is not in its token ids: a media item's key and where the item
 * starts relative to the block start. The offset may be negative (item began in an earlier
 * block): two blocks with the same placeholder tokens but a different slice of the item must
 * not share KV, so the slice position is part of the identity.
 */
public record BlockExtraKey(String key, int offset) {
  public BlockExtraKey {
    Objects.requireNonNull(key, "key");
  }
}
