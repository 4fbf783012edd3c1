package io.sparkmm.processors.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.processors.NodeOracle;
import io.sparkmm.processors.audio.WhisperFeatureExtractor;
import io.sparkmm.processors.audio.WhisperFeatureExtractorConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Clips/s per core of Whisper log-mel feature extraction with Qwen2-Audio's settings (128 mels,
 * 16 kHz, n_fft 400, hop 160, padded to 30 s), Java vs transformers.js's WhisperFeatureExtractor on
 * the same float32 clips. Both sides hold the decoded samples before the clock starts and time the
 * extractor alone, one clip at a time on one thread, after one warm-up pass; the two sides run one
 * after the other in this process's run, rounds alternating which goes first.
 *
 * <p>Not a test. Run from the repository root after {@code mvn -pl processors -am test-compile}:
 * <pre>
 * mvn -q -o -pl processors exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=io.sparkmm.processors.bench.AudioFeatureBenchmark -Dexec.args="16 10 3"
 * </pre>
 * Arguments: number of distinct clips (default 16), seconds per clip (default 10; up to 30 is one
 * window), rounds (default 3; each round times 2 passes over the clips on each side).
 */
public final class AudioFeatureBenchmark {

    private static final int RATE = 16000;
    private static final int PASSES = 2;

    private AudioFeatureBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 16;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 10;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        Path dir = Files.createDirectories(Path.of("target/bench/audio").toAbsolutePath());
        ObjectMapper json = new ObjectMapper();
        JsonNode config = json.readTree("""
                {"feature_size": 128, "sampling_rate": 16000, "hop_length": 160, "chunk_length": 30,
                 "n_fft": 400, "n_samples": 480000, "nb_max_frames": 3000, "padding_value": 0.0,
                 "padding_side": "right", "return_attention_mask": true}""");
        ObjectNode manifest = json.createObjectNode();
        manifest.set("whisperConfig", config);
        ArrayNode entries = manifest.putArray("audio");
        List<float[]> clips = new ArrayList<>();
        Random random = new Random(5);
        int n = (int) Math.round(seconds * RATE);
        for (int c = 0; c < count; c++) {
            float[] clip = new float[n];
            double f = 110 + 40 * c;
            for (int i = 0; i < n; i++) {
                clip[i] = (float) (0.4 * Math.sin(2 * Math.PI * f * i / RATE) + 0.1 * random.nextGaussian());
            }
            clips.add(clip);
            ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : clip) {
                b.putFloat(v);
            }
            Path file = dir.resolve("clip_" + c + ".f32");
            Files.write(file, b.array());
            entries.addObject().put("input", file.getFileName().toString());
        }
        Path manifestFile = dir.resolve("manifest.json");
        json.writeValue(manifestFile.toFile(), manifest);

        WhisperFeatureExtractor extractor = new WhisperFeatureExtractor(
                WhisperFeatureExtractorConfig.fromJson(config, "AudioFeatureBenchmark"));
        double sink = 0;
        for (float[] clip : clips) {
            sink += extractor.extract(clip)[0];   // warm-up (and JIT) outside the clock
        }
        List<Double> javaRates = new ArrayList<>();
        List<Double> nodeRates = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            boolean javaFirst = r % 2 == 0;
            if (!javaFirst) {
                nodeRates.add(node(json, manifestFile));
            }
            long start = System.nanoTime();
            for (int p = 0; p < PASSES; p++) {
                for (float[] clip : clips) {
                    sink += extractor.extract(clip)[0];
                }
            }
            javaRates.add(count * PASSES / ((System.nanoTime() - start) / 1e9));
            if (javaFirst) {
                nodeRates.add(node(json, manifestFile));
            }
        }
        System.out.printf(Locale.ROOT, "Whisper features (128 mels, 30 s window), %d clips of %.1f s, %d rounds x %d"
                + " passes, 1 thread (checksum %.3f)%n", count, seconds, rounds, PASSES, sink);
        for (int r = 0; r < rounds; r++) {
            System.out.printf(Locale.ROOT, "  round %d: Java %7.1f clips/s, transformers.js %7.1f clips/s, ratio %.2f%n",
                    r, javaRates.get(r), nodeRates.get(r), javaRates.get(r) / nodeRates.get(r));
        }
        double java = median(javaRates);
        double node = median(nodeRates);
        System.out.printf(Locale.ROOT, "  median: Java %.1f clips/s (%.2f ms/clip), transformers.js %.1f clips/s"
                + " (%.2f ms/clip), ratio Java / transformers.js %.2f%n", java, 1000 / java, node, 1000 / node, java / node);
    }

    /** One timed transformers.js pass set in a fresh node process on one core. */
    private static double node(ObjectMapper json, Path manifest) throws Exception {
        JsonNode out = json.readTree(NodeOracle.run(600, Map.of("UV_THREADPOOL_SIZE", "1"),
                "bench-whisper", manifest.toString(), String.valueOf(PASSES)));
        return out.get("clipsPerSecond").asDouble();
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int m = sorted.size() / 2;
        return sorted.size() % 2 == 1 ? sorted.get(m) : (sorted.get(m - 1) + sorted.get(m)) / 2;
    }
}
