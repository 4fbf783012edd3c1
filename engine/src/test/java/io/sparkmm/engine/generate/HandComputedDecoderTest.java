package io.sparkmm.engine.generate;

import io.sparkmm.engine.models.ModelFamilies;
import io.sparkmm.engine.models.FamilyModel;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.SafetensorsWriter;
import io.sparkmm.engine.models.DecoderModel;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.kernels.DType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * A one-layer Llama whose weights make its output computable by hand, so the naive generation
 * is checked against a closed form rather than against itself.
 *
 * <p>Vocabulary = hidden size = 8, one-hot embeddings, q_proj = 0 (so every causal attention
 * row is a plain average of the values), v_proj = identity over two KV heads of dim 4 shared by
 * four query heads (grouped-query), o_proj averaging each head pair back, down_proj = 0 (the MLP
 * adds nothing) and lm_head a permutation π. With s = 1/sqrt(1/8 + eps), the hidden state of the
 * last of n tokens is h = onehot(last) + s * counts / n, and the logits are π applied to
 * rmsnorm(h). Greedy generation therefore continues with π(argmax_t h[t]).
 */
class HandComputedDecoderTest {

    private static final int D = 8;
    private static final double EPS = 1e-6;
    private static final int[] PI = {3, 4, 5, 6, 7, 0, 1, 2}; // π(t) = (t + 3) mod 8

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"cpu-reference", "cpu"})
    void greedyTokensAndLogitsFollowTheClosedForm(String backendName) throws Exception {
        writeCheckpoint(dir, backendName.equals("cpu") ? DType.BF16 : DType.F32);
        int[][] prompts = {{0}, {2, 2, 2, 5}, {1, 1, 1, 1, 6, 7}, {4, 4, 0, 4, 0, 0, 0}};
        try (Backend backend = Backends.open(backendName, 2);
             Checkpoint ckpt = Checkpoint.open(dir);
             FamilyModel model = ModelFamilies.load(ckpt, backend)) {
            NaiveGenerator gen = new NaiveGenerator(model, Set.of());
            for (int[] prompt : prompts) {
                float[] logits = gen.lastLogits(prompt);
                double[] expected = closedFormLogits(prompt);
                for (int v = 0; v < D; v++) {
                    assertThat((double) logits[v]).as("logit %d after %s", v, Arrays.toString(prompt))
                            .isCloseTo(expected[v], within(1e-4));
                }
                int[] tokens = gen.generate(prompt, SamplingParams.greedy(10)).tokenIds();
                assertThat(tokens).as("greedy after %s", Arrays.toString(prompt)).containsExactly(closedFormGreedy(prompt, 10));
            }
        }
    }

    /** logits[v] = rmsnorm(h)[π^-1(v)], h = onehot(last) + s * counts / n. */
    private static double[] closedFormLogits(int[] seq) {
        double s = 1 / Math.sqrt(1.0 / D + EPS);
        double[] h = new double[D];
        for (int t : seq) {
            h[t] += s / seq.length;
        }
        h[seq[seq.length - 1]] += 1;
        double ms = 0;
        for (double x : h) {
            ms += x * x / D;
        }
        double inv = 1 / Math.sqrt(ms + EPS);
        double[] logits = new double[D];
        for (int t = 0; t < D; t++) {
            logits[PI[t]] = h[t] * inv;
        }
        return logits;
    }

    private static int[] closedFormGreedy(int[] prompt, int steps) {
        List<Integer> seq = new ArrayList<>();
        for (int t : prompt) {
            seq.add(t);
        }
        int[] out = new int[steps];
        for (int i = 0; i < steps; i++) {
            double[] l = closedFormLogits(seq.stream().mapToInt(Integer::intValue).toArray());
            int best = 0;
            for (int v = 1; v < D; v++) {
                if (l[v] > l[best]) {
                    best = v;
                }
            }
            double second = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < D; v++) {
                if (v != best) {
                    second = Math.max(second, l[v]);
                }
            }
            // the prompts are chosen so no step sits on a near-tie
            assertThat(l[best] - second).as("closed-form margin").isGreaterThan(0.01);
            out[i] = best;
            seq.add(best);
        }
        return out;
    }

    static void writeCheckpoint(Path dir, DType dtype) throws Exception {
        int heads = 4;
        int kvHeads = 2;
        int hd = 4;
        Random rnd = new Random(5);
        float[] k = new float[kvHeads * hd * D];
        for (int i = 0; i < k.length; i++) {
            k[i] = (float) rnd.nextGaussian(); // irrelevant: q is zero, so scores are zero
        }
        float[] oProj = new float[D * heads * hd];
        for (int c = 0; c < D; c++) {
            int kvHead = c / hd;
            int within = c % hd;
            // query heads 2*kvHead and 2*kvHead+1 both read KV head kvHead; average them
            oProj[c * heads * hd + (2 * kvHead) * hd + within] = 0.5f;
            oProj[c * heads * hd + (2 * kvHead + 1) * hd + within] = 0.5f;
        }
        float[] lmHead = new float[D * D];
        for (int t = 0; t < D; t++) {
            lmHead[PI[t] * D + t] = 1;
        }
        float[] gateUp = new float[4 * D];
        for (int i = 0; i < gateUp.length; i++) {
            gateUp[i] = (float) rnd.nextGaussian();
        }
        String p = "model.layers.0.";
        new SafetensorsWriter()
                .add("model.embed_tokens.weight", dtype, new int[] {D, D}, identity(D))
                .add(p + "input_layernorm.weight", dtype, new int[] {D}, ones(D))
                .add(p + "self_attn.q_proj.weight", dtype, new int[] {heads * hd, D}, new float[heads * hd * D])
                .add(p + "self_attn.k_proj.weight", dtype, new int[] {kvHeads * hd, D}, k)
                .add(p + "self_attn.v_proj.weight", dtype, new int[] {kvHeads * hd, D}, identity(D))
                .add(p + "self_attn.o_proj.weight", dtype, new int[] {D, heads * hd}, oProj)
                .add(p + "post_attention_layernorm.weight", dtype, new int[] {D}, ones(D))
                .add(p + "mlp.gate_proj.weight", dtype, new int[] {4, D}, gateUp)
                .add(p + "mlp.up_proj.weight", dtype, new int[] {4, D}, gateUp)
                .add(p + "mlp.down_proj.weight", dtype, new int[] {D, 4}, new float[D * 4])
                .add("model.norm.weight", dtype, new int[] {D}, ones(D))
                .add("lm_head.weight", dtype, new int[] {D, D}, lmHead)
                .write(dir.resolve("model.safetensors"));
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architectures", List.of("LlamaForCausalLM"));
        config.put("model_type", "llama");
        config.put("hidden_size", D);
        config.put("intermediate_size", 4);
        config.put("num_hidden_layers", 1);
        config.put("num_attention_heads", heads);
        config.put("num_key_value_heads", kvHeads);
        config.put("head_dim", hd);
        config.put("vocab_size", D);
        config.put("rms_norm_eps", EPS);
        config.put("max_position_embeddings", 64);
        config.put("tie_word_embeddings", false);
        Files.writeString(dir.resolve("config.json"), new ObjectMapper().writeValueAsString(config));
    }

    private static float[] identity(int n) {
        float[] m = new float[n * n];
        for (int i = 0; i < n; i++) {
            m[i * n + i] = 1;
        }
        return m;
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1);
        return v;
    }
}
