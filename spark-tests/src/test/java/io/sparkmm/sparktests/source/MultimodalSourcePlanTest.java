package io.sparkmm.sparktests.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.SparkPlan;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the multimodal source plans: pruning, partitions by bytes, option errors, empty and missing paths. */
class MultimodalSourcePlanTest {

    private static final int FILES = 10;
    private static final int FILE_BYTES = 1000;

    @TempDir
    static Path root;
    static SparkSession spark;

    @BeforeAll
    static void setUp() throws IOException {
        // ten PNGs of exactly 1000 bytes: a real header, then padding after IEND (decoders ignore it)
        Path one = root.resolve("one.png");
        TestMedia.image(one, "png", 8, 8);
        byte[] png = Files.readAllBytes(one);
        Files.delete(one);
        byte[] padded = java.util.Arrays.copyOf(png, FILE_BYTES);
        Files.createDirectories(root.resolve("sized"));
        for (int i = 0; i < FILES; i++) {
            Files.write(root.resolve("sized/f" + i + ".png"), padded);
        }
        Files.createDirectories(root.resolve("empty/sub"));
        spark = SparkTestSession.start("MultimodalSourcePlanTest");
    }

    @AfterAll
    static void tearDown() {
        if (spark != null) {
            spark.stop();
        }
    }

    private Dataset<Row> sized(String... options) {
        var reader = spark.read().format("multimodal");
        for (int i = 0; i < options.length; i += 2) {
            reader = reader.option(options[i], options[i + 1]);
        }
        return reader.load(root.resolve("sized").toString());
    }

    /** A custom metric of the scan node, after the DataFrame ran. */
    private static long scanMetric(Dataset<Row> df, String name) {
        SparkPlan plan = df.queryExecution().executedPlan();
        for (SparkPlan leaf : scala.jdk.javaapi.CollectionConverters.asJava(plan.collectLeaves())) {
            if (leaf.metrics().contains(name)) {
                return leaf.metrics().apply(name).value();
            }
        }
        throw new AssertionError("no metric " + name + " in " + plan);
    }

    @Test
    void contentIsNotReadUnlessSelected() {
        Dataset<Row> pruned = sized().select("path", "length");
        assertThat(pruned.collectAsList()).hasSize(FILES);
        assertThat(scanMetric(pruned, "contentBytesRead")).isZero();
        assertThat(scanMetric(pruned, "headerBytesRead")).as("modality not needed: files not even opened").isZero();
        String plan = pruned.queryExecution().executedPlan().toString();
        assertThat(plan).contains("readColumns=[path, length]").doesNotContain("content");

        Dataset<Row> modality = sized().select("path", "modality");
        assertThat(modality.collectAsList()).allSatisfy(r -> assertThat(r.getString(1)).isEqualTo("image"));
        assertThat(scanMetric(modality, "contentBytesRead")).isZero();
        assertThat(scanMetric(modality, "headerBytesRead")).isPositive().isLessThan((long) FILES * FILE_BYTES);

        Dataset<Row> full = sized().select("path", "content");
        assertThat(full.collectAsList()).hasSize(FILES);
        assertThat(scanMetric(full, "contentBytesRead")).isEqualTo((long) FILES * FILE_BYTES);
        assertThat(full.queryExecution().executedPlan().toString()).contains("readColumns=[path, content]");
    }

    @Test
    void countReadsNothing() {
        Dataset<Row> df = sized();
        assertThat(df.count()).isEqualTo(FILES);
    }

    @Test
    void partitionsPackedByBytes() {
        // no open cost, one partition wanted at least: 3 files of 1000 fit in 3000
        assertThat(partitions("maxPartitionBytes", "3000", "openCostInBytes", "0", "minPartitions", "1")).isEqualTo(4);
        // each file costs 1500 with the open cost: 2 per partition
        assertThat(partitions("maxPartitionBytes", "3000", "openCostInBytes", "500", "minPartitions", "1")).isEqualTo(5);
        // a large limit: spread over minPartitions (10000 / 2 = 5000 bytes each)
        assertThat(partitions("maxPartitionBytes", "1g", "openCostInBytes", "0", "minPartitions", "2")).isEqualTo(2);
        // a file larger than the limit gets a partition of its own
        assertThat(partitions("maxPartitionBytes", "10", "openCostInBytes", "0")).isEqualTo(FILES);
    }

    @Test
    void partitionDefaultsComeFromTheSession() {
        // 10 x (1000 + 4 MiB open cost) over defaultParallelism 2: about 21 MB each, 5 files fit
        assertThat(partitions()).isEqualTo(2);
        spark.conf().set("spark.sql.files.maxPartitionBytes", "5000");
        spark.conf().set("spark.sql.files.openCostInBytes", "0");
        try {
            assertThat(partitions()).isEqualTo(2);
            assertThat(partitions("minPartitions", "5")).isEqualTo(5);
        } finally {
            spark.conf().unset("spark.sql.files.maxPartitionBytes");
            spark.conf().unset("spark.sql.files.openCostInBytes");
        }
    }

    private int partitions(String... options) {
        Dataset<Row> df = sized(options).select("path");
        int n = df.rdd().getNumPartitions();
        assertThat(df.count()).isEqualTo(FILES);
        return n;
    }

    @Test
    void unknownOptionNamesKeyValueAndNearestKey() {
        assertThatThrownBy(() -> sized("maxPartitonBytes", "1m"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'maxPartitonBytes'")
                .hasMessageContaining("'1m'")
                .hasMessageContaining("did you mean 'maxPartitionBytes'");
        assertThatThrownBy(() -> sized("modalities", "image"))
                .hasMessageContaining("did you mean 'modality'");
    }

    @Test
    void badValueNamesKeyAndValue() {
        assertThatThrownBy(() -> sized("probe", "yes"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'probe'").hasMessageContaining("'yes'").hasMessageContaining("true or false");
        assertThatThrownBy(() -> sized("modality", "image,text"))
                .hasMessageContaining("'modality'").hasMessageContaining("'image,text'");
        assertThatThrownBy(() -> sized("maxPartitionBytes", "lots"))
                .hasMessageContaining("'maxPartitionBytes'").hasMessageContaining("'lots'");
        assertThatThrownBy(() -> sized("minPartitions", "0"))
                .hasMessageContaining("'minPartitions'").hasMessageContaining("'0'");
        assertThat(sized("MAXPARTITIONBYTES", "2k").count()).as("keys are case-insensitive").isEqualTo(FILES);
    }

    @Test
    void emptyDirectoryIsAnEmptyDataFrame() {
        Dataset<Row> df = spark.read().format("multimodal").option("probe", "true").load(root.resolve("empty").toString());
        assertThat(df.collectAsList()).isEmpty();
        assertThat(df.schema().fieldNames()).contains("content", "width");
    }

    @Test
    void missingPathFailsOnLoadNamingIt() {
        Path missing = root.resolve("no-such-dir");
        assertThatThrownBy(() -> spark.read().format("multimodal").load(missing.toString()))
                .isInstanceOf(AnalysisException.class)
                .hasMessageContaining("Path does not exist")
                .hasMessageContaining(missing.toString());
        assertThatThrownBy(() -> spark.read().format("multimodal").load(root + "/nothing-*.png"))
                .isInstanceOf(AnalysisException.class)
                .hasMessageContaining("nothing-*.png");
    }
}
