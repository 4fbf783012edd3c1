package io.sparkmm.engine;

import io.sparkmm.kernels.DType;

/**
 * Engine settings, fixed at construction.
 *
 * @param maxNumBatchedTokens the token budget of one step (prefill chunks + decodes)
 * @param maxNumSeqs the most requests running at once
 * @param blockSize tokens per KV block
 * @param kvCacheBytes the KV pool size in bytes; 0 picks a default from the JVM's memory
 * @param numKvBlocks the KV pool size in blocks, overriding kvCacheBytes when > 0
 * @param prefixCaching reuse the KV of full blocks shared with earlier requests
 * @param longPrefillTokenThreshold cap on one request's tokens per step (0 = only the budget)
 * @param kvCacheDtype the element type of the KV pool (F32, BF16 or F16)
 * @param encoderCacheRows capacity of the encoder output cache in embedding rows; 0 = automatic
 *     (the step's token budget, raised to the model's largest media item, as vLLM sizes it). A job
 *     asking several questions of each of many images keeps every image's encoding when this holds
 *     them all (rows per image x distinct images in flight)
 * @param prefixWait with prefix caching: a waiting request whose next prefix block another request
 *     is computing in the current step waits for it (bounded, see {@code Scheduler}) and then hits
 *     it, instead of computing the same KV in parallel; requests sharing a prefix that arrive
 *     together then compute it once. The tokens are the same either way
 */
