package io.sparkmm.engine.models.qwen25omni;

import io.sparkmm.engine.models.qwen25omni.TinyQwen25OmniCheckpoint.Spec;
import io.sparkmm.kernels.DType;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tiny Qwen2.5-Omni checkpoint our Java writer ({@link TinyQwen25OmniCheckpoint}) made, committed
 * under {@code src/test/resources/checkpoints-qwen25omni}: transformers must load it with no missing or
 * unexpected keys, and its numbers on it are the oracle ({@code src/test/python/qwen25omni_ours_fixtures.py}).
 * Regenerate both:
 * <pre>
 *   mvn -q -o -pl engine -am test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 *   java -cp engine/target/classes:engine/target/test-classes:$(cat engine/target/cp.txt) \
 *       io.sparkmm.engine.models.qwen25omni.Qwen25OmniOracleCheckpoints engine/src/test/resources/checkpoints-qwen25omni
 *   /tmp/venv-qa/bin/python engine/src/test/python/qwen25omni_ours_fixtures.py
 * </pre>
 */
public final class Qwen25OmniOracleCheckpoints {

    private Qwen25OmniOracleCheckpoints() {
    }

    /** The Hub's whole-Omni layout in BF16, as Qwen2.5-Omni-7B is published (thinker only). */
    public static Map<String, Spec> specs() {
        Map<String, Spec> specs = new LinkedHashMap<>();
        specs.put("qwen25_omni_ours_hub_bf16", Spec.tiny().withDtype(DType.BF16).withSeed(53));
        return specs;
    }

    public static void main(String[] args) {
        Path root = Path.of(args[0]);
        specs().forEach((name, spec) -> TinyQwen25OmniCheckpoint.write(root.resolve(name), spec));
    }
}
