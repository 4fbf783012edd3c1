package io.sparkmm.connector.engine;

import io.sparkmm.kernels.BackendProvider.Availability;

import java.util.List;
import java.util.Locale;

/**
 * The concrete device a task's engine runs on, decided on the executor from the user's device
 * word and the GPUs Spark assigned to the task ({@code spark.executor.resource.gpu.amount},
 * {@code spark.task.resource.gpu.amount}). Pure: the caller reads the task's resources, the JVM's
 * default device and whether a {@code cuda} backend is available, and logs the note.
 *
 * <p>Why here and not on the driver: which GPU a task gets is known only once it is scheduled,
 * and two tasks of one executor may hold different GPUs. The resolved device is part of the key
 * the executor looks engines up by, so tasks on one GPU share an engine and tasks on another get
 * their own (and their own copy of the weights, which must live on that GPU).
 *
 * <p>Rules, after {@code auto} is replaced by the JVM's default device ({@code sparkmm.device})
 * when that is set:
 * <ul>
 *   <li>{@code cuda}: the task's GPU address, {@code cuda:<address>}; with several, the first (and a
 *       note: one engine drives one GPU); with none, {@code cuda:0} and a note saying every task of
 *       the executor then shares GPU 0;</li>
 *   <li>{@code cuda:N}: as written; a note if Spark assigned the task other GPUs;</li>
 *   <li>{@code auto}: {@code cuda:<address>} when the task has a GPU and a {@code cuda} backend is
 *       available, else {@code auto} (the fastest available backend, as without GPUs); a task that
 *       has a GPU but no usable {@code cuda} backend gets a note saying why;</li>
 *   <li>any other word ({@code cpu}, {@code cpu-reference}, ...): as written.</li>
 * </ul>
 */
public final class DeviceAssignment {

    /** Spark's resource name for GPUs, as in {@code spark.executor.resource.gpu.amount}. */
    public static final String GPU_RESOURCE = "gpu";
    /** The device word of the CUDA backend; {@code cuda:N} is GPU N. */
    public static final String CUDA = "cuda";

    /**
     * @param device the concrete device word: what the weights and engines are keyed by
     * @param note something the executor log should say once (a guess made or a mismatch), or null
     */
    public record Resolution(String device, String note) {
    }

    private DeviceAssignment() {
    }

    /**
     * @param requested the engine key's device word, normalized ({@link EngineKey#normalizeDevice})
     * @param jvmDefault the executor's default device ({@code sparkmm.device}; "auto" when unset)
     * @param taskGpus the addresses of the task's "gpu" resource, in Spark's order; empty when
     *     GPUs are not configured or outside a task
     * @param cuda whether a {@code cuda} backend can be created in this JVM (unavailable, with a
     *     reason, when none is registered)
     * @throws IllegalArgumentException if a GPU address the decision needs is not a device index
     */
    public static Resolution resolve(String requested, String jvmDefault, List<String> taskGpus, Availability cuda) {
        String word = EngineKey.normalizeDevice(requested);
        if (word.equals(EngineKey.AUTO)) {
            word = EngineKey.normalizeDevice(jvmDefault);
        }
        if (word.equals(CUDA)) {
            return cudaFromTask(taskGpus);
        }
        if (word.startsWith(CUDA + ":")) {
            return explicitCuda(word, taskGpus);
        }
        if (word.equals(EngineKey.AUTO) && !taskGpus.isEmpty()) {
            if (cuda.available()) {
                Resolution r = cudaFromTask(taskGpus);
                return new Resolution(r.device(), r.note() == null ? null : "device 'auto': " + r.note());
            }
            return new Resolution(word, "this task was assigned GPU " + taskGpus.get(0) + " by Spark, but device 'auto'"
                    + " cannot use it: " + cuda.reason() + "; using the fastest available CPU backend");
        }
        return new Resolution(word, null);
    }

    private static Resolution cudaFromTask(List<String> taskGpus) {
        if (taskGpus.isEmpty()) {
            return new Resolution(CUDA + ":0", "device 'cuda': Spark assigned this task no GPU (set "
                    + "spark.executor.resource.gpu.amount and spark.task.resource.gpu.amount to give each task its own);"
                    + " using GPU 0, so every task of this executor shares GPU 0");
        }
        String first = taskGpus.get(0);
        String device = CUDA + ":" + index(first);
        if (taskGpus.size() == 1) {
            return new Resolution(device, null);
        }
        return new Resolution(device, "Spark assigned this task " + taskGpus.size() + " GPUs " + taskGpus
                + ", but one engine drives one GPU; using the first, " + device
                + " (set spark.task.resource.gpu.amount=1 to run one task per GPU)");
    }

    private static Resolution explicitCuda(String word, List<String> taskGpus) {
        String digits = word.substring(CUDA.length() + 1);
        if (!isIndex(digits)) {
            // Backends.open reports the malformed index, naming the device word the user wrote
            return new Resolution(word, null);
        }
        String device = CUDA + ":" + Integer.parseInt(digits);
        if (taskGpus.isEmpty() || taskGpus.stream().anyMatch(a -> isIndex(a) && Integer.parseInt(a) == Integer.parseInt(digits))) {
            return new Resolution(device, null);
        }
        return new Resolution(device, "device '" + device + "' is set explicitly, but Spark assigned this task GPU(s) "
                + taskGpus + "; using " + device + " as asked, so it may be shared with tasks Spark put on that GPU"
                + " (use device 'cuda' to follow Spark's assignment)");
    }

    /**
     * The CUDA index of a Spark GPU address. Spark's own discovery script (nvidia-smi) reports
     * indices; a script reporting UUIDs or bus ids would make every guess here wrong, so say so.
     */
    private static int index(String address) {
        if (!isIndex(address)) {
            throw new IllegalArgumentException("sparkmm: Spark assigned this task the GPU address '" + address
                    + "', which is not a CUDA device index; the GPU discovery script "
                    + "(spark.executor.resource.gpu.discoveryScript) must report indices such as \"0\", \"1\"");
        }
        return Integer.parseInt(address.strip());
    }

    private static boolean isIndex(String s) {
        String t = s == null ? "" : s.strip().toLowerCase(Locale.ROOT);
        return !t.isEmpty() && t.length() < 10 && t.chars().allMatch(c -> c >= '0' && c <= '9');
    }
}
