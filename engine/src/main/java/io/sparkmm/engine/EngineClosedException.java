package io.sparkmm.engine;

/** A request reached an engine that was shutting down or shut down; it was not run. */
public final class EngineClosedException extends IllegalStateException {

    public EngineClosedException(String message) {
        super(message);
    }
}
