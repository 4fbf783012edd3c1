package io.sparkmm.processors.media;

import java.io.IOException;
import java.io.InputStream;

/**
 * How a {@link MediaSource} reads a non-local URI ({@code hdfs://}, {@code s3a://}, ...).
 *
 * <p>Exists so that a caller holding the job's Hadoop configuration (inside Spark: the
 * session's {@code spark.hadoop.*} settings, credentials, endpoints, custom FileSystem
 * implementations) can have media read through it: this module stays free of Spark and Hadoop,
 * and the default ({@link MediaSource#ofPath(String)}) only sees the classpath's
 * core-site.xml, which misses everything set on the Spark job.
 *
 * <p>Implementations must be safe for concurrent use (decode threads share one).
 */
public interface RemoteFiles {

    /** The file's length in bytes, checked against the size limit before opening; {@link java.io.FileNotFoundException} if it is missing. */
    long length(String uri) throws IOException;

    /** The file's content from its start; the caller closes it. */
    InputStream open(String uri) throws IOException;
}
