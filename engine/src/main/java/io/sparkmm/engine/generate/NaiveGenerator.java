package io.sparkmm.engine.generate;

import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.sampling.Sampler;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.engine.sampling.TokenHistory;
import io.sparkmm.engine.sampling.TokenLogprob;
import io.sparkmm.kernels.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The oracle generation loop: one request at a time, and at every step a full forward pass over
 * the whole sequence so far, with no KV cache. Slow on purpose; the paged engine is tested for
 * token-identical output against it.
 */
public final class NaiveGenerator {

    private final DecoderModel model;
    private final Set<Integer> eosTokenIds;

    /**
     * @param eosTokenIds the model's end-of-sequence ids (config.json and generation_config.json)
     */
    public NaiveGenerator(DecoderModel model, Set<Integer> eosTokenIds) {
        this.model = model;
        this.eosTokenIds = Set.copyOf(eosTokenIds);
    }

    /**
     * The logits after the last token of a whole token sequence (prompt plus what was generated
     * so far), computed from scratch; how the sequence becomes input embeddings is the caller's
     * (text only, or with image embeddings at placeholder positions).
     */
    @FunctionalInterface
    public interface LastLogits {
        float[] of(int[] ids);
    }

    public GenerationResult generate(int[] promptIds, SamplingParams params) {
        return generate(promptIds, params, this::lastLogits);
    }

    /**
     * The sampling loop shared by every naive generator: validation, sampling, stop and length
     * rules; {@code logitsOf} is called once per step with the whole sequence so far.
     */
    public GenerationResult generate(int[] promptIds, SamplingParams params, LastLogits logitsOf) {
        int maxPositions = model.config().maxPositionEmbeddings();
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: at least one token is needed");
        }
        if (promptIds.length >= maxPositions) {
            throw new IllegalArgumentException("the prompt has " + promptIds.length
                    + " tokens, but the model's context holds " + maxPositions + " (max_position_embeddings)"
                    + " and at least one must be left to generate");
        }
        int vocab = model.config().vocabSize();
        for (int id : promptIds) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("prompt token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        if (!params.stop().isEmpty()) {
            throw new IllegalArgumentException("stop strings need the engine; the naive oracle works on token ids only");
        }
        int[] eos = eosTokenIds.stream().mapToInt(Integer::intValue).toArray();
        Set<Integer> stops = new HashSet<>(params.stopTokenIds());
        if (!params.ignoreEos()) {
            stops.addAll(eosTokenIds);
        }
        long seed = params.seed() != null ? params.seed() : new java.security.SecureRandom().nextLong();

        int[] seq = Arrays.copyOf(promptIds, promptIds.length + params.maxTokens());
        int len = promptIds.length;
        List<List<TokenLogprob>> logprobs = new ArrayList<>();
        FinishReason reason = FinishReason.LENGTH;
        for (int step = 0; step < params.maxTokens() && len < maxPositions; step++) {
            float[] logits = logitsOf.of(Arrays.copyOf(seq, len));
            TokenHistory history = TokenHistory.of(promptIds, promptIds.length,
                    Arrays.copyOfRange(seq, promptIds.length, len), step);
            int next = Sampler.sample(logits, params, seed, step, history, eos);
            logprobs.add(Sampler.topLogprobs(logits, params.logprobs()));
            seq[len++] = next;
            if (step + 1 >= params.minTokens() && stops.contains(next)) {
                reason = FinishReason.STOP;
                break;
            }
        }
        return new GenerationResult(Arrays.copyOfRange(seq, promptIds.length, len), reason, logprobs);
    }

    /** Logits after the last token of {@code ids}, recomputing the whole sequence. */
    public float[] lastLogits(int[] ids) {
        int[] positions = new int[ids.length];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = i;
        }
        try (Tensor hidden = model.embed(ids)) {
            model.forwardLayers(hidden, positions);
            return model.logitsOfRow(hidden, ids.length - 1);
        }
    }
}
