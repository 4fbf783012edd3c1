package io.sparkmm.kernels;

import io.sparkmm.kernels.reference.ReferenceBackendProvider;
import io.sparkmm.kernels.simd.VectorBackendProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Opens a {@link Backend} by device word, from the {@link BackendProvider}s registered in
 * {@code META-INF/services}: "auto" (the available provider of highest priority), a provider's
 * name ("cpu", "cpu-reference", later "cuda"), or NAME:N for device N of that kind.
 *
 * <p>Providers come from the class loader that loaded this class, not the thread's context
 * loader: a provider must implement this very {@link BackendProvider} interface, and a jar of
 * providers is deployed next to this one (same Spark jars, same fat jar).
 */
public final class Backends {

    /** System property: the device of {@link #openDefault()} (default "auto"). */
    public static final String DEVICE_PROPERTY = "sparkmm.device";
    /** System property: threads for the CPU backends (default: available processors). */
    public static final String THREADS_PROPERTY = "sparkmm.threads";
    /** The device word that picks the best available provider. */
    public static final String AUTO = "auto";

    private static final String REFERENCE = ReferenceBackendProvider.NAME;
    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    /** A registered device kind, for diagnostics and CLIs. */
    public record Device(String name, int priority, BackendProvider.Availability availability) {
    }

    private Backends() {
    }

    /** The registered providers, loaded once, highest priority first. */
    private static final class Registered {
        static final List<BackendProvider> PROVIDERS = load();

