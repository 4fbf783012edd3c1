package io.sparkmm.connector.generate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Spark-free parts of the generator: templates, path canonical forms, row seeds, options. */
class GeneratorPartsTest {

    @Test
    void templateFillsSlotsAndKeepsEscapedBraces() {
        PromptTemplate t = new PromptTemplate("Describe {name} in {{JSON}} for {who}");
        assertThat(t.columns()).containsExactly("name", "who");
        assertThat(t.render(Map.<String, Object>of("name", "a cat", "who", 7)::get))
                .isEqualTo("Describe a cat in {JSON} for 7");
        assertThatThrownBy(() -> t.render(c -> null)).hasMessageContaining("'name'");
        assertThatThrownBy(() -> new PromptTemplate("oops {name")).hasMessageContaining("unclosed");
        assertThatThrownBy(() -> new PromptTemplate("oops }")).hasMessageContaining("stray");
    }

    @Test
    void canonicalResolvesDotsFileUrisAndSymlinks(@TempDir Path dir) throws Exception {
        Path inside = Files.createDirectories(dir.resolve("data"));
        Path outside = Files.createDirectories(dir.resolve("secret"));
        Files.writeString(outside.resolve("x.png"), "x");
        Files.createSymbolicLink(inside.resolve("link.png"), outside.resolve("x.png"));
        String root = RequestFactory.canonical(inside.toString());
        assertThat(RequestFactory.canonical(inside + "/../secret/x.png")).doesNotStartWith(root + "/");
        assertThat(RequestFactory.canonical(inside.resolve("link.png").toString())).doesNotStartWith(root + "/");
        assertThat(RequestFactory.canonical("file:" + inside + "/a b.png")).isEqualTo(root + "/a b.png");
        assertThat(RequestFactory.canonical("file://" + inside + "/a.png")).isEqualTo(root + "/a.png");
        assertThat(RequestFactory.canonical("s3a://bucket/a/../b.png")).isEqualTo("s3a://bucket/b.png");
    }

    @Test
    void rowSeedDependsOnContentAndBaseSeedOnly() {
        RowInput a = new RowInput("k1", "hi", new byte[] {1, 2}, null, null);
        RowInput sameContent = new RowInput("other name", "hi", new byte[] {1, 2}, null, null);
        assertThat(RequestFactory.rowSeed(0, a)).isEqualTo(RequestFactory.rowSeed(0, sameContent));
        assertThat(RequestFactory.rowSeed(1, a)).isNotEqualTo(RequestFactory.rowSeed(0, a));
        assertThat(RequestFactory.rowSeed(0, new RowInput("k", "hi", new byte[] {1, 3}, null, null)))
                .isNotEqualTo(RequestFactory.rowSeed(0, a));
        assertThat(RequestFactory.rowSeed(0, new RowInput("k", "hi", null, new byte[] {1, 2}, null)))
                .isNotEqualTo(RequestFactory.rowSeed(0, a));
        assertThat(RequestFactory.rowSeed(0, new RowInput("k", "hi", List.of("/a.png"), null, null)))
                .isNotEqualTo(RequestFactory.rowSeed(0, new RowInput("k", "hi", "/a.png", null, null)));
    }

    @Test
    void optionsNameTheKeyAndTheValue() {
        assertThatThrownBy(() -> GeneratorOptions.byName("maxTokenz")).hasMessageContaining("'maxTokenz'")
                .hasMessageContaining("maxTokens");
        assertThatThrownBy(() -> GeneratorOptions.MODE.parse("LENIENT")).hasMessageContaining("'mode'")
                .hasMessageContaining("LENIENT");
        assertThat(GeneratorOptions.STOP.parse("a|b")).containsExactly("a", "b");
        assertThatThrownBy(() -> new MultimodalGenerator().setModelPath("/m").setTopP(0).settings())
                .hasMessageContaining("top_p");
        assertThatThrownBy(() -> new MultimodalGenerator().setModelPath("/m").setLookAhead(0).settings())
                .hasMessageContaining("lookAhead");
        assertThatThrownBy(() -> new MultimodalGenerator().settings()).hasMessageContaining("modelPath");
    }

    @Test
    void rowTimeoutDefaultsToNoLimitAndRefusesNegatives() {
        GeneratorSettings s = new MultimodalGenerator().setModelPath("/m").settings();
        assertThat(s.rowTimeoutSeconds()).isZero();
        assertThat(s.rowTimeout()).isZero();
        assertThat(new MultimodalGenerator().setModelPath("/m").set("rowTimeoutSeconds", "90").settings().rowTimeout())
                .hasSeconds(90);
        assertThatThrownBy(() -> new MultimodalGenerator().setModelPath("/m").setRowTimeoutSeconds(-1).settings())
                .hasMessageContaining("'rowTimeoutSeconds'").hasMessageContaining("-1");
        assertThatThrownBy(() -> GeneratorOptions.ROW_TIMEOUT_SECONDS.parse("soon"))
                .hasMessageContaining("'rowTimeoutSeconds'").hasMessageContaining("soon");
    }

