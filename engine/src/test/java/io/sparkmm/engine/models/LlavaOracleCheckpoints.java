package io.sparkmm.engine.models;

import io.sparkmm.engine.models.llava.TinyLlavaCheckpoint;
import io.sparkmm.engine.models.llava.TinyLlavaCheckpoint.Spec;
import io.sparkmm.kernels.DType;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tiny LLaVA checkpoints our Java writer ({@link TinyLlavaCheckpoint}) made, committed under
 * {@code src/test/resources/checkpoints-llava}: transformers must load them with no missing or
 * unexpected keys, and its numbers on them (processor, features, logits, greedy tokens) are the
 * oracle ({@code src/test/python/hf_fixtures.py}). To regenerate both:
 * <pre>
 *   mvn -q -pl engine -am test-compile
 *   CP=engine/target/classes:engine/target/test-classes:kernels/target/classes:$(find ~/.m2 -name 'jackson-*.jar' | tr '\n' :)
 *   java -cp "$CP" io.sparkmm.engine.models.LlavaOracleCheckpoints \
 *       engine/src/test/resources/checkpoints-llava
 *   # then both eras of engine/src/test/python/hf_fixtures.py (see its docstring)
 * </pre>
 */
public final class LlavaOracleCheckpoints {

    private LlavaOracleCheckpoints() {
    }

    /**
     * LLaVA-1.5 defaults (layer -2, CLS dropped, quick_gelu) on Llama in BF16; "full" + last layer +
     * erf gelu on tied Qwen2 in F32; two concatenated layers, tanh-gelu projector without bias on
     * Mistral in F16.
     */
    public static Map<String, Spec> specs() {
        Map<String, Spec> specs = new LinkedHashMap<>();
        specs.put("llava-llama-default-bf16", Spec.llama().withText(Spec.llama().text().withDtype(DType.BF16)
                .withSeed(21)));
        specs.put("llava-qwen2-full-f32", Spec.qwen2Full().withText(Spec.qwen2Full().text().withSeed(22)));
        specs.put("llava-mistral-layers-f16", Spec.mistralMultiLayer().withText(Spec.mistralMultiLayer().text()
                .withDtype(DType.F16).withSeed(23)));
        return specs;
    }

    public static void main(String[] args) {
        Path root = Path.of(args[0]);
        specs().forEach((name, spec) -> TinyLlavaCheckpoint.write(root.resolve(name), spec));
    }
}
