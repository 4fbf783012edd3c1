package io.sparkmm.kernels.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.util.EnumMap;
import java.util.Map;

/**
 * The kernels' fatbin, loaded once per backend into its context, and each kernel's function
 * handle looked up once by name and cached.
 */
final class KernelModule {

    /** Classpath resource of the fatbin built by scripts/build-kernels.sh from kernels/src/main/cuda. */
    static final String RESOURCE = "io/sparkmm/kernels/cuda/kernels.fatbin";

    private final CudaApi api;
    private final long module;
    private final Map<Kernel, Long> functions = new EnumMap<>(Kernel.class);
    private boolean unloaded;

    KernelModule(CudaApi api, byte[] image) {
        this.api = api;
        this.module = api.moduleLoadData(image);
    }

    /**
     * The fatbin bytes from the classpath.
     *
     * @throws IllegalStateException naming the resource when it is absent or unreadable
     */
    static byte[] image(ClassLoader loader, String resource) {
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the CUDA kernels (" + resource + ") are not on the classpath:"
                        + " this sparkmm-kernels jar was built without them; build the fatbin with"
                        + " scripts/build-kernels.sh (needs nvcc) and rebuild the jar");
            }
            byte[] bytes = in.readAllBytes();
            if (bytes.length == 0) {
                throw new IllegalStateException("the CUDA kernels resource " + resource + " is empty");
            }
            return bytes;
        } catch (IOException e) {
            throw new IllegalStateException("could not read the CUDA kernels resource " + resource, e);
        }
    }

    static byte[] image() {
        return image(KernelModule.class.getClassLoader(), RESOURCE);
    }

    /** The kernel's function handle, looked up on first use. */
    long function(Kernel kernel) {
        if (unloaded) {
            throw new IllegalStateException("the kernel module was unloaded");
        }
        Long f = functions.get(kernel);
        if (f == null) {
            f = api.moduleGetFunction(module, kernel.symbol());
            functions.put(kernel, f);
        }
        return f;
    }

    void unload() {
        if (!unloaded) {
            unloaded = true;
            functions.clear();
            api.moduleUnload(module);
        }
    }
}
