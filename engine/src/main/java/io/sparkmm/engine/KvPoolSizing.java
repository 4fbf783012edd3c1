package io.sparkmm.engine;

import io.sparkmm.engine.models.DecoderModel;

/** How many KV blocks the pool gets, and the error when it cannot hold even one. */
final class KvPoolSizing {

    private KvPoolSizing() {
    }

    static int numBlocks(EngineConfig config, DecoderModel model, int maxModelLen) {
        long perBlock = model.kvBytesPerBlock(config.blockSize());
        long blocks;
        if (config.numKvBlocks() > 0) {
            blocks = config.numKvBlocks();
        } else {
            long bytes = config.kvCacheBytes() > 0 ? config.kvCacheBytes() : defaultBytes(config, perBlock, maxModelLen);
            blocks = bytes / perBlock;
            if (blocks < 1) {
                throw new IllegalArgumentException("a KV cache of " + bytes + " bytes holds no block: one block of "
                        + config.blockSize() + " tokens over " + model.config().numLayers() + " layers needs "
                        + perBlock + " bytes; give kv_cache_bytes >= " + perBlock);
            }
        }
        return (int) Math.min(blocks, Integer.MAX_VALUE);
    }

    /**
     * A quarter of the JVM's max memory (direct buffers are limited by it unless
     * -XX:MaxDirectMemorySize says otherwise), but no more than every running sequence at full
     * context could use.
     */
    private static long defaultBytes(EngineConfig config, long perBlock, int maxModelLen) {
        long useful = (long) config.maxNumSeqs() * ((maxModelLen + config.blockSize() - 1) / config.blockSize()) * perBlock;
        return Math.max(perBlock, Math.min(Runtime.getRuntime().maxMemory() / 4, useful));
    }
}
