package io.sparkmm.kernels;

/**
 * Memory a backend can give a KV pool now ({@link Backend#memoryBudget()}), with what it is and
 * how to get more, so an engine can size its pool and, when that is too small, say what to do.
 *
 * @param availableBytes bytes left now, never negative
 * @param kind what memory it is, e.g. "off-heap (direct) memory" or "CUDA device memory"
 * @param howToRaise how a user allows more, naming the setting (e.g. the JVM flag)
 */
public record MemoryBudget(long availableBytes, String kind, String howToRaise) {

    public MemoryBudget {
        if (availableBytes < 0) {
            throw new IllegalArgumentException("MemoryBudget: available bytes must not be negative, got "
                    + availableBytes);
        }
        if (kind == null || kind.isBlank() || howToRaise == null || howToRaise.isBlank()) {
            throw new IllegalArgumentException("MemoryBudget: kind and howToRaise are required");
        }
    }
}
