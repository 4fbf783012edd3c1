package io.sparkmm.engine;

import io.sparkmm.engine.generate.FinishReason;
import io.sparkmm.engine.models.RequestPositions;
import io.sparkmm.engine.sampling.Sampler;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.engine.sampling.TokenHistory;
import io.sparkmm.engine.sampling.TokenLogprob;
import io.sparkmm.engine.scheduler.MediaItem;
import io.sparkmm.engine.scheduler.Sequence;
import io.sparkmm.engine.scheduler.SequenceStatus;
import io.sparkmm.engine.structured.ConstraintCursor;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The engine loop's view of one request: its sampling, stop rules and what it produced so far.
 * The token history itself lives in the scheduler's {@link Sequence}; only the loop thread
 * touches this object.
 */
final class RequestState {

    private static final SecureRandom SEEDS = new SecureRandom();

    private final String id;
    private final EngineRequest request;
    private final CompletableFuture<EngineResult> future;
    private final LoadedModel model;
    private final int maxModelLen;
    private final long seed;
    private final Set<Integer> stopIds;
    private final int[] eosIds;
    private final List<List<TokenLogprob>> logprobs = new ArrayList<>();
    private final StopStrings stopStrings;
    /** The request's structured-output position, null for free text. */
    private final ConstraintCursor constraint;
    private Sequence seq;
    private RequestPositions positions = RequestPositions.LINEAR;
    private FinishReason finishReason;
    private String error;

    RequestState(String id, EngineRequest request, CompletableFuture<EngineResult> future, LoadedModel model,
                 int maxModelLen) {
        this.id = id;
        this.request = request;
        this.future = future;
        this.model = model;
        this.maxModelLen = maxModelLen;
        SamplingParams p = request.sampling();
        this.seed = p.seed() != null ? p.seed() : SEEDS.nextLong();
        this.stopIds = new HashSet<>(p.stopTokenIds());
        if (!p.ignoreEos()) {
            stopIds.addAll(model.eosTokenIds());
        }
        this.eosIds = model.eosTokenIds().stream().mapToInt(Integer::intValue).toArray();
        this.stopStrings = p.stop().isEmpty() ? null : new StopStrings(model.tokenizer(), request.promptTokenIds(), p.stop());
        // compiled here, in the submitting thread: a bad constraint fails the submit, and a new one's
        // index is built off the engine loop
        this.constraint = p.structuredOutputs() == null ? null
                : new ConstraintCursor(model.structuredOutputs().index(p.structuredOutputs()));
    }

    String id() {
        return id;
    }

    int[] promptTokenIds() {
        return request.promptTokenIds();
    }

    String cacheSalt() {
        return request.cacheSalt();
    }

    CompletableFuture<EngineResult> future() {
        return future;
    }

