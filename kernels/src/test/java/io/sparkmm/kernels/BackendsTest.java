package io.sparkmm.kernels;

import io.sparkmm.kernels.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackendsTest {

    @Test
    void autoPicksTheVectorBackendWhenTheModuleIsPresent() {
        // surefire starts the test JVM with --add-modules jdk.incubator.vector
        assertThat(Backends.vectorApiAvailable()).isTrue();
        try (Backend b = Backends.create("auto", 2)) {
            assertThat(b.getClass().getName()).isEqualTo("io.sparkmm.kernels.simd.VectorBackend");
            assertThat(b.name()).startsWith("simd(2 threads");
        }
    }

    @Test
    void referenceIsReference() {
        try (Backend b = Backends.create("reference", 2)) {
            assertThat(b).isInstanceOf(ReferenceBackend.class);
            assertThat(b.name()).isEqualTo("reference");
        }
    }

    @Test
    void badChoicesAreRejected() {
        assertThatThrownBy(() -> Backends.create("gpu", 2)).hasMessageContaining("unknown backend 'gpu'");
        assertThatThrownBy(() -> Backends.create("simd", 0)).hasStackTraceContaining("at least 1 thread");
    }
}
