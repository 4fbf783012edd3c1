package io.sparkmm.engine.encoders.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * ONNX Runtime sessions, one per (file, execution provider, threads) in the JVM, counted by the
 * encoders that use them: engines over one executor's models share a session as they share
 * weights. ONNX Runtime allows one {@link OrtEnvironment} per process and its sessions are safe
 * to run from several threads.
 */
final class OnnxSessions {

    /** Which session: the file's real path, the execution provider and the intra-op threads. */
    record Key(Path file, OnnxDevice device, int threads) {
    }

    private static final Map<Key, Slot> SLOTS = new HashMap<>();

    private OnnxSessions() {
    }

    private static final class Slot {
        final OrtSession session;
        int refs;

        Slot(OrtSession session) {
            this.session = session;
        }
    }

    /**
     * The process's environment, created on a thread of its own with a large stack: ONNX Runtime
     * 1.29's environment set-up uses close to a default Java thread's 1 MiB of stack, and on the
     * launcher's main thread, which also holds the command line, it overflowed it (a segfault, no
     * hs_err) once the command line passed about 4 KB, as a Spark executor's class path does.
     */
    static OrtEnvironment environment() {
        OrtEnvironment env = ENVIRONMENT;
        if (env == null) {
            env = createEnvironment();
        }
        return env;
    }

    private static volatile OrtEnvironment ENVIRONMENT;

    private static synchronized OrtEnvironment createEnvironment() {
        if (ENVIRONMENT == null) {
            OrtEnvironment[] made = new OrtEnvironment[1];
            RuntimeException[] failed = new RuntimeException[1];
            Thread t = new Thread(null, () -> {
                try {
                    made[0] = OrtEnvironment.getEnvironment();
                } catch (RuntimeException | UnsatisfiedLinkError e) {
                    failed[0] = e instanceof RuntimeException r ? r
                            : new IllegalStateException("ONNX Runtime's native library could not be loaded: " + e, e);
                }
            }, "sparkmm-onnxruntime-init", 64L << 20);
            t.start();
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting ONNX Runtime", e);
            }
            if (failed[0] != null) {
                throw failed[0];
            }
            ENVIRONMENT = made[0];
        }
        return ENVIRONMENT;
    }

    /** ONNX Runtime's version, e.g. "1.29.0". */
    static String version() {
        return environment().getVersion();
    }

    /** The key's session, created on first use; pair every call with one {@link #release}. */
    static synchronized OrtSession acquire(Key key) throws OrtException {
        Slot slot = SLOTS.get(key);
        if (slot == null) {
            try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
                options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                options.setIntraOpNumThreads(key.threads());
                options.setInterOpNumThreads(1);
                key.device().configure(options);
                slot = new Slot(environment().createSession(key.file().toString(), options));
            }
            SLOTS.put(key, slot);
        }
        slot.refs++;
        return slot.session;
    }

    static synchronized void release(Key key) {
        Slot slot = SLOTS.get(key);
        if (slot == null || slot.refs <= 0) {
            throw new IllegalStateException("ONNX session of " + key.file() + " released more often than acquired");
        }
        if (--slot.refs == 0) {
            SLOTS.remove(key);
            try {
                slot.session.close();
            } catch (OrtException e) {
                throw new IllegalStateException("closing the ONNX session of " + key.file() + ": " + e.getMessage(), e);
            }
        }
    }

    /** Sessions open now (tests). */
    static synchronized int open() {
        return SLOTS.size();
    }
}
