package io.sparkmm.kernels.cuda;

import org.bytedeco.cuda.cudart.CUctx_st;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link CudaApi} over bytedeco's JavaCPP presets of the driver API ({@code org.bytedeco.cuda.global.cudart}).
 * The only class that names bytedeco types: {@link Cuda} loads it by name inside
 * {@code catch (Throwable)}, since without {@code libcuda.so.1} its first use throws
 * {@link UnsatisfiedLinkError}.
 *
 * <p>JavaCPP hands out opaque handles as {@link Pointer} objects; this class keeps them in maps by
 * address so that the interface can speak plain {@code long}s, and a handle the driver never
 * gave fails here rather than as a wild pointer in the driver.
 */
public final class BytedecoCudaApi implements CudaApi {

    private static final int CUDA_SUCCESS = 0;
    private static final int CU_STREAM_NON_BLOCKING = 1;

    private final Map<Long, CUctx_st> contexts = new ConcurrentHashMap<>();
    private final Map<Long, CUstream_st> streams = new ConcurrentHashMap<>();
    private final Map<Long, CUmod_st> modules = new ConcurrentHashMap<>();
    private final Map<Long, CUfunc_st> functions = new ConcurrentHashMap<>();
    /** Kernel names by function handle, for error messages. */
    private final Map<Long, String> functionNames = new ConcurrentHashMap<>();

    /** Loads the JNI wrappers and their libraries (libcuda.so.1, libcudart.so.13); throws what the loader throws. */
    public BytedecoCudaApi() {
        Loader.load(cudart.class);
    }

    private static void check(int result, String call) {
        if (result != CUDA_SUCCESS) {
            throw new CudaException(call, result, errorName(result));
        }
    }

    private static String errorName(int result) {
        BytePointer name = new BytePointer((Pointer) null);
        if (cudart.cuGetErrorName(result, name) == CUDA_SUCCESS && !name.isNull()) {
            return name.getString();
        }
        return "CUresult " + result;
    }

    @Override
    public void init() {
        check(cudart.cuInit(0), "cuInit(0)");
    }

    @Override
    public int deviceCount() {
        int[] count = new int[1];
        check(cudart.cuDeviceGetCount(count), "cuDeviceGetCount");
        return count[0];
    }

