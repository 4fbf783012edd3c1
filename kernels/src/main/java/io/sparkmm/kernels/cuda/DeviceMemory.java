package io.sparkmm.kernels.cuda;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every device allocation of one backend, so that closing the backend frees all of them
 * (tensors the caller forgot, KV pools, scratch) and a leak shows up as a count, not as a device
 * that slowly fills. Also the backend's scratch buffers: named, grown on demand and reused, for
 * the small per-call uploads (rope tables, batch arrays, token ids), which would otherwise cost
 * an allocation and a free per op.
 *
 * <p>Frees synchronize the stream first: kernels queued on it may still read the memory, and
 * cuMemFree is not ordered with the stream. Not thread-safe; the backend serializes its ops.
 */
final class DeviceMemory {

    private record Allocation(long bytes, String what) {
    }

    private record Scratch(long pointer, long capacity) {
    }

    /** Scratch never shrinks and grows at least to this, so tiny first uses do not reallocate often. */
    static final long MIN_SCRATCH_BYTES = 64 * 1024;

    private final CudaApi api;
    private final long stream;
    private final Map<Long, Allocation> live = new LinkedHashMap<>();
    private final Map<String, Scratch> scratch = new HashMap<>();
    private long liveBytes;

    DeviceMemory(CudaApi api, long stream) {
        this.api = api;
        this.stream = stream;
    }

    /**
     * A new allocation of {@code bytes} (0 gives the null pointer and allocates nothing).
     *
     * @throws CudaException naming {@code what} when the driver refuses
     */
    long allocate(long bytes, String what) {
        if (bytes < 0) {
            throw new IllegalArgumentException(what + ": negative size " + bytes);
        }
        if (bytes == 0) {
            return 0;
        }
        long pointer;
        try {
            pointer = api.memAlloc(bytes);
        } catch (CudaException e) {
            throw e.within("allocating " + bytes + " bytes of device memory for " + what + " (" + liveBytes
                    + " bytes in " + live.size() + " allocations held by this backend)");
        }
        live.put(pointer, new Allocation(bytes, what));
        liveBytes += bytes;
        return pointer;
    }

    /** Frees an allocation made here; the null pointer is ignored. */
    void free(long pointer) {
        if (pointer == 0) {
            return;
        }
        Allocation a = live.remove(pointer);
        if (a == null) {
            throw new IllegalStateException("device pointer 0x" + Long.toHexString(pointer)
                    + " was not allocated by this backend or was freed already");
        }
        liveBytes -= a.bytes();
        api.streamSynchronize(stream);
        api.memFree(pointer);
    }

    /** A scratch buffer of at least {@code bytes} under {@code name}, valid until the next call for that name. */
    long scratch(String name, long bytes) {
        Scratch s = scratch.get(name);
        if (s != null && s.capacity() >= bytes) {
            return s.pointer();
        }
        if (s != null) {
            free(s.pointer());
        }
        long capacity = Math.max(MIN_SCRATCH_BYTES, Long.highestOneBit(Math.max(1, bytes - 1)) << 1);
        long pointer = allocate(capacity, "scratch '" + name + "'");
        scratch.put(name, new Scratch(pointer, capacity));
        return pointer;
    }

    /** Number of live allocations, scratch included. */
    int liveCount() {
        return live.size();
    }

    long liveBytes() {
        return liveBytes;
    }

    /**
     * Frees everything still allocated, going on past failures so that one bad free does not
     * leak the rest; the first failure is thrown at the end.
     */
    void freeAll() {
        RuntimeException first = null;
        try {
            api.streamSynchronize(stream);
        } catch (RuntimeException e) {
            first = e;
        }
        for (long pointer : live.keySet().toArray(new Long[0])) {
            live.remove(pointer);
            try {
                api.memFree(pointer);
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
        }
        liveBytes = 0;
        scratch.clear();
        if (first != null) {
            throw first;
        }
    }
}
