package io.sparkmm.connector.engine;

import io.sparkmm.engine.LoadedModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Loaded weights, one copy per (model location, device), counted by the engines that run over
 * them. Weights are the biggest thing an executor holds, and engines that differ only in
 * scheduling options (maxSeqs, token budget, KV pool) compute with the very same tensors, so they
 * share one {@link LoadedModel}; the last engine to let go closes it (and its backend).
 *
 * <p>Each (location, device) has its own lock, so loading one model never blocks another. Slots
 * stay in the map once created (a handful per JVM): a slot removed while another thread waits on
 * its lock would let that thread load weights nobody can find again.
 */
final class SharedModels {

    private static final Logger LOG = LoggerFactory.getLogger(SharedModels.class);

    /**
     * Which weights: the engine key's model path, the device word resolved on this executor and the
     * ONNX file that replaces the checkpoint's media encoder (null: none).
     */
    record ModelKey(String modelPath, String device, String encoderOnnx) {

        ModelKey(String modelPath, String device) {
            this(modelPath, device, null);
        }

        @Override
        public String toString() {
            return modelPath + " on " + device + (encoderOnnx == null ? "" : " with encoder " + encoderOnnx);
        }
    }

    private final Map<ModelKey, Slot> slots = new ConcurrentHashMap<>();
    private final Function<ModelKey, LoadedModel> loader;

    /** @param loader key -> a model that owns its backend ({@code EngineSession::loadModel}) */
    SharedModels(Function<ModelKey, LoadedModel> loader) {
        this.loader = loader;
    }

    /** The model for {@code key}, loaded on first use; every call must be paired with one {@link #release}. */
    LoadedModel acquire(ModelKey key) {
        return slots.computeIfAbsent(key, k -> new Slot()).acquire(key);
    }

    /** Drops one reference; the last one closes the model. */
    void release(ModelKey key) {
        Slot slot = slots.get(key);
        if (slot == null) {
            throw new IllegalStateException("sparkmm: release of model " + key + " that was never acquired");
        }
        slot.release(key);
    }

    /** Engines holding {@code key}'s weights now (0 when not loaded). */
    int references(ModelKey key) {
        Slot slot = slots.get(key);
        return slot == null ? 0 : slot.references();
    }

    /** Models loaded now. */
    int loadedCount() {
        int n = 0;
        for (Slot s : slots.values()) {
            n += s.references() > 0 ? 1 : 0;
        }
        return n;
    }

    private final class Slot {
        private LoadedModel model;
        private int refs;

        synchronized LoadedModel acquire(ModelKey key) {
            if (model == null) {
                long t0 = System.nanoTime();
                model = loader.apply(key);
                LOG.info(String.format(Locale.ROOT, "sparkmm: weights of %s loaded in %.1f s (pid %d)",
                        key, (System.nanoTime() - t0) / 1e9, ProcessHandle.current().pid()));
            }
            refs++;
            return model;
        }

        synchronized void release(ModelKey key) {
            if (refs <= 0) {
                throw new IllegalStateException("sparkmm: model " + key + " released more often than acquired");
            }
            if (--refs == 0) {
                LoadedModel m = model;
                model = null;
                m.close();
                LOG.info("sparkmm: weights of {} closed (no engine uses them)", key);
            }
        }

        synchronized int references() {
            return refs;
        }
    }
}
