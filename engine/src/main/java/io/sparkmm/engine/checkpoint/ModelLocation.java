package io.sparkmm.engine.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a model location into a checkpoint directory. A location is either a directory path or
 * {@code classpath:NAME}: a checkpoint embedded in a jar as resources {@code NAME/config.json},
 * {@code NAME/model.safetensors}, ... . An embedded model lets a job run with no model path at all
 * (the jar on every executor carries it), but safetensors are memory-mapped from files, so the
 * resources are copied once per machine into a folder named by their content hash under
 * {@code java.io.tmpdir/sparkmm-models}. Concurrent tasks and JVMs agree on that folder: each writes
 * a private copy and renames it into place, and a loser uses the winner's.
 */
public final class ModelLocation {

    public static final String CLASSPATH_PREFIX = "classpath:";

    /** The files of a Hugging Face checkpoint folder that the engine reads (sharded weights are not embeddable). */
    static final List<String> CHECKPOINT_FILES = List.of("config.json", "model.safetensors", "tokenizer.json",
            "tokenizer_config.json", "generation_config.json", "preprocessor_config.json", "processor_config.json",
            "special_tokens_map.json", "chat_template.json", "chat_template.jinja");

    private ModelLocation() {
    }

    public static boolean isClasspath(String location) {
        return location != null && location.startsWith(CLASSPATH_PREFIX);
    }

    /** The checkpoint directory for {@code location}, looking up embedded models with the thread's class loader. */
    public static Path resolve(String location) {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        return resolve(location, loader != null ? loader : ModelLocation.class.getClassLoader(),
                Path.of(System.getProperty("java.io.tmpdir"), "sparkmm-models"));
    }

    /**
     * @param cacheRoot where embedded models that are not plain folders (they live in a jar) are copied
     */
    public static Path resolve(String location, ClassLoader loader, Path cacheRoot) {
        if (location == null || location.isBlank()) {
            throw new IllegalArgumentException("no model location given (a checkpoint directory or classpath:NAME)");
        }
        if (!isClasspath(location)) {
            return Path.of(location);
        }
        String name = location.substring(CLASSPATH_PREFIX.length()).replaceAll("^/+|/+$", "");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("model location '" + location + "' names no resource folder");
        }
        URL config = loader.getResource(name + "/config.json");
        if (config == null) {
            throw new IllegalArgumentException("model location '" + location + "': no resource " + name
                    + "/config.json on the classpath (is the jar that embeds the model on this JVM's classpath?)");
        }
        if ("file".equals(config.getProtocol())) {
            try {
                return Path.of(config.toURI()).getParent();
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("model location '" + location + "': bad resource URL " + config, e);
            }
        }
        return extract(location, name, loader, cacheRoot);
    }

    private static Path extract(String location, String name, ClassLoader loader, Path cacheRoot) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (String file : CHECKPOINT_FILES) {
            try (InputStream in = loader.getResourceAsStream(name + "/" + file)) {
                if (in == null) {
                    continue;
                }
                byte[] bytes = in.readAllBytes();
                files.put(file, bytes);
                sha.update(file.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                sha.update(bytes);
            } catch (IOException e) {
                throw new UncheckedIOException("model location '" + location + "': cannot read resource " + name
                        + "/" + file, e);
            }
        }
        String folder = name.replaceAll("[^A-Za-z0-9._-]", "_") + "-"
                + HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        Path target = cacheRoot.resolve(folder);
        if (Files.isRegularFile(target.resolve("config.json"))) {
            return target;
        }
        try {
            Files.createDirectories(cacheRoot);
            Path staging = Files.createTempDirectory(cacheRoot, folder + ".tmp");
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                Files.write(staging.resolve(f.getKey()), f.getValue());
            }
            try {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException raced) {
                // Another task or JVM put the same content there first (Linux reports it as
                // "Directory not empty", not always as FileAlreadyExistsException).
                deleteTree(staging);
                if (!Files.isRegularFile(target.resolve("config.json"))) {
                    throw raced;
                }
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("model location '" + location + "': cannot copy the embedded model to "
                    + target, e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }
}
