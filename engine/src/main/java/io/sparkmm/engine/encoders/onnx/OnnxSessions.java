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

    static OrtEnvironment environment() {
        return OrtEnvironment.getEnvironment();
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
