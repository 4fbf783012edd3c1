package io.sparkmm.engine.template;

/**
 * A chat template could not be rendered: the template called {@code raise_exception} (then the
 * message is the template's own, e.g. "Conversation roles must alternate user/assistant/..."),
 * broke a sandbox rule, or has a syntax or evaluation error.
 */
public final class ChatTemplateException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final boolean raisedByTemplate;

    public ChatTemplateException(String message) {
        this(message, false);
    }

    ChatTemplateException(String message, boolean raisedByTemplate) {
        super(message);
        this.raisedByTemplate = raisedByTemplate;
    }

    ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
        this.raisedByTemplate = false;
    }

    /** True when the template itself called {@code raise_exception}. */
    public boolean raisedByTemplate() {
        return raisedByTemplate;
    }
}
