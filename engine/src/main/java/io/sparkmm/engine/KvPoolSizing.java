package io.sparkmm.engine;

import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.kernels.MemoryBudget;

/** How many KV blocks the pool gets, and the error when it cannot hold even one. */
final class KvPoolSizing {

    /** The share of the backend's memory budget a default-sized pool takes (the rest is for activations and media). */
    static final double DEFAULT_BUDGET_FRACTION = 0.25;

    private KvPoolSizing() {
    }

    static int numBlocks(EngineConfig config, DecoderModel model, int maxModelLen, MemoryBudget budget) {
        long perBlock = model.kvBytesPerBlock(config.blockSize(), config.kvCacheDtype());
        long blocks;
        if (config.numKvBlocks() > 0) {
            blocks = config.numKvBlocks();
        } else {
            long bytes = config.kvCacheBytes() > 0 ? config.kvCacheBytes() : defaultBytes(config, perBlock, maxModelLen, budget);
            blocks = bytes / perBlock;
            if (blocks < 1) {
                throw new IllegalArgumentException("a KV cache of " + bytes + " bytes holds no block: one block of "
                        + config.blockSize() + " tokens over " + model.config().numLayers() + " layers in "
                        + config.kvCacheDtype() + " needs " + perBlock + " bytes; give kv_cache_bytes >= " + perBlock
                        + (config.kvCacheBytes() > 0 ? "" : ", or " + budget.howToRaise()));
            }
        }
        long asked = blocks * perBlock;
        if (asked > budget.availableBytes()) {
            throw new IllegalArgumentException("a KV cache of " + blocks + " blocks (" + asked + " bytes, "
                    + config.kvCacheDtype() + ") does not fit the " + budget.availableBytes() + " bytes of "
                    + budget.kind() + " left; give fewer blocks or kv_cache_bytes, or " + budget.howToRaise());
        }
        return (int) Math.min(blocks, Integer.MAX_VALUE);
    }

    /**
     * A quarter of the backend's memory budget (CPU: the direct memory the JVM may still allocate,
     * bounded by -XX:MaxDirectMemorySize, which defaults to the max heap size), but no more than
     * every running sequence at full context could use.
     */
    private static long defaultBytes(EngineConfig config, long perBlock, int maxModelLen, MemoryBudget budget) {
        long useful = (long) config.maxNumSeqs() * ((maxModelLen + config.blockSize() - 1) / config.blockSize()) * perBlock;
        long share = (long) (budget.availableBytes() * DEFAULT_BUDGET_FRACTION);
        return Math.max(perBlock, Math.min(share, useful));
    }
}
