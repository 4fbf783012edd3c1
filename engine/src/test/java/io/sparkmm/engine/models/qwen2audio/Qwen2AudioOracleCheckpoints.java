package io.sparkmm.engine.models.qwen2audio;

import io.sparkmm.engine.models.qwen2audio.TinyQwen2AudioCheckpoint.Spec;
import io.sparkmm.kernels.DType;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tiny Qwen2-Audio checkpoints our Java writer ({@link TinyQwen2AudioCheckpoint}) made, committed
 * under {@code src/test/resources/checkpoints-qwen2audio}: transformers 5 and 4 must load them with no
 * missing or unexpected keys, and their numbers on them are the oracle
 * ({@code src/test/python/qwen2audio_ours_fixtures.py}). Regenerate both:
 * <pre>
 *   mvn -q -o -pl engine -am test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 *   java -cp engine/target/classes:engine/target/test-classes:$(cat engine/target/cp.txt) \
 *       io.sparkmm.engine.models.qwen2audio.Qwen2AudioOracleCheckpoints engine/src/test/resources/checkpoints-qwen2audio
 *   # then engine/src/test/python/qwen2audio_ours_fixtures.py in both eras (see its docstring)
 * </pre>
 */
public final class Qwen2AudioOracleCheckpoints {

    private Qwen2AudioOracleCheckpoints() {
    }

    /** The Hub's layout in BF16, as Qwen2-Audio-7B-Instruct is published. */
    public static Map<String, Spec> specs() {
        Map<String, Spec> specs = new LinkedHashMap<>();
        specs.put("qwen2_audio_ours_hub_bf16", Spec.tiny().withDtype(DType.BF16).withSeed(43));
        return specs;
    }

    public static void main(String[] args) {
        Path root = Path.of(args[0]);
        specs().forEach((name, spec) -> TinyQwen2AudioCheckpoint.write(root.resolve(name), spec));
    }
}
