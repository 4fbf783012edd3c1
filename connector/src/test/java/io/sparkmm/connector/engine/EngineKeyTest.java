package io.sparkmm.connector.engine;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EngineKeyTest {

    @Test
    void spellingsOfOneDirectoryShareAKey() {
        String abs = Path.of("models/x").toAbsolutePath().toString();
        EngineKey a = new EngineKey("models/./x", 2048, 256, 0, null);
        EngineKey b = new EngineKey("file:" + abs, 2048, 256, 0, "auto");
        assertThat(a).isEqualTo(b);
        assertThat(a.modelPath()).isEqualTo(abs);
    }

    @Test
    void anEmbeddedModelLocationIsKeptAsGivenForEachExecutorToResolve() {
        EngineKey k = new EngineKey("classpath:default-model", 2048, 256, 0, null);
        assertThat(k.modelPath()).isEqualTo("classpath:default-model");
        assertThat(k).isNotEqualTo(new EngineKey("classpath:other-model", 2048, 256, 0, null));
    }

    @Test
    void aMissingModelNamesTheOption() {
        assertThatThrownBy(() -> new EngineKey(" ", 2048, 256, 0, null)).hasMessageContaining("modelPath");
    }
}
