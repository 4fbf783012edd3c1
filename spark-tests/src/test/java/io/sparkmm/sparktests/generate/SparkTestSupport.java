package io.sparkmm.sparktests.generate;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.models.llava.TinyLlavaCheckpoint;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.processors.media.MediaSource;
import org.apache.spark.sql.SparkSession;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Shared fixtures: a session recipe, a tiny LLaVA checkpoint, PNG images, and the engine-alone oracle. */
final class SparkTestSupport {

    static final Path TARGET = Path.of("target").toAbsolutePath();

    private SparkTestSupport() {
    }

    /** A session that keeps everything on loopback and under target/ (no UI, no /tmp clutter). */
    static SparkSession.Builder session(String master, String name) {
        try {
            Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
            Files.createDirectories(TARGET.resolve("spark-local"));
            Files.createDirectories(TARGET.resolve("spark-home"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return SparkSession.builder().master(master).appName(name)
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.local.dir", TARGET.resolve("spark-local").toString())
                .config("spark.test.home", TARGET.resolve("spark-home").toString());
    }

    /**
     * Two executor JVMs (local-cluster[2,1,1024]) started from the Maven test classpath, with the
     * Vector API and a fast-starting JIT, once both have registered: tasks go wherever an executor is
     * up, so without the wait one executor would take every task.
     */
    static SparkSession localCluster(String name) throws InterruptedException {
        String fastStart = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";
        SparkSession spark = session("local-cluster[2,1,1024]", name)
                .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .config("spark.executorEnv.SPARK_SCALA_VERSION", "2.13")
                .config("spark.executorEnv.SPARK_SQL_TESTING", "1")
                .config("spark.executor.memory", "512m")
                .config("spark.executor.extraJavaOptions", "--add-modules jdk.incubator.vector " + fastStart
                        + " -Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"))
                .getOrCreate();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (spark.sparkContext().statusTracker().getExecutorInfos().length < 3) {
            if (System.nanoTime() > deadline) {
                spark.stop();
                throw new IllegalStateException("the two executors did not register in 60 s");
            }
            Thread.sleep(200);
        }
        return spark;
    }

    /** A local[2] session with sparkmm's SQL extensions and {@code model} as mm_generate's default model. */
    static SparkSession sqlSession(String name, Path model) {
        return session("local[2]", name)
                .config("spark.sql.extensions", "io.sparkmm.connector.sql.SparkmmExtensions")
                .config("spark.sparkmm.model", model.toString())
                .getOrCreate();
    }

    static Path checkpoint(String name) {
        return TinyLlavaCheckpoint.write(TARGET.resolve("checkpoints").resolve(name), TinyLlavaCheckpoint.Spec.llama());
    }

    static byte[] png(int seed) {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(24 + seed % 9, 20 + seed % 7, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                img.setRGB(x, y, r.nextInt(0xffffff));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /**
     * Benchmark rows (prompt, image): two thirds with a distinct image, one third text-only; prompts
     * and images distinct per round, so no round gets cache hits from another.
     */
    static List<org.apache.spark.sql.Row> benchmarkRows(int n, int round) {
        List<org.apache.spark.sql.Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] img = i % 3 == 2 ? null : png(10_000 * (round + 3) + i);
            rows.add(org.apache.spark.sql.RowFactory.create("Round " + round + ": what is in picture " + i + "?", img));
        }
        return rows;
    }

    /** One input of the engine-alone oracle: prompt text and optional image bytes. */
    record Input(String prompt, byte[] image) {
    }

    /**
     * The oracle: the same prompts through a separately loaded model and engine, in one batch,
     * with no Spark and no connector code. Greedy, so seeds play no part.
     */
    static List<String> engineAlone(Path model, List<Input> inputs, int maxTokens) {
        return engineAlone(model, inputs, maxTokens, EngineOptions.defaultDevice());
    }

    /** The oracle on {@code device}: greedy tokens can differ between backends, so compare like with like. */
    static List<String> engineAlone(Path model, List<Input> inputs, int maxTokens, String device) {
        List<String> out = new ArrayList<>();
        for (EngineResult r : engineAlone(model, inputs, SamplingParams.greedy(maxTokens), device)) {
            out.add(r.text());
        }
        return out;
    }

    /**
     * The oracle with any sampling parameters, whole results (tokens, finish reason, logprobs).
     * Meant for greedy or seed-independent parameters: the connector derives each row's seed.
     */
    static List<EngineResult> engineAlone(Path model, List<Input> inputs, SamplingParams params, String device) {
        return engineAlone(model, inputs, java.util.Collections.nCopies(inputs.size(), params), device);
    }

    /** The oracle with each input's own parameters (e.g. the connector's per-row seed). */
    static List<EngineResult> engineAlone(Path model, List<Input> inputs, List<SamplingParams> params, String device) {
        List<PromptInput> prompts = new ArrayList<>();
        for (Input in : inputs) {
            List<MediaSource> images = in.image() == null ? List.of() : List.of(MediaSource.ofBytes("img", in.image()));
            prompts.add(new PromptInput(in.prompt(), null, true, null, images, List.of(), List.of()));
        }
        return oracle(model, prompts, params, device);
    }

    /** The oracle for any prompts (images, audio, video, processor kwargs), all with {@code params}, on the default device. */
    static List<EngineResult> engineAlone(Path model, List<PromptInput> prompts, SamplingParams params) {
        return oracle(model, prompts, java.util.Collections.nCopies(prompts.size(), params), EngineOptions.defaultDevice());
    }

    /** The prompts in one batch through their own engine; a request that fails fails the test. */
    private static List<EngineResult> oracle(Path model, List<PromptInput> prompts, List<SamplingParams> params,
                                             String device) {
        try (EngineSession session = EngineSession.open(model.toString(), EngineOptions.defaults().withDevice(device)
                .withEngine(EngineConfig.defaults()).withProcessorCacheBytes(64L << 20))) {
            Engine engine = session.engine();
            MultimodalProcessor processor = session.requests();
            List<RequestHandle> handles = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                handles.add(engine.submit(processor.build(null, prompts.get(i), params.get(i))));
            }
            List<EngineResult> out = new ArrayList<>();
            for (RequestHandle h : handles) {
                EngineResult r = h.result().join();
                if (!r.ok()) {
                    throw new AssertionError("oracle request failed: " + r.error());
                }
                out.add(r);
            }
            return out;
        }
    }

    static Map<String, String> noExtra() {
        return Map.of();
    }
}