        /** A provider that fails to load (say, a GPU jar missing its natives) is skipped, not fatal. */
        private static List<BackendProvider> load() {
            List<BackendProvider> providers = new ArrayList<>();
            Iterator<BackendProvider> it =
                    ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader()).iterator();
            // bounded: after an error the iterator only promises a best effort to move on
            for (int errors = 0; errors < 16; ) {
                try {
                    if (!it.hasNext()) {
                        break;
                    }
                    providers.add(it.next());
                } catch (ServiceConfigurationError e) {
                    errors++;
                    LOG.warn("sparkmm: a backend provider could not be loaded and is skipped: {}", e.toString());
                }
            }
            return sorted(providers);
        }
    }

    /** Every registered device kind, highest priority first. */
    public static List<Device> devices() {
        return Registered.PROVIDERS.stream().map(p -> new Device(p.name(), p.priority(), p.availability())).toList();
    }

    /** The backend of {@link #DEVICE_PROPERTY}, else "auto". */
    public static Backend openDefault() {
        return open(defaultDevice());
    }

    /** The device word of {@link #DEVICE_PROPERTY}, else "auto". */
    public static String defaultDevice() {
        return System.getProperty(DEVICE_PROPERTY, AUTO);
    }

    /** {@link #open(String, int)} with {@link #defaultThreads()} threads. */
    public static Backend open(String device) {
        return open(device, defaultThreads());
    }

    /** The thread count of {@link #THREADS_PROPERTY}, else the available processors. */
    public static int defaultThreads() {
        return Integer.getInteger(THREADS_PROPERTY, Runtime.getRuntime().availableProcessors());
    }

    /**
     * A new backend on {@code device}: "auto", NAME or NAME:N (see the class comment), case and
     * surrounding blanks ignored. When "auto" ends on the slow cpu-reference because faster
     * devices are unavailable, one warning per JVM says why (for "cpu": the missing
     * {@code --add-modules jdk.incubator.vector}).
     *
     * @param threads CPU threads the backend may use, at least 1
     * @throws IllegalArgumentException if the word names no registered device (the message lists
     *     them, with why each unavailable one is), or the index or thread count is bad
     * @throws IllegalStateException if the named device is not available here
     */
    public static Backend open(String device, int threads) {
        return open(device, threads, Registered.PROVIDERS);
    }

    static Backend open(String device, int threads, List<BackendProvider> providers) {
        if (threads < 1) {
            throw new IllegalArgumentException("a backend needs at least 1 thread, got " + threads
                    + " (" + THREADS_PROPERTY + ")");
        }
        String word = device == null ? "" : device.strip().toLowerCase(Locale.ROOT);
        int colon = word.indexOf(':');
        String name = colon < 0 ? word : word.substring(0, colon);
        int index = colon < 0 ? 0 : parseIndex(device, word.substring(colon + 1));
        if (name.equals(AUTO)) {
            if (colon >= 0) {
                throw new IllegalArgumentException("device '" + device + "': 'auto' takes no index");
            }
            return auto(threads, sorted(providers));
        }
        List<BackendProvider> named = providers.stream().filter(p -> p.name().equals(name)).toList();
        if (named.isEmpty()) {
            throw new IllegalArgumentException("unknown device '" + device + "' for " + DEVICE_PROPERTY
                    + "; expected auto, NAME or NAME:N with NAME one of: " + describe(sorted(providers)));
        }
        if (named.size() > 1) {
            // Several providers of one name (a test double next to the real one, or two builds on the
            // class path): an unavailable one does not shadow an available one; two available are ambiguous.
            List<BackendProvider> usable = named.stream().filter(p -> p.availability().available()).toList();
            if (usable.size() > 1) {
                throw new IllegalStateException("device '" + device + "' is ambiguous: " + usable.size()
                        + " available providers are named '" + name + "': "
                        + usable.stream().map(p -> p.getClass().getName()).toList());
            }
            if (usable.size() == 1) {
                return usable.get(0).create(index, threads);
            }
        }
        BackendProvider.Availability a = named.get(0).availability();
        if (!a.available()) {
            throw new IllegalStateException("device '" + device + "' is not available: " + a.reason());
        }
        return named.get(0).create(index, threads);
    }

    private static Backend auto(int threads, List<BackendProvider> byPriority) {
        List<String> skipped = new ArrayList<>();
        for (BackendProvider p : byPriority) {
            BackendProvider.Availability a = p.availability();
            if (!a.available()) {
                skipped.add(p.name() + ": " + a.reason());
                continue;
            }
            if (p.name().equals(REFERENCE) && !skipped.isEmpty() && WARNED.compareAndSet(false, true)) {
                LOG.warn("sparkmm: using the slow reference backend ({}) because no faster device is available: {}",
                        REFERENCE, String.join("; ", skipped));
            }
            return p.create(0, threads);
        }
        throw new IllegalStateException("device 'auto': no available device among " + describe(byPriority));
    }

    private static int parseIndex(String device, String digits) {
        try {
            int index = Integer.parseInt(digits);
            if (index >= 0 && digits.chars().allMatch(Character::isDigit)) {
                return index;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("device '" + device + "': the index after ':' must be a"
                + " non-negative integer, as in cuda:0");
    }

    private static List<BackendProvider> sorted(List<BackendProvider> providers) {
        List<BackendProvider> s = new ArrayList<>(providers);
        s.sort(Comparator.comparingInt(BackendProvider::priority).reversed().thenComparing(BackendProvider::name));
        return List.copyOf(s);
    }

    /** "cpu, cpu-reference, cuda (unavailable: no driver)". */
    private static String describe(List<BackendProvider> providers) {
        if (providers.isEmpty()) {
            return "(none registered; is the sparkmm-kernels jar's META-INF/services intact?)";
        }
        List<String> parts = new ArrayList<>();
        for (BackendProvider p : providers) {
            BackendProvider.Availability a = p.availability();
            parts.add(a.available() ? p.name() : p.name() + " (unavailable: " + a.reason() + ")");
        }
        return String.join(", ", parts);
    }

    /** Whether the JVM has the Vector API module, which device "cpu" needs. */
    public static boolean vectorApiAvailable() {
        return ModuleLayer.boot().findModule(VectorBackendProvider.VECTOR_MODULE).isPresent();
    }
}
