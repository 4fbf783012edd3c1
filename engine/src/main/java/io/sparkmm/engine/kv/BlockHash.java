package io.sparkmm.engine.kv;

/**
 * A 128-bit block hash. 128 bits keeps accidental collisions out of reach for any realistic
 * cache size; the block manager still verifies every hit (see {@link BlockKey#equals}), so the
 * hash only has to be good at spreading, never at being unique.
 */
public record BlockHash(long hi, long lo) {
    @Override
    public String toString() {
        return String.format("%016x%016x", hi, lo);
    }
}
