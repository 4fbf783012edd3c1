package io.sparkmm.engine.models;

import io.sparkmm.engine.checkpoint.RopeScaling;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.models.text.TinyCheckpoint.Spec;
import io.sparkmm.kernels.DType;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tiny text checkpoints our Java writer ({@link TinyCheckpoint}) made, committed under
 * {@code src/test/resources/checkpoints}: transformers must load them with no missing or unexpected
 * keys, and its numbers on them are the oracle ({@code src/test/python/hf_fixtures.py}, checked by
 * {@link TransformersLoadsOurCheckpointsTest} and {@link HfConformanceTest}). Committed, so the
 * comparison does not depend on the random writer staying the same. To regenerate both:
 * <pre>
 *   mvn -q -pl engine -am test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 *   java -cp engine/target/test-classes:engine/target/classes:kernels/target/classes:processors/target/classes:$(cat engine/target/cp.txt) \
 *       io.sparkmm.engine.models.OracleCheckpoints engine/src/test/resources/checkpoints
 *   # then both eras of engine/src/test/python/hf_fixtures.py (see its docstring)
 * </pre>
 */
public final class OracleCheckpoints {

    private OracleCheckpoints() {
    }

    /** Each covers a different path: GQA + llama3 rope in BF16, Qwen2 biases + tied in F32, MQA in F16, linear rope. */
    public static Map<String, Spec> specs() {
        Map<String, Spec> specs = new LinkedHashMap<>();
        specs.put("llama-gqa-llama3rope-bf16", Spec.llamaGqa().withDtype(DType.BF16).withSeed(11)
                .withRopeScaling(new RopeScaling("llama3", 8.0, 1.0, 4.0, 64)));
        specs.put("qwen2-tied-bias-f32", Spec.qwen2().withSeed(12));
        specs.put("mistral-mqa-f16", Spec.mistral().withDtype(DType.F16).withSeed(13));
        specs.put("llama-untied-linearrope-f32", Spec.llamaGqa().withSeed(14)
                .withRopeScaling(new RopeScaling("linear", 2.0, 0, 0, 0)));
        return specs;
    }

    public static void main(String[] args) {
        Path root = Path.of(args[0]);
        specs().forEach((name, spec) -> TinyCheckpoint.write(root.resolve(name), spec));
    }
}
