package io.sparkmm.examples;

import org.apache.spark.sql.SparkSession;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The examples' command lines: {@code --name value} pairs, with the usage line in every error, and
 * the Spark session they ask for ({@code --master} is for local runs; under spark-submit it is left
 * out and spark-submit's own is used).
 */
final class JobArgs {

    private final Map<String, String> values;
    private final String usage;

    private JobArgs(Map<String, String> values, String usage) {
        this.values = values;
        this.usage = usage;
    }

    static JobArgs parse(String[] argv, String usage) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < argv.length; i++) {
            String k = argv[i];
            if (!k.startsWith("--") || i + 1 >= argv.length) {
                throw new IllegalArgumentException("expected --name value pairs, got '" + k + "'; usage: " + usage);
            }
            out.put(k, argv[++i]);
        }
        return new JobArgs(out, usage);
    }

    String get(String name, String orElse) {
        return values.getOrDefault(name, orElse);
    }

    String required(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing " + name + " (usage: " + usage + ")");
        }
        return v;
    }

    SparkSession session(String appName) {
        SparkSession.Builder builder = SparkSession.builder().appName(appName);
        String master = values.get("--master");
        if (master != null) {
            builder.master(master).config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1").config("spark.ui.enabled", "false");
        }
        return builder.getOrCreate();
    }
}
