package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.cuda.Kernel.P;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link CudaApi} without a GPU: device memory is host byte arrays, handles are counters, and
 * every call is recorded. It cannot run kernels, so it checks what it can: each launch names a
 * kernel of the ABI header with arguments of the header's count and kinds, pointers inside live
 * allocations, and a module that was loaded; at the end, {@link #assertNoLeaks()}.
 */
final class FakeCudaApi implements CudaApi {

    /** Devices cuDeviceGetCount reports. */
    int devices = 1;

    record Launched(String kernel, Dim3 grid, Dim3 block, int sharedBytes, long stream, List<KernelArg> args) {
    }

    final List<String> calls = new ArrayList<>();
    final List<Launched> launches = new ArrayList<>();
    final Map<String, Integer> functionLookups = new HashMap<>();
    final TreeMap<Long, byte[]> memory = new TreeMap<>();
    int modulesLoaded;
    int contextsRetained;
    int contextsReleased;
    long freeBytes = 80L << 30;
    long totalBytes = 96L << 30;
    /** Allocations beyond this many bytes in total fail with CUDA_ERROR_OUT_OF_MEMORY. */
    long capacity = Long.MAX_VALUE;

    private final Map<String, List<P>> abi = AbiHeader.kernels();
    private final Map<Long, String> functions = new HashMap<>();
    private final List<Long> modules = new ArrayList<>();
    private final List<Long> streams = new ArrayList<>();
    private long nextHandle = 0x1000;
    private long nextPointer = 0x7f00_0000_0000L;
    private String failCall;
    private int failResult;
    private String failName;

    /** The next call whose name starts with {@code call} fails with this CUresult. */
    void failNext(String call, int result, String name) {
        failCall = call;
        failResult = result;
        failName = name;
    }

    private void record(String call) {
        calls.add(call);
        if (failCall != null && call.startsWith(failCall)) {
            failCall = null;
            throw new CudaException(call, failResult, failName);
        }
    }

    long liveBytes() {
        return memory.values().stream().mapToLong(b -> b.length).sum();
    }

    void assertNoLeaks() {
        if (!memory.isEmpty() || !modules.isEmpty() || !streams.isEmpty() || contextsRetained != contextsReleased) {
            throw new AssertionError("leaked: " + memory.size() + " allocations (" + liveBytes() + " bytes), "
                    + modules.size() + " modules, " + streams.size() + " streams, contexts retained "
                    + contextsRetained + " released " + contextsReleased);
        }
    }

    /** The allocation holding {@code address}, and the offset in it; fails for a wild pointer. */
    private Map.Entry<Long, byte[]> at(long address, long bytes, String what) {
        Map.Entry<Long, byte[]> e = memory.floorEntry(address);
        if (e == null || address + bytes > e.getKey() + e.getValue().length) {
            throw new AssertionError(what + ": [0x" + Long.toHexString(address) + ", +" + bytes
                    + ") is outside every live allocation");
        }
        return e;
    }

    /** {@code bytes} of fake device memory at {@code address}, little-endian. */
    ByteBuffer read(long address, int bytes) {
        Map.Entry<Long, byte[]> e = at(address, bytes, "read");
        return ByteBuffer.wrap(e.getValue(), (int) (address - e.getKey()), bytes).slice()
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void init() {
        record("cuInit");
    }

    @Override
    public int deviceCount() {
        record("cuDeviceGetCount");
        return devices;
    }

    @Override
    public String deviceName(int device) {
        record("cuDeviceGetName");
        return "Fake GPU";
    }

    @Override
    public ComputeCapability computeCapability(int device) {
        record("cuDeviceGetAttribute");
        return new ComputeCapability(9, 0);
    }

    @Override
    public long totalMemory(int device) {
        record("cuDeviceTotalMem");
        return totalBytes;
    }

    @Override
    public long primaryContextRetain(int device) {
        record("cuDevicePrimaryCtxRetain");
        contextsRetained++;
        return 0xC0;
    }

    @Override
    public void primaryContextRelease(int device) {
        record("cuDevicePrimaryCtxRelease");
        contextsReleased++;
    }

    @Override
    public void setCurrentContext(long context) {
        record("cuCtxSetCurrent");
    }

    @Override
    public MemoryInfo memoryInfo() {
        record("cuMemGetInfo");
        return new MemoryInfo(freeBytes, totalBytes);
    }

    @Override
    public long streamCreate() {
        record("cuStreamCreate");
        long s = nextHandle++;
        streams.add(s);
        return s;
    }

    @Override
    public void streamDestroy(long stream) {
        record("cuStreamDestroy");
        if (!streams.remove((Long) stream)) {
            throw new AssertionError("destroying unknown stream " + stream);
        }
    }

    @Override
    public void streamSynchronize(long stream) {
        record("cuStreamSynchronize");
        checkStream(stream);
    }

    private void checkStream(long stream) {
        if (!streams.contains(stream)) {
            throw new AssertionError("unknown stream " + stream);
        }
    }

    @Override
    public long memAlloc(long bytes) {
        record("cuMemAlloc(" + bytes + ")");
        if (bytes <= 0 || bytes > Integer.MAX_VALUE) {
            throw new AssertionError("cuMemAlloc of " + bytes + " bytes (the fake holds up to 2 GiB per allocation)");
        }
        if (liveBytes() + bytes > capacity) {
            throw new CudaException("cuMemAlloc(" + bytes + " bytes)", 2, "CUDA_ERROR_OUT_OF_MEMORY");
        }
        long p = nextPointer;
        nextPointer += (bytes + 511) / 256 * 256;
        memory.put(p, new byte[(int) bytes]);
        return p;
    }

    @Override
    public void memFree(long pointer) {
        record("cuMemFree");
        if (memory.remove(pointer) == null) {
            throw new AssertionError("cuMemFree of 0x" + Long.toHexString(pointer) + ", not a live allocation");
        }
    }

    @Override
    public void memcpyHtoDAsync(long dst, ByteBuffer src, long bytes, long stream) {
        record("cuMemcpyHtoDAsync(" + bytes + ")");
        checkStream(stream);
        Map.Entry<Long, byte[]> e = at(dst, bytes, "cuMemcpyHtoDAsync");
        src.duplicate().get(e.getValue(), (int) (dst - e.getKey()), (int) bytes);
    }

    @Override
    public void memcpyDtoHAsync(ByteBuffer dst, long src, long bytes, long stream) {
        record("cuMemcpyDtoHAsync(" + bytes + ")");
        checkStream(stream);
        Map.Entry<Long, byte[]> e = at(src, bytes, "cuMemcpyDtoHAsync");
        dst.duplicate().put(e.getValue(), (int) (src - e.getKey()), (int) bytes);
    }

    @Override
    public void memcpyDtoDAsync(long dst, long src, long bytes, long stream) {
        record("cuMemcpyDtoDAsync(" + bytes + ")");
        checkStream(stream);
        Map.Entry<Long, byte[]> s = at(src, bytes, "cuMemcpyDtoDAsync source");
        Map.Entry<Long, byte[]> d = at(dst, bytes, "cuMemcpyDtoDAsync destination");
        System.arraycopy(s.getValue(), (int) (src - s.getKey()), d.getValue(), (int) (dst - d.getKey()), (int) bytes);
    }

    @Override
    public void memsetD8Async(long dst, byte value, long bytes, long stream) {
        record("cuMemsetD8Async(" + bytes + ")");
        checkStream(stream);
        Map.Entry<Long, byte[]> e = at(dst, bytes, "cuMemsetD8Async");
        java.util.Arrays.fill(e.getValue(), (int) (dst - e.getKey()), (int) (dst - e.getKey() + bytes), value);
    }

    @Override
    public long moduleLoadData(byte[] image) {
        record("cuModuleLoadData");
        modulesLoaded++;
        long m = nextHandle++;
        modules.add(m);
        return m;
    }

    @Override
    public void moduleUnload(long module) {
        record("cuModuleUnload");
        if (!modules.remove((Long) module)) {
            throw new AssertionError("unloading unknown module " + module);
        }
    }

    @Override
    public long moduleGetFunction(long module, String name) {
        record("cuModuleGetFunction(" + name + ")");
        if (!modules.contains(module)) {
            throw new AssertionError("cuModuleGetFunction on unknown module " + module);
        }
        if (!abi.containsKey(name)) {
            throw new CudaException("cuModuleGetFunction(" + name + ")", 500, "CUDA_ERROR_NOT_FOUND");
        }
        functionLookups.merge(name, 1, Integer::sum);
        long f = nextHandle++;
        functions.put(f, name);
        return f;
    }

    @Override
    public void launchKernel(long function, Dim3 grid, Dim3 block, int sharedBytes, long stream, List<KernelArg> args) {
        String name = functions.get(function);
        record("cuLaunchKernel(" + name + ")");
        checkStream(stream);
        if (name == null) {
            throw new AssertionError("launch of an unknown function handle " + function);
        }
        List<P> params = abi.get(name);
        if (params.size() != args.size()) {
            throw new AssertionError(name + ": the header declares " + params.size() + " parameters, launched with "
                    + args.size());
        }
        for (int i = 0; i < args.size(); i++) {
            if (Kernel.P.of(args.get(i)) != params.get(i)) {
                throw new AssertionError(name + " argument " + i + ": header kind " + params.get(i) + ", got " + args.get(i));
            }
            if (args.get(i) instanceof KernelArg.Ptr p && p.address() != 0) {
                at(p.address(), 1, name + " argument " + i);
            }
        }
        if (grid.volume() == 0 || block.volume() == 0 || block.volume() > 1024) {
            throw new AssertionError(name + ": bad launch grid " + grid + " block " + block);
        }
        launches.add(new Launched(name, grid, block, sharedBytes, stream, List.copyOf(args)));
    }
}
