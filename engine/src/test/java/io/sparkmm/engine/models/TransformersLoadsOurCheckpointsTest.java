package io.sparkmm.engine.models;

import io.sparkmm.engine.checkpoint.ModelConfig;
import io.sparkmm.engine.models.HfFixtures.Entry;
import io.sparkmm.engine.models.llava.LlavaConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the fixtures of src/test/python/hf_fixtures.py say about file layouts, both ways: transformers
 * (4.57 and 5.x) loads every checkpoint our Java writers committed with no missing, unexpected or
 * mismatched keys, and every architecture we run has a checkpoint transformers itself wrote in each
 * era (whose numbers {@link HfConformanceTest} compares).
 */
class TransformersLoadsOurCheckpointsTest {

    static List<String> eras() {
        return HfFixtures.ERAS;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("eras")
    void transformersLoadsEveryCommittedWriterCheckpointWithNoMissingOrUnexpectedKeys(String era) throws IOException {
        List<Entry> ours = HfFixtures.era(era).stream().filter(e -> e.source().equals("ours")).toList();
        for (Entry e : ours) {
            assertThat(e.loadingInfo()).as("%s loading info keys", e)
                    .containsKeys("missing_keys", "unexpected_keys", "mismatched_keys");
            e.loadingInfo().forEach((kind, keys) -> assertThat(keys).as("%s %s", e, kind).isEmpty());
        }
        // Every committed writer checkpoint has been through transformers (rerun the script after adding one).
        Set<String> committed = new TreeSet<>();
        committed.addAll(dirs("/checkpoints"));
        committed.addAll(dirs("/checkpoints-llava"));
        assertThat(ours.stream().map(Entry::name).toList()).containsExactlyInAnyOrderElementsOf(committed);
        Set<String> written = new TreeSet<>(OracleCheckpoints.specs().keySet());
        written.addAll(LlavaOracleCheckpoints.specs().keySet());
        assertThat(committed).isEqualTo(written);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("eras")
    void everyArchitectureHasACheckpointTransformersWrote(String era) {
        List<Entry> hf = HfFixtures.era(era).stream().filter(e -> e.source().equals("hf")).toList();
        Set<String> expected = new TreeSet<>(ModelConfig.SUPPORTED_ARCHITECTURES);
        expected.add(LlavaConfig.ARCHITECTURE);
        assertThat(hf.stream().map(Entry::architecture).toList()).containsAll(expected);
        for (Entry e : hf) {
            e.loadingInfo().forEach((kind, keys) -> assertThat(keys).as("%s %s", e, kind).isEmpty());
            assertThat(e.prompts()).as("%s prompts", e).isNotEmpty();
            // the committed directory is the one the fixture describes
            assertThat(dirFiles(e.resource())).as("%s files", e).containsExactlyInAnyOrderElementsOf(e.files());
        }
    }

    @Test
    void eachEraKeepsTheImageProcessorSettingsWhereItWritesThem() {
        // transformers 5 writes no preprocessor_config.json for a processor: only processor_config.json's
        // image_processor entry says how to preprocess, so that path must stay covered by the fixtures.
        assertThat(HfFixtures.entry("tf5", "llava-clip-llama-f32").files())
                .contains("processor_config.json", "chat_template.jinja").doesNotContain("preprocessor_config.json");
        assertThat(HfFixtures.entry("tf4", "llava-clip-llama-f32").files())
                .contains("preprocessor_config.json", "processor_config.json");
    }

    private static List<String> dirs(String resource) throws IOException {
        try (Stream<Path> s = Files.list(HfFixtures.path(resource))) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).toList();
        }
    }

    private static List<String> dirFiles(String resource) {
        try (Stream<Path> s = Files.list(HfFixtures.path(resource))) {
            return new ArrayList<>(s.map(p -> p.getFileName().toString()).toList());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
