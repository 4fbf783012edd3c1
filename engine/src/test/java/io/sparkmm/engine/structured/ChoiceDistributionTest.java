package io.sparkmm.engine.structured;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A choice constraint samples each choice with the model's probability of producing it, summed over
 * every token path that spells it and renormalized at each step over the tokens that can still
 * lead to a choice (EOS only once a choice is complete). The oracle enumerates those paths by
 * brute force with plain string prefix checks and the naive generator's logits: no automaton.
 */
class ChoiceDistributionTest {

    private static final List<String> CHOICES = List.of("the", "a cat", "at", "is");

    @TempDir
    static Path dir;

    @Test
    void sampledChoicesFollowTheEnumeratedDistribution() throws Exception {
        TinyCheckpoint.write(dir, TinyCheckpoint.Spec.qwen2());
        try (Backend backend = Backends.open("cpu", 2); LoadedModel model = LoadedModel.open(dir, backend)) {
            int[] prompt = model.tokenizer().encode("Pick one:", false);
            TokenBytes vocab = TokenBytes.of(model.tokenizer(), dir);
            int[] eos = model.eosTokenIds().stream().mapToInt(Integer::intValue).toArray();
            NaiveGenerator naive = new NaiveGenerator(model.model(), model.eosTokenIds());
            Map<String, Double> expected = new HashMap<>();
            enumerate(naive, vocab, eos, prompt, new ArrayList<>(), "", 1.0, expected);
            assertThat(expected.values().stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));

            int n = 3000;
            Map<String, Integer> counts = new HashMap<>();
            try (Engine engine = new Engine(model, EngineConfig.defaults())) {
                List<RequestHandle> handles = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    handles.add(engine.submit(EngineRequest.of(prompt, SamplingParams.builder().temperature(1).seed((long) i)
                            .maxTokens(12).structuredOutputs(StructuredOutputs.choice(CHOICES)).build())));
                }
                for (RequestHandle h : handles) {
                    EngineResult r = h.result().get();
                    assertThat(r.error()).isNull();
                    counts.merge(r.text(), 1, Integer::sum);
                }
            }
            System.out.println("choice distribution: expected " + expected + ", sampled " + counts + " of " + n);
            // most choices have a share the sample can measure, so the check has power
            assertThat(CHOICES.stream().filter(c -> expected.getOrDefault(c, 0.0) > 0.02).count()).isGreaterThanOrEqualTo(3);
            for (String c : CHOICES) {
                double p = expected.getOrDefault(c, 0.0);
                double observed = counts.getOrDefault(c, 0) / (double) n;
                double sigma = Math.sqrt(p * (1 - p) / n);
                assertThat(observed).as("%s: expected %.4f, counts %s", c, p, counts)
                        .isCloseTo(p, org.assertj.core.data.Offset.offset(5 * sigma + 1e-9));
            }
            assertThat(counts.keySet()).isSubsetOf(CHOICES);
        }
    }

    /** Adds prob(path) to the choice each complete path spells; {@code text} is the output so far. */
    private static void enumerate(NaiveGenerator naive, TokenBytes vocab, int[] eos, int[] prompt, List<Integer> path,
                                  String text, double prob, Map<String, Double> out) {
        int[] ids = Arrays.copyOf(prompt, prompt.length + path.size());
        for (int i = 0; i < path.size(); i++) {
            ids[prompt.length + i] = path.get(i);
        }
        float[] logits = naive.lastLogits(ids);
        List<Integer> allowed = new ArrayList<>();
        List<String> next = new ArrayList<>();
        for (int id = 0; id < vocab.size(); id++) {
            byte[] b = path.isEmpty() ? vocab.first(id) : vocab.later(id);
            if (b == null || b.length == 0) {
                continue;
            }
            String t = text + new String(b, StandardCharsets.UTF_8);
            if (CHOICES.stream().anyMatch(c -> c.startsWith(t))) {
                allowed.add(id);
                next.add(t);
            }
        }
        boolean complete = CHOICES.contains(text);
        double max = Double.NEGATIVE_INFINITY;
        for (int id : allowed) {
            max = Math.max(max, logits[id]);
        }
        if (complete) {
            for (int e : eos) {
                max = Math.max(max, logits[e]);
            }
        }
        double z = 0;
        for (int id : allowed) {
            z += Math.exp(logits[id] - max);
        }
        if (complete) {
            double stop = 0;
            for (int e : eos) {
                stop += Math.exp(logits[e] - max);
            }
            z += stop;
            out.merge(text, prob * stop / z, Double::sum);
        }
        for (int i = 0; i < allowed.size(); i++) {
            List<Integer> longer = new ArrayList<>(path);
            longer.add(allowed.get(i));
            enumerate(naive, vocab, eos, prompt, longer, next.get(i), prob * Math.exp(logits[allowed.get(i)] - max) / z, out);
        }
    }
}
