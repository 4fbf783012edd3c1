package io.sparkmm.connector.media;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import io.sparkmm.processors.media.RemoteFiles;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkEnv;
import org.apache.spark.deploy.SparkHadoopUtil;

/**
 * Media URIs read through a given Hadoop configuration: the job's, so {@code spark.hadoop.*}
 * settings (credentials, endpoints, {@code fs.<scheme>.impl}) apply to media paths as they do
 * to Spark's own file sources. A fresh {@code new Configuration()} would only see the
 * classpath's core-site.xml.
 *
 * <p>The configuration is only read after construction, so one instance serves all threads;
 * Hadoop caches the FileSystem instances themselves.
 */
public final class HadoopRemoteFiles implements RemoteFiles {

    /** Keyed by the SparkEnv it was built from: a JVM that runs several contexts in turn (tests) rebuilds it. */
    private record Cached(SparkEnv env, HadoopRemoteFiles files) {
    }

    private static volatile Cached executorDefault = new Cached(null, null);

    private final Configuration conf;

    public HadoopRemoteFiles(Configuration conf) {
        this.conf = conf;
    }

    /**
     * For code that runs on an executor without a configuration shipped from the driver (a SQL
     * expression): the Hadoop configuration Spark derives from the application's SparkConf
     * ({@code spark.hadoop.*}, {@code spark.hive.*}, S3 credentials from the environment), built
     * once per SparkEnv (one per executor JVM). Session-level settings made later with {@code spark.conf.set} are not in it.
     */
    public static HadoopRemoteFiles fromSparkEnv() {
        SparkEnv env = SparkEnv.get();
        Cached cached = executorDefault;
        if (cached.env() != env || cached.files() == null) {
            synchronized (HadoopRemoteFiles.class) {
                cached = executorDefault;
                if (cached.env() != env || cached.files() == null) {
                    Configuration c = env == null ? new Configuration()
                            : SparkHadoopUtil.get().newConfiguration(env.conf());
                    cached = new Cached(env, new HadoopRemoteFiles(c));
                    executorDefault = cached;
                }
            }
        }
        return cached.files();
    }

    @Override
    public long length(String uri) throws IOException {
        Path p = path(uri);
        return p.getFileSystem(conf).getFileStatus(p).getLen();
    }

    @Override
    public InputStream open(String uri) throws IOException {
        Path p = path(uri);
        return p.getFileSystem(conf).open(p);
    }

    private static Path path(String uri) {
        return new Path(URI.create(uri));
    }

    /** Shown in read errors after "cannot read through". */
    @Override
    public String toString() {
        return "Hadoop FileSystem";
    }
}
