package io.sparkmm.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Hugging Face model directory opened for inference: {@code config.json}, the optional
 * {@code generation_config.json}, and safetensors weights, either one {@code model.safetensors} or
 * shards listed by {@code model.safetensors.index.json}.
 *
 * <p>Pickle weights ({@code pytorch_model.bin}, {@code *.pt}, ...) are refused: unpickling runs
 * arbitrary code from the file, and a batch job must not execute what it downloads.
 *
 * <p>Opening validates every header, so a missing shard, a truncated file or an index that points
 * at the wrong file fails here, before any compute is spent. Tensor bytes are mapped lazily.
 * Thread-safe.
 */
public final class Checkpoint implements AutoCloseable {

    public static final String CONFIG = "config.json";
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final Path directory;
    private final JsonFields configJson;
    private final GenerationConfig generationConfig;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byTensor;
    private final String searched;
    private volatile boolean closed;

    private Checkpoint(Path directory, JsonFields configJson, GenerationConfig generationConfig,
                       List<SafetensorsFile> files, Map<String, SafetensorsFile> byTensor, String searched) {
        this.directory = directory;
        this.configJson = configJson;
        this.generationConfig = generationConfig;
        this.files = files;
        this.byTensor = byTensor;
        this.searched = searched;
    }

    /** Opens {@code dir}; see the class comment. Every failure names the path at fault. */
    public static Checkpoint open(Path dir) {
        if (dir == null) {
            throw new CheckpointException("checkpoint directory is null");
        }
        Path directory = dir.toAbsolutePath().normalize();
        if (!Files.exists(directory)) {
            throw new CheckpointException("checkpoint directory " + directory + " does not exist");
        }
        if (!Files.isDirectory(directory)) {
            throw new CheckpointException("checkpoint path " + directory
                    + " is not a directory (expected a Hugging Face model directory with config.json)");
        }
        Path configFile = directory.resolve(CONFIG);
        if (!Files.isRegularFile(configFile)) {
            throw new CheckpointException("no " + CONFIG + " in checkpoint directory " + directory
                    + " (missing " + configFile + ")");
        }
        // Cheap JSON errors first, before mapping gigabytes.
        JsonFields configFields = JsonFields.read(configFile);
        if (!configFields.node().isObject()) {
            throw new CheckpointException(configFile + " must hold a JSON object");
        }
        GenerationConfig generation = GenerationConfig.load(directory);

        Path index = directory.resolve(INDEX);
        Path single = directory.resolve(SINGLE_FILE);
        if (Files.isRegularFile(index)) {
            return openSharded(directory, configFields, generation, index);
        }
        List<Path> weightFiles;
        if (Files.isRegularFile(single)) {
            weightFiles = List.of(single);
        } else {
            // No canonical name: take every *.safetensors, as vLLM does for unindexed shard sets.
            weightFiles = list(directory, n -> n.endsWith(".safetensors"));
        }
        if (weightFiles.isEmpty()) {
            throw noWeights(directory);
        }
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> byTensor = new TreeMap<>();
            for (Path p : weightFiles) {
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.add(f);
                for (String name : f.tensorNames()) {
                    SafetensorsFile prev = byTensor.putIfAbsent(name, f);
                    if (prev != null) {
                        throw new CheckpointException("tensor " + name + " is in both " + prev.file()
                                + " and " + p + "; without " + INDEX + " we cannot tell which to use");
                    }
                }
            }
            return new Checkpoint(directory, configFields, generation, List.copyOf(opened),
                    Collections.unmodifiableMap(byTensor), describe(weightFiles, directory, null));
        } catch (RuntimeException e) {
            closeAll(opened, e);
            throw e;
        }
    }

    private static Checkpoint openSharded(Path directory, JsonFields configFields,
                                          GenerationConfig generation, Path index) {
        JsonFields f = JsonFields.read(index);
        JsonNode map = f.node().get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new CheckpointException(index + ": missing or empty \"weight_map\"");
        }
        // tensor -> shard path, validating shard names before touching any file.
        Map<String, Path> wanted = new TreeMap<>();
        Map<Path, SafetensorsFile> shards = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isTextual()) {
                throw new CheckpointException(index + ": weight_map[\"" + e.getKey() + "\"] must be a file name, got "
                        + e.getValue());
            }
            Path shard = directory.resolve(e.getValue().asText()).normalize();
            // An index is data from the internet: it must not send us reading outside the model.
            if (!shard.startsWith(directory) || shard.equals(directory)) {
                throw new CheckpointException(index + ": weight_map[\"" + e.getKey() + "\"] = \""
                        + e.getValue().asText() + "\" points outside " + directory);
            }
            if (!Files.isRegularFile(shard)) {
                throw new CheckpointException("shard " + shard + " (listed in " + index + " for tensor "
                        + e.getKey() + ") does not exist");
            }
            wanted.put(e.getKey(), shard);
            shards.put(shard, null);
        }
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            for (Path p : shards.keySet()) {
                SafetensorsFile sf = SafetensorsFile.open(p);
                opened.add(sf);
                shards.put(p, sf);
            }
            Map<String, SafetensorsFile> byTensor = new TreeMap<>();
            for (Map.Entry<String, Path> e : wanted.entrySet()) {
                SafetensorsFile sf = shards.get(e.getValue());
                if (!sf.has(e.getKey())) {
                    throw new CheckpointException(index + " maps tensor " + e.getKey() + " to " + e.getValue()
                            + ", which has no such tensor");
                }
                byTensor.put(e.getKey(), sf);
            }
            return new Checkpoint(directory, configFields, generation, List.copyOf(opened),
                    Collections.unmodifiableMap(byTensor),
                    describe(new ArrayList<>(shards.keySet()), directory, index));
        } catch (RuntimeException e) {
            closeAll(opened, e);
            throw e;
        }
    }

    private static CheckpointException noWeights(Path directory) {
        List<Path> pickles = list(directory, n -> n.endsWith(".bin") || n.endsWith(".pt")
                || n.endsWith(".pth") || n.endsWith(".ckpt") || n.equals("pytorch_model.bin.index.json"));
        if (!pickles.isEmpty()) {
            return new CheckpointException("checkpoint directory " + directory + " has only pickle weights ("
                    + pickles.stream().map(p -> p.getFileName().toString()).collect(Collectors.joining(", "))
                    + "); loading pickle can execute arbitrary code, so sparkmm reads safetensors only. "
                    + "Convert them to safetensors first (for example with transformers: "
                    + "model.save_pretrained(dir, safe_serialization=True)).");
        }
        return new CheckpointException("no weights in checkpoint directory " + directory + ": expected "
                + SINGLE_FILE + " or " + INDEX + " with its shards");
    }

    private static List<Path> list(Path dir, java.util.function.Predicate<String> nameFilter) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> nameFilter.test(p.getFileName().toString()) && Files.isRegularFile(p))
                    .sorted().collect(Collectors.toList());
        } catch (IOException e) {
            throw new CheckpointException("cannot list checkpoint directory " + dir + ": " + e, e);
        }
    }

    private static String describe(List<Path> files, Path dir, Path index) {
        String names = files.stream().map(p -> dir.relativize(p).toString()).collect(Collectors.joining(", "));
        return index == null ? names : names + " via " + index.getFileName();
    }

    private static void closeAll(List<SafetensorsFile> files, RuntimeException primary) {
        for (SafetensorsFile f : files) {
            try {
                f.close();
            } catch (RuntimeException e) {
                primary.addSuppressed(e);
            }
        }
    }

    public Path directory() {
        return directory;
    }

    /** config.json as read, for the family to parse (both of HF's layouts are the family's business). */
    public JsonFields configJson() {
        return configJson;
    }

    /** config.json's {@code architectures[0]}, e.g. "LlamaForCausalLM", or null when it names none. */
    public String architecture() {
        JsonNode archs = configJson.node().get("architectures");
        if (archs != null && archs.isArray() && !archs.isEmpty() && archs.get(0).isTextual()) {
            return archs.get(0).asText();
        }
        return null;
    }

    /** config.json's {@code model_type}, or null. */
    public String modelType() {
        JsonNode t = configJson.node().get("model_type");
        return t != null && t.isTextual() ? t.asText() : null;
    }

    public GenerationConfig generationConfig() {
        return generationConfig;
    }

    /** Every tensor name, sorted. */
    public Set<String> tensorNames() {
        return byTensor.keySet();
    }

    public boolean has(String name) {
        return byTensor.containsKey(name);
    }

    /** The named tensor; a missing one is an error naming the tensor and the files searched. */
    public SafeTensor tensor(String name) {
        if (closed) {
            throw new CheckpointException("checkpoint " + directory + " is closed; cannot read tensor " + name);
        }
        SafetensorsFile f = byTensor.get(name);
        if (f == null) {
            throw new CheckpointException("tensor " + name + " not found in checkpoint " + directory
                    + " (searched " + searched + ")");
        }
        return f.tensor(name);
    }

    /** Closes every weight file; idempotent. See {@link SafetensorsFile#close} for mapped views. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        for (SafetensorsFile f : files) {
            try {
                f.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "Checkpoint[" + directory + ", " + architecture() + ", " + byTensor.size() + " tensors]";
    }
}
