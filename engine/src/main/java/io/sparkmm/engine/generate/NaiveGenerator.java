package io.sparkmm.engine.generate;

import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.models.FamilyModel;
import io.sparkmm.engine.models.MediaRows;
import io.sparkmm.engine.models.RequestPositions;
import io.sparkmm.engine.sampling.Sampler;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.engine.sampling.TokenHistory;
import io.sparkmm.engine.sampling.TokenLogprob;
import io.sparkmm.kernels.RopePositions;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.prompt.PlaceholderRange;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The oracle generation loop: one request at a time, and at every step a full forward pass over
 * the whole sequence so far, with no KV cache. Slow on purpose; the paged engine is tested for
 * token-identical output against it. Family-agnostic: media items run through the family's
 * encoder once, their rows replace the embeddings of their is-embed positions at every step, and
 * positions (1-D or sectioned) come from the family.
 */
public final class NaiveGenerator {

    private final FamilyModel family;
    private final DecoderModel model;
    private final Set<Integer> eosTokenIds;

    /**
     * @param eosTokenIds the model's end-of-sequence ids (config.json and generation_config.json)
     */
    public NaiveGenerator(FamilyModel model, Set<Integer> eosTokenIds) {
        this.family = model;
        this.model = model.languageModel();
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
        return generate(promptIds, List.of(), params);
    }

    /** Generates for a prompt whose media items sit at their placeholder ranges. */
    public GenerationResult generate(int[] promptIds, List<MediaInput> media, SamplingParams params) {
        if (media.isEmpty()) {
            RequestPositions positions = family.positions(promptIds, media);
            return generate(promptIds, params, ids -> lastLogits(ids, List.of(), List.of(), positions));
        }
        validateMedia(promptIds, media);
        RequestPositions positions = family.positions(promptIds, media);
        List<Tensor> encoded = encodeAll(media);
        try {
            return generate(promptIds, params, ids -> lastLogits(ids, media, encoded, positions));
        } finally {
            encoded.forEach(Tensor::close);
        }
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
        return lastLogits(ids, List.of());
    }

    /** Logits after the last token of {@code ids}, whose placeholder ranges hold {@code media}. */
    public float[] lastLogits(int[] ids, List<MediaInput> media) {
        validateMedia(ids, media);
        List<Tensor> encoded = encodeAll(media);
        try {
            return lastLogits(ids, media, encoded, family.positions(ids, media));
        } finally {
            encoded.forEach(Tensor::close);
        }
    }

    private float[] lastLogits(int[] ids, List<MediaInput> media, List<Tensor> encoded, RequestPositions positions) {
        int sections = family.ropeSections() == null ? 1 : family.ropeSections().length;
        int[][] pos = new int[sections][ids.length];
        positions.fill(0, ids.length, pos, 0);
        RopePositions rope = family.ropeSections() == null ? RopePositions.linear(pos[0])
                : RopePositions.sectioned(pos, family.ropeSections());
        List<PlaceholderRange> ranges = media.stream().map(MediaInput::placeholder).toList();
        try (Tensor hidden = model.embed(MediaRows.lookupIds(ids, 0, ranges, model.config().vocabSize()))) {
            for (int i = 0; i < media.size(); i++) {
                PlaceholderRange r = ranges.get(i);
                MediaRows.merge(model.backend(), encoded.get(i), r, r.offset(), r.end(), hidden, r.offset());
            }
            model.forwardLayers(hidden, rope);
            return model.logitsOfRow(hidden, ids.length - 1);
        }
    }

    private List<Tensor> encodeAll(List<MediaInput> media) {
        List<Tensor> out = new ArrayList<>(media.size());
        try {
            for (MediaInput m : media) {
                Tensor t = family.encode(m);
                out.add(t);
                if (t.rows() != m.numEmbeddings()) {
                    throw new IllegalStateException("the encoder gave " + t.rows() + " rows for " + m.modality() + " "
                            + m.hash() + ", whose placeholder takes " + m.numEmbeddings());
                }
            }
            return out;
        } catch (RuntimeException e) {
            out.forEach(Tensor::close);
            throw e;
        }
    }

    /** Ranges inside the prompt, in order and disjoint: the oracle refuses what the engine refuses. */
    private static void validateMedia(int[] promptIds, List<MediaInput> media) {
        int end = 0;
        for (MediaInput m : media) {
            if (m.offset() < end || m.offset() + m.length() > promptIds.length) {
                throw new IllegalArgumentException(m.modality() + " " + m.hash() + " placeholder range " + m.offset() + "+"
                        + m.length() + " overlaps another item or ends past the " + promptIds.length + "-token prompt");
            }
            end = m.offset() + m.length();
        }
    }
}
