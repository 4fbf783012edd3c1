package io.sparkmm.sparktests.source;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/** The local[2] session of one test class, with every file Spark writes under target/. */
final class SparkTestSession {

    private SparkTestSession() {
    }

    static SparkSession start(String appName) {
        Path target = Path.of("target").toAbsolutePath();
        try {
            // surefire points java.io.tmpdir here; JavaCPP and Spark unpack into it
            Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
            Files.createDirectories(target.resolve("spark-local"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return SparkSession.builder()
                .appName(appName)
                .master("local[2]")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.sql.warehouse.dir", target.resolve("spark-warehouse").toString())
                .config("spark.local.dir", target.resolve("spark-local").toString())
                .getOrCreate();
    }
}