    private static int device(int ordinal) {
        int[] device = new int[1];
        check(cudart.cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        return device[0];
    }

    @Override
    public String deviceName(int ordinal) {
        byte[] name = new byte[256];
        check(cudart.cuDeviceGetName(name, name.length, device(ordinal)), "cuDeviceGetName(" + ordinal + ")");
        int end = 0;
        while (end < name.length && name[end] != 0) {
            end++;
        }
        return new String(name, 0, end, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public ComputeCapability computeCapability(int ordinal) {
        int dev = device(ordinal);
        int[] major = new int[1];
        int[] minor = new int[1];
        check(cudart.cuDeviceGetAttribute(major, cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev),
                "cuDeviceGetAttribute(compute capability major, " + ordinal + ")");
        check(cudart.cuDeviceGetAttribute(minor, cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev),
                "cuDeviceGetAttribute(compute capability minor, " + ordinal + ")");
        return new ComputeCapability(major[0], minor[0]);
    }

    @Override
    public long totalMemory(int ordinal) {
        try (SizeTPointer bytes = new SizeTPointer(1)) {
            check(cudart.cuDeviceTotalMem(bytes, device(ordinal)), "cuDeviceTotalMem(" + ordinal + ")");
            return bytes.get();
        }
    }

    @Override
    public long primaryContextRetain(int ordinal) {
        CUctx_st context = new CUctx_st();
        check(cudart.cuDevicePrimaryCtxRetain(context, device(ordinal)), "cuDevicePrimaryCtxRetain(" + ordinal + ")");
        contexts.put(context.address(), context);
        return context.address();
    }

    @Override
    public void primaryContextRelease(int ordinal) {
        check(cudart.cuDevicePrimaryCtxRelease(device(ordinal)), "cuDevicePrimaryCtxRelease(" + ordinal + ")");
    }

    @Override
    public void setCurrentContext(long context) {
        check(cudart.cuCtxSetCurrent(known(contexts, context, "context")), "cuCtxSetCurrent(0x" + Long.toHexString(context) + ")");
    }

    @Override
    public MemoryInfo memoryInfo() {
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            check(cudart.cuMemGetInfo(free, total), "cuMemGetInfo");
            return new MemoryInfo(free.get(), total.get());
        }
    }

    @Override
    public long streamCreate() {
        CUstream_st stream = new CUstream_st();
        check(cudart.cuStreamCreate(stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate(non-blocking)");
        streams.put(stream.address(), stream);
        return stream.address();
    }

    @Override
    public void streamDestroy(long stream) {
        check(cudart.cuStreamDestroy(known(streams, stream, "stream")), "cuStreamDestroy");
        streams.remove(stream);
    }

    @Override
    public void streamSynchronize(long stream) {
        check(cudart.cuStreamSynchronize(known(streams, stream, "stream")), "cuStreamSynchronize");
    }

    @Override
    public long memAlloc(long bytes) {
        long[] pointer = new long[1];
        check(cudart.cuMemAlloc(pointer, bytes), "cuMemAlloc(" + bytes + " bytes)");
        return pointer[0];
    }

    @Override
    public void memFree(long pointer) {
        check(cudart.cuMemFree(pointer), "cuMemFree(0x" + Long.toHexString(pointer) + ")");
    }

    @Override
    public void memcpyHtoDAsync(long dst, ByteBuffer src, long bytes, long stream) {
        checkRemaining(src, bytes, "cuMemcpyHtoDAsync");
        String call = "cuMemcpyHtoDAsync(0x" + Long.toHexString(dst) + ", " + bytes + " bytes)";
        if (src.isDirect()) {
            // slice: JavaCPP adds a Pointer's position itself; a slice starts at 0
            try (BytePointer host = new BytePointer(src.slice())) {
                check(cudart.cuMemcpyHtoDAsync(dst, host, bytes, known(streams, stream, "stream")), call);
            }
            return;
        }
        // heap bytes: copy to native memory first; the driver stages pageable memory before it
        // returns, so the copy may be freed at once
        try (BytePointer host = new BytePointer(bytes)) {
            byte[] chunk = new byte[(int) Math.min(bytes, 1 << 20)];
            ByteBuffer from = src.duplicate();
            for (long done = 0; done < bytes; done += chunk.length) {
                int n = (int) Math.min(chunk.length, bytes - done);
                from.get(chunk, 0, n);
                host.position(done).put(chunk, 0, n);
            }
            host.position(0);
            check(cudart.cuMemcpyHtoDAsync(dst, host, bytes, known(streams, stream, "stream")), call);
        }
    }

    @Override
    public void memcpyDtoHAsync(ByteBuffer dst, long src, long bytes, long stream) {
        checkRemaining(dst, bytes, "cuMemcpyDtoHAsync");
        if (!dst.isDirect()) {
            throw new IllegalArgumentException("cuMemcpyDtoHAsync: the destination must be a direct buffer");
        }
        try (BytePointer host = new BytePointer(dst.slice())) {
            check(cudart.cuMemcpyDtoHAsync(host, src, bytes, known(streams, stream, "stream")),
                    "cuMemcpyDtoHAsync(0x" + Long.toHexString(src) + ", " + bytes + " bytes)");
        }
    }

    @Override
    public void memcpyDtoDAsync(long dst, long src, long bytes, long stream) {
        check(cudart.cuMemcpyDtoDAsync(dst, src, bytes, known(streams, stream, "stream")),
                "cuMemcpyDtoDAsync(0x" + Long.toHexString(dst) + " <- 0x" + Long.toHexString(src) + ", " + bytes + " bytes)");
    }

    @Override
    public void memsetD8Async(long dst, byte value, long bytes, long stream) {
        check(cudart.cuMemsetD8Async(dst, value, bytes, known(streams, stream, "stream")),
                "cuMemsetD8Async(0x" + Long.toHexString(dst) + ", " + value + ", " + bytes + " bytes)");
    }

    @Override
    public long moduleLoadData(byte[] image) {
        CUmod_st module = new CUmod_st();
        try (BytePointer bytes = new BytePointer(image)) {
            check(cudart.cuModuleLoadData(module, bytes), "cuModuleLoadData(" + image.length + " bytes)");
        }
        modules.put(module.address(), module);
        return module.address();
    }

    @Override
    public void moduleUnload(long module) {
        check(cudart.cuModuleUnload(known(modules, module, "module")), "cuModuleUnload");
        modules.remove(module);
    }

    @Override
    public long moduleGetFunction(long module, String name) {
        CUfunc_st function = new CUfunc_st();
        check(cudart.cuModuleGetFunction(function, known(modules, module, "module"), name),
                "cuModuleGetFunction(" + name + ")");
        functions.put(function.address(), function);
        functionNames.put(function.address(), name);
        return function.address();
    }

    @Override
    public void launchKernel(long function, Dim3 grid, Dim3 block, int sharedBytes, long stream, List<KernelArg> args) {
        List<Pointer> values = new ArrayList<>(args.size());
        try (PointerPointer<Pointer> params = new PointerPointer<>(args.size())) {
            for (int i = 0; i < args.size(); i++) {
                if (args.get(i) == null) {
                    throw new IllegalArgumentException("kernel argument " + i + " is null");
                }
                Pointer value = box(args.get(i));
                values.add(value);
                params.put(i, value);
            }
            // the driver copies the argument values during the call, so they may be freed after it
            check(cudart.cuLaunchKernel(known(functions, function, "function"), grid.x(), grid.y(), grid.z(),
                            block.x(), block.y(), block.z(), sharedBytes, known(streams, stream, "stream"), params, null),
                    "cuLaunchKernel(" + functionNames.get(function) + ", grid " + grid + ", block " + block
                            + ", " + sharedBytes + " shared bytes, " + args.size() + " args)");
        } finally {
            values.forEach(Pointer::close);
        }
    }

    private static Pointer box(KernelArg arg) {
        if (arg instanceof KernelArg.Ptr p) {
            return new LongPointer(1).put(p.address());
        } else if (arg instanceof KernelArg.I64 l) {
            return new LongPointer(1).put(l.value());
        } else if (arg instanceof KernelArg.I32 i) {
            return new IntPointer(1).put(i.value());
        } else {
            return new FloatPointer(1).put(((KernelArg.F32) arg).value());
        }
    }

    private static <T> T known(Map<Long, T> handles, long handle, String kind) {
        T t = handles.get(handle);
        if (t == null) {
            throw new IllegalArgumentException("unknown CUDA " + kind + " handle 0x" + Long.toHexString(handle));
        }
        return t;
    }

    private static void checkRemaining(ByteBuffer buffer, long bytes, String call) {
        if (bytes < 0 || buffer.remaining() < bytes) {
            throw new IllegalArgumentException(call + ": " + bytes + " bytes asked but the host buffer has "
                    + buffer.remaining());
        }
    }
}
