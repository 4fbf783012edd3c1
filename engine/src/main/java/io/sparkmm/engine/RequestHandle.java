package io.sparkmm.engine;

import java.util.concurrent.CompletableFuture;

/** A submitted request: its result, and a way to cancel it. */
public final class RequestHandle {

    private final String requestId;
    private final CompletableFuture<EngineResult> result;
    private final Runnable cancel;

    RequestHandle(String requestId, CompletableFuture<EngineResult> result, Runnable cancel) {
        this.requestId = requestId;
        this.result = result;
        this.cancel = cancel;
    }

    public String requestId() {
        return requestId;
    }

    /** Completes with the result; a cancelled request completes with finish reason "abort" as an error. */
    public CompletableFuture<EngineResult> result() {
        return result;
    }

    /** Asks the engine to drop the request and free its KV blocks; a finished request is unaffected. */
    public void cancel() {
        cancel.run();
    }
}
