package io.sparkmm.processors.media;

import java.io.FileNotFoundException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URI;

/**
 * Reads non-local URIs (hdfs://, s3a://, abfs://, gs://, ...) through Hadoop's FileSystem API,
 * found by reflection so that this module has no compile or runtime dependency on Hadoop:
 * inside Spark it is always on the classpath, elsewhere a clear error says it is needed.
 *
 * <p>The Hadoop {@code Configuration} is created once per JVM from the classpath's
 * core-site.xml / hdfs-site.xml (as {@code new Configuration()} does) and only read afterwards;
 * Hadoop caches FileSystem instances per scheme and user itself.
 *
 * <p>Only the default for callers outside Spark (the CLI, benchmarks): such a configuration
 * carries none of a Spark job's {@code spark.hadoop.*} settings, so the connector passes a
 * {@link RemoteFiles} holding the job's configuration to {@link MediaSource#ofPath(String, RemoteFiles)}.
 */
final class HadoopFiles {

    private HadoopFiles() {
    }

    /** Loaded on first use only, so a JVM without Hadoop pays nothing until a URI needs it. */
    private static final class Api {
        static final Constructor<?> PATH;
        static final Method GET_FS;
        static final Method GET_STATUS;
        static final Method GET_LEN;
        static final Method OPEN;
        static final Object CONF;
        static final Throwable MISSING;

        static {
            Constructor<?> path = null;
            Method getFs = null;
            Method getStatus = null;
            Method getLen = null;
            Method open = null;
            Object conf = null;
            Throwable missing = null;
            try {
                ClassLoader cl = Thread.currentThread().getContextClassLoader() != null
                        ? Thread.currentThread().getContextClassLoader() : HadoopFiles.class.getClassLoader();
                Class<?> pathC = Class.forName("org.apache.hadoop.fs.Path", true, cl);
                Class<?> confC = Class.forName("org.apache.hadoop.conf.Configuration", true, cl);
                Class<?> fsC = Class.forName("org.apache.hadoop.fs.FileSystem", true, cl);
                Class<?> statusC = Class.forName("org.apache.hadoop.fs.FileStatus", true, cl);
                path = pathC.getConstructor(URI.class);
                getFs = pathC.getMethod("getFileSystem", confC);
                getStatus = fsC.getMethod("getFileStatus", pathC);
                getLen = statusC.getMethod("getLen");
                open = fsC.getMethod("open", pathC);
                conf = confC.getConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError e) {
                missing = e;
            }
            PATH = path;
            GET_FS = getFs;
            GET_STATUS = getStatus;
            GET_LEN = getLen;
            OPEN = open;
            CONF = conf;
            MISSING = missing;
        }
    }

    static byte[] read(String item, String uri, MediaLimits limits) {
        String scheme = uri.substring(0, uri.indexOf(':'));
        if (Api.MISSING != null) {
            throw new MediaException(item, "the '" + scheme + "' scheme is read through Hadoop's FileSystem,"
                    + " but org.apache.hadoop.fs.FileSystem is not on the classpath (add hadoop-client, or run"
                    + " inside Spark)", Api.MISSING);
        }
        try {
            Object path = Api.PATH.newInstance(new URI(uri));
            Object fs = Api.GET_FS.invoke(path, Api.CONF);
            long len = (long) Api.GET_LEN.invoke(Api.GET_STATUS.invoke(fs, path));
            MediaSource.checkSize(item, len, limits);   // before opening the stream
            try (InputStream in = (InputStream) Api.OPEN.invoke(fs, path)) {
                return MediaSource.readBounded(item, in, limits);
            }
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof FileNotFoundException) {
                throw new MediaException(item, "no such file");
            }
            throw new MediaException(item, "cannot read through Hadoop FileSystem", cause);
        } catch (MediaException e) {
            throw e;
        } catch (Exception e) {
            throw new MediaException(item, "cannot read through Hadoop FileSystem", e);
        }
    }
}
