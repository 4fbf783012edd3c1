package io.sparkmm.kernels.cuda;

/**
 * A CUDA driver call that returned an error: which call, with which arguments, the CUresult's
 * name and number, and (when the backend adds it) the op and shapes it was serving. An
 * {@link IllegalStateException}, as the {@link io.sparkmm.kernels.Backend} contract has device
 * failures be. Errors of earlier asynchronous launches surface at the next call that
 * synchronizes, so the op named may not be the one at fault; run with CUDA_LAUNCH_BLOCKING=1 to
 * find it.
 */
public final class CudaException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final String call;
    private final int result;
    private final String resultName;

    public CudaException(String call, int result, String resultName) {
        this(null, call, result, resultName, null);
    }

    private CudaException(String context, String call, int result, String resultName, Throwable cause) {
        super((context == null ? "" : context + ": ") + call + " failed: " + resultName + " (" + result + ")", cause);
        this.call = call;
        this.result = result;
        this.resultName = resultName;
    }

    /** The same failure, with the op (and shapes) the backend was running put in front. */
    public CudaException within(String context) {
        return new CudaException(context, call, result, resultName, this);
    }

    /** The driver call and its arguments, e.g. "cuMemAlloc(1048576 bytes)". */
    public String call() {
        return call;
    }

    /** The CUresult number. */
    public int result() {
        return result;
    }

    /** The CUresult name, e.g. "CUDA_ERROR_OUT_OF_MEMORY". */
    public String resultName() {
        return resultName;
    }

    /** Whether the driver ran out of device memory (CUDA_ERROR_OUT_OF_MEMORY = 2). */
    public boolean isOutOfMemory() {
        return result == 2;
    }
}
