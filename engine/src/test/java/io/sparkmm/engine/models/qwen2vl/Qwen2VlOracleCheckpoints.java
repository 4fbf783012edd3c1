package io.sparkmm.engine.models.qwen2vl;

import io.sparkmm.engine.models.qwen2vl.TinyQwen2VlCheckpoint.Layout;
import io.sparkmm.engine.models.qwen2vl.TinyQwen2VlCheckpoint.Spec;
import io.sparkmm.kernels.DType;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tiny Qwen2-VL checkpoints our Java writer ({@link TinyQwen2VlCheckpoint}) made, committed under
 * {@code src/test/resources/checkpoints-qwen2vl}: transformers must load them with no missing or
 * unexpected keys, and its numbers on them are the oracle ({@code src/test/python/qwen2vl_fixtures.py},
 * "ours"). Regenerate both:
 * <pre>
 *   mvn -q -pl engine -am test-compile
 *   CP=engine/target/classes:engine/target/test-classes:kernels/target/classes:processors/target/classes:$(find ~/.m2 -name 'jackson-*.jar' | tr '\n' :)
 *   java -cp "$CP" io.sparkmm.engine.models.qwen2vl.Qwen2VlOracleCheckpoints engine/src/test/resources/checkpoints-qwen2vl
 *   # then both eras of engine/src/test/python/qwen2vl_fixtures.py (see its docstring)
 * </pre>
 */
public final class Qwen2VlOracleCheckpoints {

    private Qwen2VlOracleCheckpoints() {
    }

    /** Qwen2-VL in the Hub's flat layout, untied, BF16; Qwen2.5-VL in transformers 5's nested layout, tied, F16. */
    public static Map<String, Spec> specs() {
        Map<String, Spec> specs = new LinkedHashMap<>();
        specs.put("qwen2_vl_ours_hub_bf16", Spec.qwen2Vl().withLayout(Layout.HUB).withDtype(DType.BF16).withSeed(31));
        specs.put("qwen2_5_vl_ours_tf5_f16", Spec.qwen25Vl().withLayout(Layout.TRANSFORMERS_5).withDtype(DType.F16)
                .withSeed(32));
        return specs;
    }

    public static void main(String[] args) {
        Path root = Path.of(args[0]);
        specs().forEach((name, spec) -> TinyQwen2VlCheckpoint.write(root.resolve(name), spec));
    }
}
