package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.cuda.CudaApi.KernelArg;
import io.sparkmm.kernels.cuda.LaunchGeometry.Launch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * One backend's hold on a device: the primary context (retained, so own kernels and any other
 * CUDA library in the JVM share it), one stream that orders all of the backend's work, the
 * loaded kernels and the tracked allocations; plus the launch and copy plumbing every op uses,
 * each adding the op's description to a driver error. Not thread-safe; {@link CudaBackend}
 * serializes.
 */
final class CudaDevice {

    final CudaApi api;
    final int index;
    final String name;
    final long stream;
    final DeviceMemory memory;
    private final long context;
    private final KernelModule module;

    /** Retains the primary context, makes a stream and loads the kernels; undoes all on failure. */
    CudaDevice(CudaApi api, int index, byte[] kernels) {
        this.api = api;
        this.index = index;
        this.context = api.primaryContextRetain(index);
        long s = 0;
        try {
            api.setCurrentContext(context);
            this.name = "cuda:" + index + " (" + api.deviceName(index) + ", sm " + api.computeCapability(index) + ")";
            s = api.streamCreate();
            this.module = new KernelModule(api, kernels);
        } catch (RuntimeException e) {
            // a failed start leaves the device as it found it
            if (s != 0) {
                api.streamDestroy(s);
            }
            api.primaryContextRelease(index);
            throw e;
        }
        this.stream = s;
        this.memory = new DeviceMemory(api, stream);
    }

    /** Makes the context current on the calling thread: the driver's current context is per thread. */
    void makeCurrent() {
        api.setCurrentContext(context);
    }

    /** Checks the arguments against the ABI, then queues the kernel unless its grid is empty. */
    void launch(Kernel kernel, Launch g, String what, KernelArg... args) {
        List<KernelArg> list = List.of(args);
        kernel.check(list);
        if (g.isEmpty()) {
            return;
        }
        try {
            api.launchKernel(module.function(kernel), g.grid(), g.block(), g.sharedBytes(), stream, list);
        } catch (CudaException e) {
            throw e.within(what);
        }
    }

    /** Copies {@code bytes} to a scratch buffer (reused per name) and returns its device address. */
    long uploadScratch(String scratch, ByteBuffer bytes, String what) {
        long p = memory.scratch(scratch, bytes.remaining());
        copyIn(p, bytes, bytes.remaining(), what);
        return p;
    }

    void copyIn(long dst, ByteBuffer src, long bytes, String what) {
        if (bytes == 0) {
            return;
        }
        try {
            api.memcpyHtoDAsync(dst, src, bytes, stream);
        } catch (CudaException e) {
            throw e.within(what);
        }
    }

    /** Copies {@code bytes} from the device and waits for them: the host's one view of device values. */
    ByteBuffer copyOut(long src, long bytes, String what) {
        ByteBuffer b = host(bytes);
        if (bytes == 0) {
            return b;
        }
        try {
            api.memcpyDtoHAsync(b, src, bytes, stream);
            api.streamSynchronize(stream);
        } catch (CudaException e) {
            throw e.within(what);
        }
        return b;
    }

    /** Widens {@code count} elements of {@code dtype} at {@code src} into F32 at {@code dst}, on the device. */
    void widen(long src, DType dtype, long dst, long count, String what) {
        launch(Kernel.TO_F32, LaunchGeometry.elementwise(count), what, KernelArg.ptr(src),
                KernelArg.i32(Kernel.dtypeCode(dtype)), KernelArg.ptr(dst), KernelArg.i64(count));
    }

    /** {@code count} elements at {@code src} as F32 on the host; 16-bit ones are widened on the device first. */
    float[] downloadF32(long src, DType dtype, long count, String what) {
        long widened = 0;
        if (dtype != DType.F32) {
            widened = memory.allocate(count * 4, what);
            widen(src, dtype, widened, count, what);
            src = widened;
        }
        try {
            float[] out = new float[(int) count];
            copyOut(src, count * 4, what).asFloatBuffer().get(out);
            return out;
        } finally {
            memory.free(widened);
        }
    }

    void copy(long dst, long src, long bytes, String what) {
        try {
            api.memcpyDtoDAsync(dst, src, bytes, stream);
        } catch (CudaException e) {
            throw e.within(what);
        }
    }

    void fill(long dst, long bytes, String what) {
        if (bytes == 0) {
            return;
        }
        try {
            api.memsetD8Async(dst, (byte) 0, bytes, stream);
        } catch (CudaException e) {
            throw e.within(what);
        }
    }

    static ByteBuffer host(long bytes) {
        if (bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(bytes + " bytes exceed one host buffer");
        }
        return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    static ByteBuffer ints(int... values) {
        ByteBuffer b = host(4L * values.length);
        b.asIntBuffer().put(values);
        return b;
    }

    /** Frees everything, unloads the kernels, destroys the stream, releases the context; each step runs. */
    void close() {
        makeCurrent();
        try {
            memory.freeAll();
        } finally {
            try {
                module.unload();
            } finally {
                try {
                    api.streamDestroy(stream);
                } finally {
                    api.primaryContextRelease(index);
                }
            }
        }
    }
}
