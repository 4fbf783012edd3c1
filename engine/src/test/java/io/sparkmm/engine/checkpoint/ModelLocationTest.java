package io.sparkmm.engine.checkpoint;

import io.sparkmm.engine.models.llava.TinyLlavaCheckpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelLocationTest {

    @TempDir
    Path tmp;

    @Test
    void aPlainPathIsTheDirectoryItself() {
        assertThat(ModelLocation.resolve("/data/models/x", getClass().getClassLoader(), tmp))
                .isEqualTo(Path.of("/data/models/x"));
    }

    @Test
    void aModelInsideAJarIsCopiedOnceByContentAndLoads() throws Exception {
        Path model = TinyLlavaCheckpoint.write(tmp.resolve("src"), TinyLlavaCheckpoint.Spec.llama());
        Path jar = tmp.resolve("app.jar");
        List<String> written = new ArrayList<>();
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            try (var files = Files.list(model)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    out.putNextEntry(new JarEntry("models/tiny/" + f.getFileName()));
                    out.write(Files.readAllBytes(f));
                    out.closeEntry();
                    written.add(f.getFileName().toString());
                }
            }
            out.putNextEntry(new JarEntry("models/tiny/notes.txt")); // not a checkpoint file: not copied
            out.write("x".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        Path cache = tmp.resolve("cache");
        try (URLClassLoader loader = new URLClassLoader(new URL[]{jar.toUri().toURL()}, null)) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Callable<Path> task = () -> ModelLocation.resolve("classpath:models/tiny/", loader, cache);
                results.add(pool.submit(task));
            }
            Path first = results.get(0).get();
            for (Future<Path> r : results) {
                assertThat(r.get()).isEqualTo(first);
            }
            pool.shutdown();
            assertThat(first.getParent()).isEqualTo(cache);
            assertThat(first.getFileName().toString()).startsWith("models_tiny-");
            for (String f : written) {
                if (ModelLocation.CHECKPOINT_FILES.contains(f)) {
                    assertThat(Files.readAllBytes(first.resolve(f))).as(f).isEqualTo(Files.readAllBytes(model.resolve(f)));
                }
            }
            assertThat(first.resolve("notes.txt")).doesNotExist();
            try (var entries = Files.list(cache)) {
                assertThat(entries.count()).as("one folder, no staging leftovers").isEqualTo(1);
            }
            assertThat(Checkpoint.open(first).configJson()).isNotNull();
        }
    }

    @Test
    void aMissingEmbeddedModelNamesTheResource() {
        assertThatThrownBy(() -> ModelLocation.resolve("classpath:no-such-model", getClass().getClassLoader(), tmp))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no-such-model/config.json");
        assertThatThrownBy(() -> ModelLocation.resolve("classpath:", getClass().getClassLoader(), tmp))
                .hasMessageContaining("names no resource folder");
    }

    @Test
    void aResourceFolderOnDiskIsUsedInPlace() throws Exception {
        Path root = tmp.resolve("classes");
        Files.createDirectories(root.resolve("m"));
        Files.writeString(root.resolve("m/config.json"), "{}");
        try (URLClassLoader loader = new URLClassLoader(new URL[]{root.toUri().toURL()}, null)) {
            assertThat(ModelLocation.resolve("classpath:m", loader, tmp.resolve("cache")))
                    .isEqualTo(root.resolve("m"));
        }
        assertThat(tmp.resolve("cache")).doesNotExist();
    }
}
