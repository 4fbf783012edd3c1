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
    void theEncoderCacheSizeIsPartOfTheEngineAndIsCheckedOnTheDriver() {
        EngineKey sized = new EngineKey("/m", 2048, 256, 0, null, "f32", 12288);
        assertThat(sized.engineConfig().encoderCacheRows()).isEqualTo(12288);
        assertThat(new EngineKey("/m", 2048, 256, 0, null).engineConfig().encoderCacheRows()).isZero();
        assertThat(sized).isNotEqualTo(new EngineKey("/m", 2048, 256, 0, null, "f32", 0));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new EngineKey("/m", 2048, 256, 0, null, "f32", -1))
                .hasMessageContaining("encoderCacheRows=-1").hasMessageContaining("encoder_cache_rows must be >= 0");
    }

    @Test
    void theDeviceDefaultsToAutoAndOneDeviceHasOneSpelling() {
        assertThat(new EngineKey("/m", 2048, 256, 0, null).device()).isEqualTo("auto");
        assertThat(new EngineKey("/m", 2048, 256, 0, " ").device()).isEqualTo("auto");
        assertThat(new EngineKey("/m", 2048, 256, 0, " CPU ")).isEqualTo(new EngineKey("/m", 2048, 256, 0, "cpu"));
        // the old words keep working and share the engine of the word they stand for
        assertThat(new EngineKey("/m", 2048, 256, 0, "simd").device()).isEqualTo("cpu");
        assertThat(new EngineKey("/m", 2048, 256, 0, "reference").device()).isEqualTo("cpu-reference");
        assertThat(new EngineKey("/m", 2048, 256, 0, "cuda:1").device()).isEqualTo("cuda:1");
        assertThat(new EngineKey("/m", 2048, 256, 0, "cpu")).isNotEqualTo(new EngineKey("/m", 2048, 256, 0, "cpu-reference"));
    }

    @Test
    void engineOptionsArePartOfTheKeyAndCheckedOnTheDriver() {
        assertThat(new EngineKey("/m", 2048, 4, 0, "cpu")).isNotEqualTo(new EngineKey("/m", 2048, 8, 0, "cpu"));
        assertThatThrownBy(() -> new EngineKey("/m", 2048, 0, 0, "cpu")).hasMessageContaining("maxSeqs=0")
                .hasMessageContaining("max_num_seqs");
        assertThatThrownBy(() -> new EngineKey("/m", 2048, 4, -1, "cpu")).hasMessageContaining("kvCacheBytes=-1");
    }

    @Test
    void anOnnxEncoderIsPartOfTheKeyInOneSpelling() {
        String abs = Path.of("enc/vision.onnx").toAbsolutePath().toString();
        EngineKey plain = new EngineKey("/m", 2048, 256, 0, "cpu", "f32", 0, true);
        EngineKey a = new EngineKey("/m", 2048, 256, 0, "cpu", "f32", 0, true, "enc/./vision.onnx");
        EngineKey b = new EngineKey("/m", 2048, 256, 0, "cpu", "f32", 0, true, "file:" + abs);
        assertThat(a).isEqualTo(b).isNotEqualTo(plain);
        assertThat(a.encoderOnnx()).isEqualTo(abs);
        assertThat(plain.encoderOnnx()).isNull();
        assertThat(new EngineKey("/m", 2048, 256, 0, "cpu", "f32", 0, true, " ")).isEqualTo(plain);
    }

    @Test
    void aMissingModelNamesTheOption() {
        assertThatThrownBy(() -> new EngineKey(" ", 2048, 256, 0, null)).hasMessageContaining("modelPath");
    }
}
