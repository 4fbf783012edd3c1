package io.sparkmm.engine.encoders.onnx;

import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.cache.ProcessorCache;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs the same prompts through a model with its native encoder and with an ONNX one: the encoder
 * rows of every item (max |diff|) and the greedy tokens through the paged engine.
 */
public final class OnnxEncoderTesting {

    private OnnxEncoderTesting() {
    }

    /** What both paths gave. */
    public record Comparison(double maxEncoderDiff, int encoderValues, List<int[]> nativeTokens, List<int[]> onnxTokens,
                             double maxLogprobDiff) {
    }

    public static Comparison compare(LoadedModel nativeModel, LoadedModel onnxModel, List<PromptInput> prompts,
                                     int maxTokens) throws Exception {
        double diff = 0;
        double logprobDiff = 0;
        int values = 0;
        // past EOS, so every prompt compares the same number of steps; the chosen token's logprob each step
        SamplingParams sampling = SamplingParams.greedy(maxTokens).toBuilder().ignoreEos(true).logprobs(1).build();
        List<int[]> a = new ArrayList<>();
        List<int[]> b = new ArrayList<>();
        try (EngineSession sa = EngineSession.over(nativeModel, EngineOptions.defaults(), new ProcessorCache(0));
             EngineSession sb = EngineSession.over(onnxModel, EngineOptions.defaults(), new ProcessorCache(0))) {
            for (int i = 0; i < prompts.size(); i++) {
                EngineRequest ra = sa.requests().build("n" + i, prompts.get(i), sampling);
                EngineRequest rb = sb.requests().build("o" + i, prompts.get(i), sampling);
                for (int m = 0; m < ra.media().size(); m++) {
                    MediaInput item = ra.media().get(m);
                    try (Tensor x = nativeModel.model().encode(item); Tensor y = onnxModel.model().encode(rb.media().get(m))) {
                        float[] fx = nativeModel.backend().download(x);
                        float[] fy = onnxModel.backend().download(y);
                        if (fx.length != fy.length) {
                            throw new AssertionError("native gave " + fx.length + " values, ONNX " + fy.length);
                        }
                        for (int k = 0; k < fx.length; k++) {
                            diff = Math.max(diff, Math.abs(fx[k] - fy[k]));
                        }
                        values += fx.length;
                    }
                }
                EngineResult na = sa.engine().submit(ra).result().get();
                EngineResult nb = sb.engine().submit(rb).result().get();
                if (na.error() != null || nb.error() != null) {
                    throw new AssertionError("native: " + na.error() + ", ONNX: " + nb.error());
                }
                for (int t = 0; t < Math.min(na.logprobs().size(), nb.logprobs().size()); t++) {
                    logprobDiff = Math.max(logprobDiff, Math.abs(na.logprobs().get(t).get(0).logprob()
                            - nb.logprobs().get(t).get(0).logprob()));
                }
                a.add(na.tokenIds());
                b.add(nb.tokenIds());
            }
        }
        return new Comparison(diff, values, a, b, logprobDiff);
    }
}
