package io.sparkmm.sparkjar;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the spark-submit jar (target/sparkmm-spark-VERSION.jar, built at process-classes) holds:
 * every sparkmm module and its registrations, the libraries Spark also ships only under
 * io.sparkmm.shaded, nothing a cluster provides, and natives for linux-x86_64 alone. That it runs
 * is spark-submit-tests' job; this class pins down what a cluster would put on its class path.
 */
class SparkJarContentsTest {

    private static JarFile jar;
    private static List<String> names;

    /** Packages of libraries Spark (or a Databricks runtime) also ships: they must be relocated. */
    private static final List<String> RELOCATED = List.of("com/google/common/", "com/google/thirdparty/",
            "com/google/protobuf/", "com/google/gson/", "com/google/re2j/", "com/fasterxml/jackson/",
            "org/apache/commons/", "org/yaml/snakeyaml/", "javassist/", "org/apache/lucene/");

    /**
     * Every class in the jar is in one of these. Each was a decision: ours (and what we relocated),
     * libraries whose native code binds to their class names (JavaCPP presets, OpenCV's Java API,
     * DJL, JNA, ONNX Runtime), and jinjava with its own libraries and jtokkit (Qwen's tiktoken BPE), which
     * no Spark distribution has. A new
     * dependency fails here until it is either relocated in spark-jar/pom.xml or added with a reason.
     */
    private static final List<String> CLASS_PACKAGES = List.of("io/sparkmm/", "org/bytedeco/", "org/opencv/",
            "cl/eye/", "ai/djl/", "com/sun/jna/", "com/hubspot/", "jinjava/", "ch/obermuhlner/",
            "com/googlecode/ipv6/", "org/derive4j/", "org/immutables/", "com/knuddels/", "ai/onnxruntime/");

    @BeforeAll
    static void open() throws IOException {
        String location = System.getProperty("sparkmm.spark.jar");
        assertThat(location).as("the pom passes the jar's path as sparkmm.spark.jar").isNotBlank();
        Path path = Path.of(location);
        assertThat(path).as("built at process-classes by the shade plugin").isRegularFile();
        jar = new JarFile(path.toFile());
        names = Collections.list(jar.entries()).stream().map(ZipEntry::getName).toList();
    }

    @AfterAll
    static void close() throws IOException {
        if (jar != null) {
            jar.close();
        }
    }

