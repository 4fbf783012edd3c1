package io.sparkmm.engine.structured;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * The compiled constraints of one vocabulary, by constraint ({@link StructuredOutputs#key()}):
 * the first request with a constraint compiles it in its own (submitting) thread, requests with an
 * equal one submitted meanwhile wait for that build, later ones find it done. Least recently used
 * indexes beyond {@code capacity} are dropped. Errors are not cached: each request gets its own.
 */
public final class StructuredOutputIndexes {

    private final Supplier<TokenBytes> vocabulary;
    private final int capacity;
    private volatile TokenBytes vocab;
    private final Map<String, CompletableFuture<TokenMaskIndex>> cache;

    public StructuredOutputIndexes(Supplier<TokenBytes> vocabulary, int capacity) {
        this.vocabulary = vocabulary;
        this.capacity = capacity;
        this.cache = new LinkedHashMap<>(16, 0.75f, true);
    }

    /** The index of {@code constraint}; an IllegalArgumentException says why it cannot be used. */
    public TokenMaskIndex index(StructuredOutputs constraint) {
        String key = constraint.key();
        CompletableFuture<TokenMaskIndex> mine = new CompletableFuture<>();
        CompletableFuture<TokenMaskIndex> existing;
        synchronized (cache) {
            existing = cache.get(key);
            if (existing == null) {
                cache.put(key, mine);
                while (cache.size() > capacity) {
                    cache.remove(cache.keySet().iterator().next());
                }
            }
        }
        if (existing != null) {
            try {
                return existing.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
        }
        try {
            TokenMaskIndex index = TokenMaskIndex.build(ByteDfa.of(constraint.automaton(), constraint.describe()),
                    vocab(), constraint.describe());
            mine.complete(index);
            return index;
        } catch (RuntimeException e) {
            synchronized (cache) {
                cache.remove(key, mine);
            }
            mine.completeExceptionally(e);
            throw e;
        }
    }

    private TokenBytes vocab() {
        TokenBytes v = vocab;
        if (v == null) {
            synchronized (this) {
                if (vocab == null) {
                    vocab = vocabulary.get();
                }
                v = vocab;
            }
        }
        return v;
    }

    public int size() {
        synchronized (cache) {
            return cache.size();
        }
    }
}
