package io.sparkmm.kernels.cuda;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The few CUDA driver API calls {@link CudaBackend} needs, behind a project interface so the
 * backend can be driven by a fake on machines without a GPU (and the binding can change without
 * touching the backend). Handles (contexts, streams, modules, functions) and device pointers are
 * plain {@code long}s. Every method throws {@link CudaException} naming the call, its arguments
 * and the CUresult when the driver refuses.
 *
 * <p>Calls act on the context current on the calling thread, as the driver API does; the backend
 * makes its context current before each op.
 */
public interface CudaApi {

    /** cuInit(0). */
    void init();

    /** cuDeviceGetCount. */
    int deviceCount();

    /** cuDeviceGetName. */
    String deviceName(int device);

    /** Compute capability (major, minor) of a device. */
    ComputeCapability computeCapability(int device);

    /** cuDeviceTotalMem. */
    long totalMemory(int device);

    /** cuDevicePrimaryCtxRetain: the device's one primary context, shared with any other CUDA user in the JVM. */
    long primaryContextRetain(int device);

    /** cuDevicePrimaryCtxRelease. */
    void primaryContextRelease(int device);

    /** cuCtxSetCurrent. */
    void setCurrentContext(long context);

    /** cuMemGetInfo of the current context's device. */
    MemoryInfo memoryInfo();

    /** cuStreamCreate with CU_STREAM_NON_BLOCKING, so it never waits on the legacy default stream. */
    long streamCreate();

    void streamDestroy(long stream);

    void streamSynchronize(long stream);

    /** cuMemAlloc; {@code bytes} must be positive. */
    long memAlloc(long bytes);

    void memFree(long pointer);

    /**
     * cuMemcpyHtoDAsync of {@code bytes} from {@code src} (from its position; heap or direct). The
     * driver stages pageable memory before it returns, so {@code src} may be reused at once.
     */
    void memcpyHtoDAsync(long dst, ByteBuffer src, long bytes, long stream);

    /**
     * cuMemcpyDtoHAsync of {@code bytes} into {@code dst} (from its position). The values are
     * there only after {@link #streamSynchronize}.
     */
    void memcpyDtoHAsync(ByteBuffer dst, long src, long bytes, long stream);

    void memcpyDtoDAsync(long dst, long src, long bytes, long stream);

    /** cuMemsetD8Async. */
    void memsetD8Async(long dst, byte value, long bytes, long stream);

    /** cuModuleLoadData of a fatbin, cubin or PTX image. */
    long moduleLoadData(byte[] image);

    void moduleUnload(long module);

    /** cuModuleGetFunction of an extern "C" kernel name. */
    long moduleGetFunction(long module, String name);

    /** cuLaunchKernel with {@code args} in the kernel's parameter order. */
    void launchKernel(long function, Dim3 grid, Dim3 block, int sharedBytes, long stream, List<KernelArg> args);

    /** Free and total bytes of a device. */
    record MemoryInfo(long free, long total) {
    }

    record ComputeCapability(int major, int minor) {
        @Override
        public String toString() {
            return major + "." + minor;
        }
    }

    /** A grid or block size. */
    record Dim3(int x, int y, int z) {
        public static Dim3 of(int x) {
            return new Dim3(x, 1, 1);
        }

        public static Dim3 of(int x, int y) {
            return new Dim3(x, y, 1);
        }

        public long volume() {
            return (long) x * y * z;
        }

        @Override
        public String toString() {
            return "(" + x + ", " + y + ", " + z + ")";
        }
    }

    /** One kernel argument, typed as the kernel's C parameter is. */
    sealed interface KernelArg {

        static KernelArg ptr(long address) {
            return new Ptr(address);
        }

        static KernelArg i32(int value) {
            return new I32(value);
        }

        static KernelArg i64(long value) {
            return new I64(value);
        }

        static KernelArg f32(float value) {
            return new F32(value);
        }

        /** A device pointer (any {@code T*} parameter); 0 is the null pointer. */
        record Ptr(long address) implements KernelArg {
        }

        /** An {@code int} parameter. */
        record I32(int value) implements KernelArg {
        }

        /** An {@code int64_t} parameter. */
        record I64(long value) implements KernelArg {
        }

        /** A {@code float} parameter. */
        record F32(float value) implements KernelArg {
        }
    }
}
