package io.sparkmm.engine.checkpoint;

/**
 * A checkpoint on disk cannot be used as asked: a file is missing, malformed, or describes a model
 * we do not run. The message always names the file (and the tensor or key, where there is one), so
 * a user can fix the checkpoint without reading our code.
 */
public class CheckpointException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CheckpointException(String msg) {
        super(msg);
    }

    public CheckpointException(String msg, Throwable cause) {
        super(msg, cause);
    }
}