    @Test
    void deviceOptionDefaultsToAutoAndReachesTheEngineKeyInOneSpelling() {
        assertThat(new MultimodalGenerator().setModelPath("/m").settings().engineKey().device()).isEqualTo("auto");
        assertThat(new MultimodalGenerator().setModelPath("/m").setDevice("reference").settings().engineKey().device())
                .isEqualTo("cpu-reference");
        assertThat(GeneratorOptions.DEVICE.doc()).contains("cpu-reference").doesNotContain("simd |");
    }

    @Test
    void affinityParsesInAnyCaseDefaultsToNoneAndBadWordsNameTheOption() {
        assertThat(new MultimodalGenerator().setModelPath("/m").settings().affinity())
                .isEqualTo(GeneratorOptions.Affinity.NONE);
        assertThat(new MultimodalGenerator().setModelPath("/m").set("affinity", "Media").settings().affinity())
                .isEqualTo(GeneratorOptions.Affinity.MEDIA);
        assertThat(new MultimodalGenerator().setModelPath("/m").setAffinity("prefix").getAffinity())
                .isEqualTo(GeneratorOptions.Affinity.PREFIX);
        assertThatThrownBy(() -> new MultimodalGenerator().set("affinity", "image"))
                .hasMessageContaining("'affinity'").hasMessageContaining("image");
        // where rows run is no engine setting: it must not split the executor's engine
        assertThat(new MultimodalGenerator().setModelPath("/m").setAffinity("media").settings().engineKey())
                .isEqualTo(new MultimodalGenerator().setModelPath("/m").settings().engineKey());
    }

    @Test
    void prefixWaitIsOnByDefaultAndReachesTheEngineConfig() {
        assertThat(new MultimodalGenerator().setModelPath("/m").settings().engineKey().engineConfig().prefixWait())
                .isTrue();
        GeneratorSettings off = new MultimodalGenerator().setModelPath("/m").set("prefixWait", "false").settings();
        assertThat(off.engineKey().engineConfig().prefixWait()).isFalse();
        assertThat(off.engineKey()).isNotEqualTo(new MultimodalGenerator().setModelPath("/m").settings().engineKey());
    }

    @Test
    void kvCacheDtypeReachesTheEngineConfigAndBadWordsNameTheOption() {
        assertThat(new MultimodalGenerator().setModelPath("/m").settings().engineKey().engineConfig().kvCacheDtype())
                .isEqualTo(io.sparkmm.engine.EngineConfig.DEFAULT_KV_DTYPE);
        MultimodalGenerator bf16 = new MultimodalGenerator().setModelPath("/m");
        bf16.set("kvCacheDtype", "BF16");
        assertThat(bf16.settings().engineKey().kvCacheDtype()).isEqualTo("bf16");
        assertThat(bf16.settings().engineKey().engineConfig().kvCacheDtype().name()).isEqualTo("BF16");
        // a different KV dtype is a different engine
        assertThat(bf16.settings().engineKey()).isNotEqualTo(new MultimodalGenerator().setModelPath("/m").settings().engineKey());
        assertThatThrownBy(() -> new MultimodalGenerator().setModelPath("/m").set("kvCacheDtype", "int8"))
                .hasMessageContaining("kvCacheDtype").hasMessageContaining("int8");
    }

    @Test
    void mmProcessorKwargsIsCheckedOnTheDriverAndStaysOutOfTheEngineKey() {
        MultimodalGenerator g = new MultimodalGenerator().setModelPath("/m")
                .set("mmProcessorKwargs", " {\"max_pixels\": 200704, \"min_pixels\": 3136} ");
        GeneratorSettings s = g.settings();
        assertThat(s.processorKwargs().values()).containsExactly(Map.entry("max_pixels", 200704), Map.entry("min_pixels", 3136));
        // the string and typed forms of the same settings are one value (keys sorted, spacing dropped)
        GeneratorSettings typed = new MultimodalGenerator().setModelPath("/m")
                .setMmProcessorKwargs("{\"min_pixels\":3136,\"max_pixels\":200704}").settings();
        assertThat(typed.mmProcessorKwargs()).isEqualTo(s.mmProcessorKwargs()).isEqualTo("{\"max_pixels\":200704,\"min_pixels\":3136}");
        // per request, not per engine: the same executor engine serves any settings
        assertThat(s.engineKey()).isEqualTo(new MultimodalGenerator().setModelPath("/m").settings().engineKey());
        assertThat(new MultimodalGenerator().setModelPath("/m").settings().processorKwargs().isEmpty()).isTrue();

        assertThatThrownBy(() -> GeneratorOptions.MM_PROCESSOR_KWARGS.parse("{\"min_pixels\": "))
                .hasMessageContaining("'mmProcessorKwargs'").hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> new MultimodalGenerator().set("mmProcessorKwargs", "3136"))
                .hasMessageContaining("'mmProcessorKwargs'").hasMessageContaining("must be a JSON object");
        assertThatThrownBy(() -> new MultimodalGenerator().setModelPath("/m")
                .setMmProcessorKwargs("{\"size\": {\"shortest_edge\": 224}}").settings())
                .hasMessageContaining("'mmProcessorKwargs'").hasMessageContaining("\"size\"")
                .hasMessageContaining("number, string or boolean");
        assertThat(GeneratorOptions.MM_PROCESSOR_KWARGS.doc()).contains("min_pixels");
    }
}