    @Test
    void everyModuleAndEveryServiceRegistrationOfOursIsInside() throws IOException {
        assertThat(names).contains("io/sparkmm/connector/generate/MultimodalGenerator.class",
                "io/sparkmm/engine/EngineSession.class", "io/sparkmm/processors/ConfigReader.class",
                "io/sparkmm/kernels/BackendProvider.class");
        // the registries as the modules declare them (read from the test class path, which has the
        // modules' own resources): every provider line must survive the merge, with its class
        for (String service : List.of("io.sparkmm.kernels.BackendProvider", "io.sparkmm.engine.models.ModelFamily",
                "org.apache.spark.sql.sources.DataSourceRegister")) {
            Set<String> declared = new LinkedHashSet<>();
            for (URL url : Collections.list(getClass().getClassLoader().getResources("META-INF/services/" + service))) {
                try (InputStream in = url.openStream()) {
                    declared.addAll(providers(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
                }
            }
            assertThat(declared).as(service + " declared by the modules").isNotEmpty();
            Set<String> merged = providers(text("META-INF/services/" + service));
            assertThat(merged).as(service).containsAll(declared);
            for (String provider : merged) {
                assertThat(names).as(service + " provider class").contains(provider.replace('.', '/') + ".class");
            }
        }
        assertThat(providers(text("META-INF/services/org.apache.spark.sql.sources.DataSourceRegister")))
                .containsExactly("io.sparkmm.connector.source.MultimodalDataSource");
    }

    @Test
    void librariesSparkAlsoShipsAreOnlyThereRelocated() throws IOException {
        for (String pkg : RELOCATED) {
            assertThat(names).as("unrelocated " + pkg).noneMatch(n -> n.startsWith(pkg));
            assertThat(names).as("not named in a service file either").noneMatch(
                    n -> n.startsWith("META-INF/services/" + pkg.replace('/', '.')));
        }
        assertThat(names).contains("io/sparkmm/shaded/com/google/common/collect/ImmutableList.class",
                "io/sparkmm/shaded/com/fasterxml/jackson/databind/ObjectMapper.class",
                "io/sparkmm/shaded/com/google/gson/Gson.class",
                "io/sparkmm/shaded/org/apache/commons/lang3/StringUtils.class");
        // Relocation must also rewrite the references: a class still naming com/google/common/...
        // (or com.google.common... for Class.forName) would load Spark's Guava at run time. Scan
        // every class's constant pool text for a name not preceded by the shaded prefix.
        Pattern unrelocated = Pattern.compile("(?<![/.\\w])(" + String.join("|",
                RELOCATED.stream().map(p -> Pattern.quote(p.substring(0, p.length() - 1))).toList())
                + ")([/.])\\w");
        List<String> offenders = new ArrayList<>();
        for (String name : names) {
            if (name.endsWith(".class")) {
                String text = new String(jar.getInputStream(jar.getEntry(name)).readAllBytes(), StandardCharsets.ISO_8859_1);
                Matcher m = unrelocated.matcher(text);
                while (m.find()) {
                    // a relocated library's prose about itself (javassist's usage lines and the Java
                    // source it generates) is text, not a reference; dotted names elsewhere are
                    boolean ownProse = m.group(2).equals(".")
                            && name.startsWith("io/sparkmm/shaded/" + m.group(1).replace('.', '/') + "/");
                    if (!ownProse) {
                        offenders.add(name + " -> " + m.group());
                        break;
                    }
                }
            }
        }
        assertThat(offenders).as("classes referring to an unrelocated copy").isEmpty();
    }

    @Test
    void nothingTheClusterAlreadyHasAndNoUnreviewedLibrary() {
        for (String provided : List.of("org/apache/spark/", "scala/", "org/apache/hadoop/", "org/slf4j/",
                "org/apache/log4j/", "org/apache/logging/", "javafx/", "com/sun/javafx/", "javax/annotation/")) {
            assertThat(names).as(provided).noneMatch(n -> n.startsWith(provided));
        }
        Set<String> unreviewed = new TreeSet<>();
        for (String name : names) {
            if (name.endsWith(".class") && CLASS_PACKAGES.stream().noneMatch(name::startsWith)) {
                unreviewed.add(name.substring(0, name.lastIndexOf('/') + 1));
            }
        }
        assertThat(unreviewed).as("packages no decision covers").isEmpty();
        assertThat(names).as("sparkmm's own classes are never relocated")
                .noneMatch(n -> n.startsWith("io/sparkmm/shaded/io/sparkmm/"));
    }

    @Test
    void nativesAreForLinuxX8664Only() {
        assertThat(names).contains(
                "org/bytedeco/javacpp/linux-x86_64/libjnijavacpp.so",
                "org/bytedeco/opencv/linux-x86_64/libjniopencv_core.so",
                "org/bytedeco/opencv/linux-x86_64/libjniopencv_imgcodecs.so",
                "org/bytedeco/ffmpeg/linux-x86_64/libjniavformat.so",
                "org/bytedeco/openblas/linux-x86_64/libjniopenblas.so",
                "org/bytedeco/cuda/linux-x86_64/libjnicudart.so",
                "native/lib/linux-x86_64/cpu/libtokenizers.so",
                "com/sun/jna/linux-x86-64/libjnidispatch.so",
                "ai/onnxruntime/native/linux-x64/libonnxruntime.so",
                "ai/onnxruntime/native/linux-x64/libonnxruntime4j_jni.so");
        Pattern nativeLib = Pattern.compile(".*\\.(so(\\.[0-9.]+)?|dll|dylib|jnilib|a)$");
        List<String> natives = names.stream().filter(n -> nativeLib.matcher(n).matches()).toList();
        assertThat(natives).hasSizeGreaterThan(20)
                .allMatch(n -> n.contains("/linux-x86_64/") || n.contains("/linux-x86-64/")
                        || n.startsWith("ai/onnxruntime/native/linux-x64/"), "under a linux-x86_64 folder (ONNX Runtime: linux-x64)");
        assertThat(names).as("ONNX Runtime's other platforms").noneMatch(n -> n.startsWith("ai/onnxruntime/native/")
                && !n.startsWith("ai/onnxruntime/native/linux-x64/") && !n.equals("ai/onnxruntime/native/"));
        // JavaCPP checks each preset's version against its pom.properties when it loads the natives
        // (and warns on every load without them), so the Maven metadata of the presets stays
        for (String preset : List.of("javacpp", "ffmpeg", "opencv", "openblas", "cuda")) {
            assertThat(names).contains("META-INF/maven/org.bytedeco/" + preset + "/pom.properties");
        }
    }

    @Test
    void aPlainUnsignedJarOfReasonableSize() throws IOException {
        assertThat(names).noneMatch(n -> n.matches("META-INF/[^/]+\\.(SF|DSA|RSA|EC)"));
        assertThat(names).noneMatch(n -> n.endsWith("module-info.class"));
        assertThat(names).noneMatch(n -> n.startsWith("META-INF/versions/"));
        // natives are most of it (FFmpeg, OpenCV, OpenBLAS, tokenizers, CUDA wrappers: ~95 MiB;
        // ONNX Runtime's linux-x64 library adds ~11 MiB);
        // a jump means another platform's natives or a large library came in
        assertThat(Files.size(Path.of(jar.getName()))).isLessThan(120L << 20);
    }

    private static String text(String entry) throws IOException {
        ZipEntry e = jar.getEntry(entry);
        assertThat(e).as(entry).isNotNull();
        return new String(jar.getInputStream(e).readAllBytes(), StandardCharsets.UTF_8);
    }

    private static Set<String> providers(String serviceFile) {
        Set<String> out = new LinkedHashSet<>();
        for (String line : serviceFile.split("\n")) {
            String l = line.replaceAll("#.*", "").trim();
            if (!l.isEmpty()) {
                out.add(l);
            }
        }
        return out;
    }
}
