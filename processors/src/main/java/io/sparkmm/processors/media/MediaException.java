package io.sparkmm.processors.media;

/**
 * A media item could not be read or decoded, or was over a {@link MediaLimits} limit. The
 * message always starts with the item (its path or the caller's name for it), then the cause,
 * so one bad row in a Spark job can be found from its error column alone.
 */
public class MediaException extends RuntimeException {

    private final String item;

    public MediaException(String item, String cause) {
        super(item + ": " + cause);
        this.item = item;
    }

    public MediaException(String item, String cause, Throwable t) {
        super(item + ": " + cause + (t == null || t.getMessage() == null ? "" : " (" + t.getMessage() + ")"), t);
        this.item = item;
    }

    /** The path or name of the item that failed. */
    public String item() {
        return item;
    }
}