    /** Checks what the scheduler cannot phrase in the user's terms: context length, token ids, media ranges. */
    void validate() {
        int[] prompt = request.promptTokenIds();
        int n = prompt.length;
        if (n >= maxModelLen) {
            throw new IllegalArgumentException("the prompt has " + n + " tokens but the model's context holds "
                    + maxModelLen + " (max_position_embeddings), and at least one must be left to generate");
        }
        List<MediaInput> media = request.media();
        boolean[] embedded = new boolean[n];
        if (!media.isEmpty()) {
            List<String> modalities = model.model().processor().modalities();
            if (modalities.isEmpty()) {
                throw new IllegalArgumentException("the model in " + model.checkpoint().directory()
                        + " is text-only; it cannot take " + media.get(0).modality() + " inputs");
            }
            int end = 0;
            for (MediaInput m : media) {
                if (!modalities.contains(m.modality())) {
                    throw new IllegalArgumentException("this model takes " + String.join(", ", modalities) + ", not "
                            + m.modality());
                }
                if (m.offset() + m.length() > n) {
                    throw new IllegalArgumentException(m.modality() + " " + m.hash() + " placeholder range ends past the prompt");
                }
                if (m.offset() < end) {
                    throw new IllegalArgumentException(m.modality() + " " + m.hash()
                            + " placeholder range overlaps the item before it; give items in prompt order");
                }
                end = m.offset() + m.length();
                for (int i = 0; i < m.length(); i++) {
                    embedded[m.offset() + i] = m.placeholder().isEmbed(i);
                }
            }
        }
        int vocab = model.textConfig().vocabSize();
        for (int i = 0; i < n; i++) {
            int t = prompt[i];
            if (t < 0 || (t >= vocab && !embedded[i])) {
                throw new IllegalArgumentException("prompt token id " + t + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        this.positions = model.model().positions(prompt, media);
    }

    /** The request's media as the scheduler sees them: hash, placeholder range, embedding rows. */
    List<MediaItem> mediaItems() {
        List<MediaItem> items = new ArrayList<>();
        List<MediaInput> media = request.media();
        for (int i = 0; i < media.size(); i++) {
            MediaInput m = media.get(i);
            items.add(new MediaItem(i, m.hash(), m.offset(), m.length(), m.numEmbeddings()));
        }
        return items;
    }

    /** Why this request fails when one of its items is among {@code failedItems} (hash -> why), else null. */
    String firstFailedItem(java.util.Map<String, String> failedItems) {
        for (MediaInput m : request.media()) {
            String why = failedItems.get(m.hash());
            if (why != null) {
                return "the " + m.modality() + " encoder failed on item " + m.hash() + ": " + why;
            }
        }
        return null;
    }

    RequestPositions positions() {
        return positions;
    }

    MediaInput media(int index) {
        return request.media().get(index);
    }

    void attach(Sequence sequence) {
        this.seq = sequence;
    }

    /**
     * Samples the next token from this request's logits, records logprobs and decides whether
     * the request is done. The draw depends only on (seed, number of tokens generated so far)
     * and this request's own history, so batching and preemption never change it.
     */
    int sampleAndAppend(float[] logits) {
        SamplingParams p = request.sampling();
        int step = seq.numOutputTokens();
        TokenHistory history = p.hasPenalties() || p.minTokens() > 0
                ? TokenHistory.of(request.promptTokenIds(), seq.outputTokenIds()) : TokenHistory.EMPTY;
        float[] allowed = logits;
        if (constraint != null) {
            allowed = logits.clone();
            if (constraint.mask(allowed, eosIds) == 0) {
                fail("structured output: no token of the vocabulary continues the output after " + step
                        + " tokens (the constraint needs bytes no token has)");
                return eosIds.length > 0 ? eosIds[0] : 0;
            }
        }
        int token = Sampler.sample(allowed, p, seed, step, history, eosIds);
        if (p.logprobs() > 0) {
            logprobs.add(Sampler.topLogprobs(logits, p.logprobs()));
        }
        int generated = step + 1;
        boolean minReached = generated >= p.minTokens();
        if (constraint != null && constraint.canEnd() && isEos(token)) {
            // the output is complete: end here even with ignore_eos, which would leave nothing valid to add
            finishReason = FinishReason.STOP;
            return token;
        }
        if (constraint != null && !constraint.advance(token)) {
            fail("structured output: min_tokens " + p.minTokens() + " kept the output from ending where the constraint"
                    + " ends it, after " + step + " tokens");
            return token;
        }
        if (minReached && stopIds.contains(token)) {
            finishReason = FinishReason.STOP;
        } else if (stopStrings != null && stopStrings.accept(token, minReached)) {
            finishReason = FinishReason.STOP;
        } else if (generated >= p.maxTokens() || seq.numTokens() + 1 >= maxModelLen) {
            finishReason = FinishReason.LENGTH;
        }
        return token;
    }

    private boolean isEos(int token) {
        for (int id : eosIds) {
            if (id == token) {
                return true;
            }
        }
        return false;
    }

    boolean isFinished() {
        return finishReason != null || error != null;
    }

    /** True when the scheduler itself ended the request (no context or KV room left to grow). */
    boolean endedByScheduler() {
        return seq.status() == SequenceStatus.FINISHED;
    }

    void fail(String why) {
        this.error = why;
    }

    EngineResult failure(String why) {
        return EngineResult.failed(id, request.promptTokenIds().length, why);
    }

    /** The final result; call after the scheduler appended the last token. */
    EngineResult result() {
        if (error != null) {
            return failure(error);
        }
        FinishReason reason = finishReason;
        if (reason == null && seq.status() == SequenceStatus.FINISHED) {
            reason = FinishReason.LENGTH; // the scheduler ended it: no room left in context or KV pool
        }
        int[] out = seq.outputTokenIds();
        String text = null;
        String stopReason = null;
        if (stopStrings != null && stopStrings.matched() != null) {
            text = stopStrings.truncatedText();
            stopReason = stopStrings.matched();
        } else if (model.hasTokenizer()) {
            int n = reason == FinishReason.STOP && out.length > 0 ? out.length - 1 : out.length;
            text = model.tokenizer().decode(java.util.Arrays.copyOf(out, n), true);
        }
        return new EngineResult(id, out, text, reason, stopReason, request.promptTokenIds().length, out.length,
                seq.numCachedTokens(), logprobs, null);
    }
}
