package io.sparkmm.sparksubmit;

import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.spark.launcher.JavaModuleOptions;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's spark-submit line, for real: org.apache.spark.deploy.SparkSubmit in a JVM of its
 * own whose class path is Spark's jars alone (a SPARK_HOME with jars/ and conf/, as a Spark
 * download has), {@code --master local-cluster[2,1,1024]} (a standalone master and two workers,
 * each starting an executor JVM from that SPARK_HOME), {@code --jars} the shaded sparkmm-spark
 * jar and the examples as the application jar. The job draws fresh shape images plus a corrupt
 * file, asks every image four questions on the embedded default model and exits non-zero below
 * its 98% bar. Nothing of sparkmm is on any class path: the test JVM has Spark only, and driver and
 * executors get sparkmm from the two submitted jars.
 */
class SparkSubmitShadedJarTest {

    static final Path TARGET = Path.of("target").toAbsolutePath();
    static final int IMAGES = 50;       // 98% of 50 still allows one miss per question
    static final long SEED = 0xC0FFEEL; // the images ShapeQuestionsJobTest scores in local[2]
    static final String CORRUPT = "not-an-image.png";

    @Test
    void theExamplesJobRunsOnTheShadedJarUnderSparkSubmitInALocalCluster() throws Exception {
        Path work = TARGET.resolve("spark-submit");
        deleteRecursively(work);
        Path sparkHome = sparkHome(work.resolve("spark-home"));
        Path sparkmmJar = Path.of(System.getProperty("sparkmm.spark.jar"));
        assertThat(sparkmmJar.getFileName().toString()).as("the shaded jar, built by spark-jar at process-classes")
                .matches("sparkmm-spark-.*\\.jar");
        assertThat(sparkmmJar).isRegularFile();
        Path appJar = applicationJar(Path.of(System.getProperty("sparkmm.examples")), work.resolve("app"));
        Path images = work.resolve("images");
        Path output = work.resolve("answers.parquet");
        Path tmp = Files.createDirectories(work.resolve("tmp"));
        // JavaCPP's and DJL's native caches start empty, so the natives they load can only come from the jar
        Path javacppCache = work.resolve("javacpp-cache");
        Path djlCache = work.resolve("djl-cache");
        List<String> jvmProps = List.of("-Djava.io.tmpdir=" + tmp, "-Dorg.bytedeco.javacpp.cachedir=" + javacppCache,
                "-DENGINE_CACHE_DIR=" + djlCache, "-DDJL_CACHE_DIR=" + djlCache, "-Dai.djl.offline=true");
        // Spark splits extraJavaOptions at spaces
        assertThat(work.toString()).as("a work folder without spaces").doesNotContain(" ");

        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // what bin/spark-submit's launcher gives the driver JVM (client mode: SparkSubmit runs the job in it)
        command.addAll(List.of(JavaModuleOptions.defaultModuleOptionArray()));
        command.addAll(jvmProps);
        command.addAll(List.of("-Xmx1g", "-cp", sparkHome.resolve("conf") + File.pathSeparator + sparkHome.resolve("jars")
                + File.separator + "*", "org.apache.spark.deploy.SparkSubmit"));
        command.addAll(List.of("--master", "local-cluster[2,1,1024]",
                "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
                "--conf", "spark.ui.enabled=false",
                "--conf", "spark.local.dir=" + Files.createDirectories(work.resolve("local")),
                "--conf", "spark.sql.shuffle.partitions=4",
                "--conf", "spark.executor.extraJavaOptions=" + String.join(" ", jvmProps),
                "--conf", "spark.executorEnv.OPENCV_LOG_LEVEL=OFF",
                "--jars", sparkmmJar.toString(),
                "--class", "io.sparkmm.examples.ShapeQuestionsJob", appJar.toString(),
                "--images", Integer.toString(IMAGES), "--seed", Long.toString(SEED), "--corrupt", "true",
                "--dir", images.toString(), "--output", output.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(work.resolve("spark-submit.log").toFile());
        Map<String, String> env = pb.environment();
        // nothing from the surrounding build may widen a class path or switch Spark into its test mode
        for (String leak : List.of("CLASSPATH", "SPARK_DIST_CLASSPATH", "SPARK_PREPEND_CLASSES", "SPARK_TESTING",
                "SPARK_SQL_TESTING", "SPARK_CONF_DIR", "HADOOP_CONF_DIR", "YARN_CONF_DIR", "JAVA_TOOL_OPTIONS")) {
            env.remove(leak);
        }
        env.put("SPARK_HOME", sparkHome.toString());      // the workers start executors from its jars/
        env.put("SPARK_SCALA_VERSION", "2.13");            // what bin/load-spark-env.sh sets
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("OPENCV_LOG_LEVEL", "OFF");

        long t0 = System.nanoTime();
        Process submit = pb.start();
        boolean finished = submit.waitFor(300, TimeUnit.SECONDS);
        if (!finished) {
            submit.descendants().forEach(ProcessHandle::destroyForcibly);
            submit.destroyForcibly().waitFor();
        }
        String log = Files.readString(work.resolve("spark-submit.log"));
        System.out.printf("spark-submit ran %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertThat(finished).as("spark-submit finished within 300 s; log:%n%s", tail(log)).isTrue();
        assertThat(submit.exitValue()).as("exit code (1 = below the 98%% bar); log:%n%s", tail(log)).isZero();
        assertThat(log).contains("every question type at or above 98%");

        assertAnswers(output);
        assertExecutorsRanFromTheSubmittedJars(sparkHome.resolve("work"), sparkmmJar, appJar);
        // the natives each JVM loaded, extracted from the one jar that has them
        assertThat(filesUnder(javacppCache)).anyMatch(f -> f.endsWith("libjniopencv_imgcodecs.so"))
                .anyMatch(f -> f.endsWith("libjnijavacpp.so"));
        assertThat(filesUnder(djlCache)).anyMatch(f -> f.endsWith("libtokenizers.so"));
    }

    /**
     * One row per image and question; the corrupt file's four rows carry the error, and only they.
     * Read with parquet-hadoop (one of Spark's jars), not a second Spark session: cheaper, and it
     * checks the files themselves.
     */
    private static void assertAnswers(Path output) throws IOException {
        List<Path> parts;
        try (Stream<Path> s = Files.list(output)) {
            parts = s.filter(p -> p.getFileName().toString().endsWith(".parquet")).toList();
        }
        assertThat(output.resolve("_SUCCESS")).as("the write committed").isRegularFile();
        List<Answer> rows = new ArrayList<>();
        for (Path part : parts) {
            try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(),
                    new org.apache.hadoop.fs.Path(part.toUri())).withConf(new Configuration()).build()) {
                for (Group g = reader.read(); g != null; g = reader.read()) {
                    rows.add(new Answer(field(g, "path"), field(g, "prompt"), field(g, "answer"), field(g, "error")));
                }
            }
        }
        assertThat(rows).hasSize((IMAGES + 1) * 4);
        Map<String, List<Answer>> byPath = rows.stream().collect(Collectors.groupingBy(Answer::path));
        assertThat(byPath).hasSize(IMAGES + 1);
        List<String> prompts = rows.stream().map(Answer::prompt).distinct().sorted().toList();
        assertThat(prompts).containsExactly("Describe the image.", "What color is the shape?",
                "What is the background color?", "What shape is this?");
        byPath.forEach((path, perImage) -> assertThat(perImage.stream().map(Answer::prompt).sorted().toList())
                .as(path).isEqualTo(prompts));
        for (Answer r : rows) {
            if (r.path().endsWith("/" + CORRUPT)) {
                assertThat(r.error()).as("error of %s", r).isNotNull().contains(CORRUPT);
            } else {
                assertThat(r.error()).as("error of %s", r).isNull();
                assertThat(r.answer()).as("answer of %s", r).isNotBlank();
            }
        }
    }

    /** A row of the job's output, as far as this test reads it. */
    record Answer(String path, String prompt, String answer, String error) {
    }

    /** A string column, null when the row has no value (Parquet stores no entry for a null). */
    private static String field(Group g, String name) {
        return g.getFieldRepetitionCount(name) == 0 ? null : g.getString(name, 0);
    }

    /**
     * The standalone workers' executor folders: two executors, each launched with SPARK_HOME's
     * class path only, each having fetched both submitted jars from the driver.
     */
    private static void assertExecutorsRanFromTheSubmittedJars(Path workerWork, Path sparkmmJar, Path appJar)
            throws IOException {
        List<Path> executorDirs;
        try (Stream<Path> s = Files.list(workerWork)) {
            List<Path> apps = s.filter(Files::isDirectory).toList();
            assertThat(apps).as("one application under %s", workerWork).hasSize(1);
            try (Stream<Path> e = Files.list(apps.get(0))) {
                executorDirs = e.filter(Files::isDirectory).toList();
            }
        }
        assertThat(executorDirs).hasSize(2);
        for (Path dir : executorDirs) {
            String stderr = Files.readString(dir.resolve("stderr"));
            String launch = stderr.lines().filter(l -> l.startsWith("Spark Executor Command:")).findFirst().orElse("");
            assertThat(launch).as("executor launch line in %s", dir).contains("\"-cp\"");
            String classPath = launch.replaceAll(".*\"-cp\" \"([^\"]*)\".*", "$1");
            assertThat(classPath.split(File.pathSeparator)).as("executor class path")
                    .allMatch(e -> e.startsWith(workerWork.getParent().toString()), "inside SPARK_HOME");
            assertThat(filesUnder(dir)).as("jars the executor in %s fetched", dir)
                    .anyMatch(f -> f.endsWith("/" + sparkmmJar.getFileName()))
                    .anyMatch(f -> f.endsWith("/" + appJar.getFileName()));
        }
    }

    /**
     * A Spark installation's layout: jars/ holding Spark's jars (links into the Maven repository:
     * the runtime closure of spark-sql and spark-mllib, which is all this module depends on at
     * run time) and conf/ with a quieter log4j2 configuration.
     */
    private static Path sparkHome(Path home) throws IOException {
        Path jars = Files.createDirectories(home.resolve("jars"));
        String list = Files.readString(Path.of(System.getProperty("spark.jars.list"))).trim();
        List<String> entries = List.of(list.split(File.pathSeparator));
        assertThat(entries).as("Spark's runtime jars").hasSizeGreaterThan(100)
                .anyMatch(e -> e.contains("spark-core_")).noneMatch(e -> e.contains("sparkmm"));
        for (String entry : entries) {
            Path jar = Path.of(entry);
            Path link = jars.resolve(jar.getFileName());
            assertThat(link).as("two Spark jars with one file name").doesNotExist();
            Files.createSymbolicLink(link, jar);
        }
        Path conf = Files.createDirectories(home.resolve("conf"));
        Files.writeString(conf.resolve("log4j2.properties"), String.join("\n",
                "rootLogger.level = warn",
                "rootLogger.appenderRef.stderr.ref = console",
                "appender.console.type = Console",
                "appender.console.name = console",
                "appender.console.target = SYSTEM_ERR",
                "appender.console.layout.type = PatternLayout",
                "appender.console.layout.pattern = %d{HH:mm:ss.SSS} %p %c{1}: %m%n%ex",
                ""));
        return home;
    }

    /**
     * The examples as an application jar. Maven hands over their jar after `package`; in `mvn test`
     * only their classes folder exists, which is jarred here, as `mvn package` would.
     */
    private static Path applicationJar(Path examples, Path dir) throws IOException {
        if (Files.isRegularFile(examples)) {
            return examples;
        }
        assertThat(examples.resolve("io/sparkmm/examples/ShapeQuestionsJob.class")).isRegularFile();
        assertThat(examples.resolve("default-model/model.safetensors")).as("the embedded default model").isRegularFile();
        Path jar = Files.createDirectories(dir).resolve("sparkmm-examples.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(examples)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                out.putNextEntry(new JarEntry(examples.relativize(f).toString().replace(File.separatorChar, '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
        return jar;
    }

    private static List<String> filesUnder(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(Path::toString).toList();
        }
    }

    private static String tail(String log) {
        List<String> lines = log.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size()));
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                    Files.delete(p);
                }
            }
        }
    }
}
