package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.MemoryBudget;

/**
 * How much of the free device memory an engine may plan a KV pool from: the fraction of system
 * property {@value #PROPERTY} (default {@value #DEFAULT}), as vLLM's gpu_memory_utilization.
 * The rest stays for activations, scratch and other users of the device (cuBLAS workspaces, a
 * vision encoder in another library). Pure arithmetic, unit-tested.
 */
public final class GpuMemoryUtilization {

    public static final String PROPERTY = "sparkmm.gpuMemoryUtilization";
    public static final double DEFAULT = 0.9;

    private final double fraction;

    private GpuMemoryUtilization(double fraction) {
        this.fraction = fraction;
    }

    /** A fraction in (0, 1]. */
    public static GpuMemoryUtilization of(double fraction) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException(PROPERTY + " must be in (0, 1], got " + fraction);
        }
        return new GpuMemoryUtilization(fraction);
    }

    /** Parses the property's text; null means the default. */
    public static GpuMemoryUtilization parse(String text) {
        if (text == null) {
            return of(DEFAULT);
        }
        double value;
        try {
            value = Double.parseDouble(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(PROPERTY + " must be a number in (0, 1], e.g. 0.9; got '" + text + "'", e);
        }
        return of(value);
    }

    /** From the system property. */
    public static GpuMemoryUtilization fromSystemProperty() {
        return parse(System.getProperty(PROPERTY));
    }

    public double fraction() {
        return fraction;
    }

    /** The bytes a pool may take out of {@code freeBytes}: floor(free * fraction). */
    public long usable(long freeBytes) {
        if (freeBytes <= 0) {
            return 0;
        }
        return (long) Math.floor(freeBytes * fraction);
    }

    /** The budget of a device with {@code freeBytes} free. */
    public MemoryBudget budget(String device, long freeBytes) {
        return new MemoryBudget(usable(freeBytes), "CUDA device memory (" + device + ", " + fraction + " of "
                + freeBytes + " bytes free)", "raise -D" + PROPERTY + " (now " + fraction
                + ", at most 1) or free device memory held by other processes (nvidia-smi)");
    }
}
