package io.sparkmm.connector.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import io.sparkmm.connector.source.MultimodalReadOptions.Config;
import io.sparkmm.connector.source.MultimodalReadOptions.Modality;
import io.sparkmm.connector.source.MultimodalReadOptions.SessionDefaults;
import org.junit.jupiter.api.Test;

/** Option parsing and validation without a Spark session. */
class MultimodalReadOptionsTest {

    private static final SessionDefaults SESSION = new SessionDefaults(128L << 20, 4L << 20, 2);

    private static Config parse(Map<String, String> options) {
        return MultimodalReadOptions.parse(options, SESSION);
    }

    @Test
    void defaults() {
        Config c = parse(Map.of("path", "/data"));
        assertThat(c.paths()).containsExactly("/data");
        assertThat(c.modalities()).isEqualTo(EnumSet.allOf(Modality.class));
        assertThat(c.filtersModality()).isFalse();
        assertThat(c.pathGlobFilter()).isNull();
        assertThat(c.recursiveFileLookup()).isTrue();
        assertThat(c.probe()).isFalse();
        assertThat(c.maxFileBytes()).isEqualTo(512L << 20);
        assertThat(c.maxPartitionBytes()).isEqualTo(128L << 20);
        assertThat(c.openCostInBytes()).isEqualTo(4L << 20);
        assertThat(c.minPartitions()).isEqualTo(2);
        assertThat(c.sniffUnknownExtensions()).isFalse();
    }

    @Test
    void valuesAreParsedCaseInsensitively() {
        Config c = parse(Map.of("paths", "[\"/a\",\"/b\"]", "MODALITY", "Audio, video", "probe", "TRUE",
                "maxPartitionBytes", "64m", "openCostInBytes", "0", "minPartitions", "8",
                "pathglobfilter", "*.{wav,mp4}", "fs.s3a.endpoint", "http://localhost:9000"));
        assertThat(c.paths()).containsExactly("/a", "/b");
        assertThat(c.modalities()).containsExactlyInAnyOrder(Modality.AUDIO, Modality.VIDEO);
        assertThat(c.filtersModality()).isTrue();
        assertThat(c.probe()).isTrue();
        assertThat(c.maxPartitionBytes()).isEqualTo(64L << 20);
        assertThat(c.openCostInBytes()).isZero();
        assertThat(c.minPartitions()).isEqualTo(8);
        assertThat(c.pathGlobFilter()).isEqualTo("*.{wav,mp4}");
        assertThat(c.hadoopOptions()).containsEntry("fs.s3a.endpoint", "http://localhost:9000");
    }

    @Test
    void unknownKeySuggestsTheNearest() {
        assertThatThrownBy(() -> parse(Map.of("path", "/d", "recursiveFileLokup", "false")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'recursiveFileLokup'").hasMessageContaining("'false'")
                .hasMessageContaining("did you mean 'recursiveFileLookup'");
        assertThatThrownBy(() -> parse(Map.of("path", "/d", "prob", "true")))
                .hasMessageContaining("did you mean 'probe'");
    }

    @Test
    void badValuesNameKeyAndValue() {
        for (var bad : List.of(Map.entry("maxFileBytes", "3g"), Map.entry("maxFileBytes", "0"),
                Map.entry("openCostInBytes", "-1"), Map.entry("minPartitions", "two"),
                Map.entry("pathGlobFilter", "*.{png"), Map.entry("modality", ""), Map.entry("recursiveFileLookup", "1"))) {
            assertThatThrownBy(() -> parse(Map.of("path", "/d", bad.getKey(), bad.getValue())))
                    .as(bad.toString())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'" + bad.getKey() + "'")
                    .hasMessageContaining("'" + bad.getValue() + "'");
        }
    }

    @Test
    void aPathIsRequired() {
        assertThatThrownBy(() -> parse(Map.of())).hasMessageContaining("needs a path");
    }

    @Test
    void editDistance() {
        assertThat(MultimodalReadOptions.editDistance("probe", "probe")).isZero();
        assertThat(MultimodalReadOptions.editDistance("prob", "probe")).isEqualTo(1);
        assertThat(MultimodalReadOptions.editDistance("kitten", "sitting")).isEqualTo(3);
        assertThat(MultimodalReadOptions.editDistance("", "abc")).isEqualTo(3);
    }

    @Test
    void everyOptionIsDocumented() {
        assertThat(MultimodalReadOptions.ALL).allSatisfy(s -> {
            assertThat(s.doc()).isNotBlank();
            assertThat(s.defaultDoc()).isNotBlank();
        });
        assertThat(MultimodalReadOptions.describe()).contains("maxPartitionBytes (default: the session's");
    }
}