public record EngineConfig(int maxNumBatchedTokens, int maxNumSeqs, int blockSize, long kvCacheBytes,
                           int numKvBlocks, boolean prefixCaching, int longPrefillTokenThreshold, DType kvCacheDtype,
                           int encoderCacheRows, boolean prefixWait) {

    public EngineConfig(int maxNumBatchedTokens, int maxNumSeqs, int blockSize, long kvCacheBytes,
                        int numKvBlocks, boolean prefixCaching, int longPrefillTokenThreshold, DType kvCacheDtype) {
        this(maxNumBatchedTokens, maxNumSeqs, blockSize, kvCacheBytes, numKvBlocks, prefixCaching,
                longPrefillTokenThreshold, kvCacheDtype, 0, true);
    }

    /**
     * The KV pool's element type when none is given: F32. Measured on the CPU backend
     * (EngineThroughputBenchmark, 256 requests, the same run): a BF16 pool ran at 0.81-0.92x and
     * an F16 pool at 0.69-0.81x the F32 pool's generated tokens/s, since every K/V read widens
     * 16-bit values, while the pools of such jobs were far from full (peak 79 of 1507 MiB). A
     * 16-bit pool pays off when the pool, not compute, bounds how many sequences run: it holds
     * twice the tokens. A GPU backend, where the pool is HBM-bound, may choose differently.
     */
    public static final DType DEFAULT_KV_DTYPE = DType.F32;

    public EngineConfig {
        positive("max_num_batched_tokens", maxNumBatchedTokens);
        positive("max_num_seqs", maxNumSeqs);
        positive("block_size", blockSize);
        if (kvCacheBytes < 0) {
            throw new IllegalArgumentException("kv_cache_bytes must be >= 0 (0 = automatic), got " + kvCacheBytes);
        }
        if (numKvBlocks < 0) {
            throw new IllegalArgumentException("num_kv_blocks must be >= 0 (0 = from kv_cache_bytes), got " + numKvBlocks);
        }
        if (kvCacheDtype == null) {
            throw new IllegalArgumentException("kv_cache_dtype is required (f32, bf16 or f16)");
        }
        if (encoderCacheRows < 0) {
            throw new IllegalArgumentException("encoder_cache_rows must be >= 0 (0 = automatic), got " + encoderCacheRows);
        }
        if (longPrefillTokenThreshold < 0) {
            throw new IllegalArgumentException("long_prefill_token_threshold must be >= 0, got " + longPrefillTokenThreshold);
        }
    }

    /**
     * vLLM's fallback token budget (2048 per step) and block size (16), with 256 sequences rather
     * than 128: offline batch jobs keep many short requests in flight. Prefix caching on, KV pool
     * sized automatically.
     */
    public static EngineConfig defaults() {
        return new EngineConfig(2048, 256, 16, 0, 0, true, 0, DEFAULT_KV_DTYPE, 0, true);
    }

    public EngineConfig withMaxNumBatchedTokens(int v) {
        return new EngineConfig(v, maxNumSeqs, blockSize, kvCacheBytes, numKvBlocks, prefixCaching, longPrefillTokenThreshold, kvCacheDtype, encoderCacheRows, prefixWait);
    }

    public EngineConfig withMaxNumSeqs(int v) {
        return new EngineConfig(maxNumBatchedTokens, v, blockSize, kvCacheBytes, numKvBlocks, prefixCaching, longPrefillTokenThreshold, kvCacheDtype, encoderCacheRows, prefixWait);
    }

    public EngineConfig withBlockSize(int v) {
        return new EngineConfig(maxNumBatchedTokens, maxNumSeqs, v, kvCacheBytes, numKvBlocks, prefixCaching, longPrefillTokenThreshold, kvCacheDtype, encoderCacheRows, prefixWait);
    }

    public EngineConfig withKvCacheBytes(long v) {
        return new EngineConfig(maxNumBatchedTokens, maxNumSeqs, blockSize, v, numKvBlocks, prefixCaching, longPrefillTokenThreshold, kvCacheDtype, encoderCacheRows, prefixWait);
    }

    public EngineConfig withNumKvBlocks(int v) {
        return new EngineConfig(maxNumBatchedTokens, maxNumSeqs, blockSize, kvCacheBytes, v, prefixCaching, longPrefillTokenThreshold, kvCacheDtype, encoderCacheRows, prefixWait);
    }

    public EngineConfig withPrefixCaching(boolean v) {
        return new EngineConfig(maxNumBatchedTokens, maxNumSeqs, blockSize, kvCacheBytes, numKvBlocks, v, longPrefillTokenThreshold, kvCacheDtype, encoderCacheRows, prefixWait);
    }

    public EngineConfig withLongPrefillTokenThreshold(int v) {
        return new EngineConfig(maxNumBatchedTokens, maxNumSeqs, blockSize, kvCacheBytes, numKvBlocks, prefixCaching, v, kvCacheDtype, encoderCacheRows, prefixWait);
    }

    public EngineConfig withKvCacheDtype(DType v) {
        return new EngineConfig(maxNumBatchedTokens, maxNumSeqs, blockSize, kvCacheBytes, numKvBlocks, prefixCaching,
                longPrefillTokenThreshold, v, encoderCacheRows, prefixWait);
    }

    public EngineConfig withEncoderCacheRows(int v) {
        return new EngineConfig(maxNumBatchedTokens, maxNumSeqs, blockSize, kvCacheBytes, numKvBlocks, prefixCaching,
                longPrefillTokenThreshold, kvCacheDtype, v, prefixWait);
    }

    public EngineConfig withPrefixWait(boolean v) {
        return new EngineConfig(maxNumBatchedTokens, maxNumSeqs, blockSize, kvCacheBytes, numKvBlocks, prefixCaching,
                longPrefillTokenThreshold, kvCacheDtype, encoderCacheRows, v);
    }

    /** A KV dtype from its user-facing name: f32, bf16 or f16 (any case). */
    public static DType parseKvDtype(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "f32", "float32", "fp32" -> DType.F32;
            case "bf16", "bfloat16" -> DType.BF16;
            case "f16", "float16", "fp16", "half" -> DType.F16;
            default -> throw new IllegalArgumentException("kv_cache_dtype '" + name + "': expected f32, bf16 or f16");
        };
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }
}
