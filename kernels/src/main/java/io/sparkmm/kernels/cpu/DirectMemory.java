package io.sparkmm.kernels.cpu;

import io.sparkmm.kernels.MemoryBudget;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;

/**
 * The JVM's direct (off-heap) memory, where the CPU backends keep KV pools: its limit, what is
 * taken, and the budget left. One place, so the budget and the out-of-memory messages agree.
 */
public final class DirectMemory {

    public static final String KIND = "off-heap (direct) memory";
    public static final String HOW_TO_RAISE = "start the JVM with a larger -XX:MaxDirectMemorySize (by default it"
            + " equals the maximum heap, -Xmx); on Spark executors put it in spark.executor.extraJavaOptions and"
            + " leave room for it in spark.executor.memoryOverhead";

    private static final String FLAG = "-XX:MaxDirectMemorySize=";

    private DirectMemory() {
    }

    /** What a CPU backend can still allocate off-heap: {@link #limit()} minus {@link #reserved()}. */
    public static MemoryBudget budget() {
        return new MemoryBudget(Math.max(0, limit() - reserved()), KIND, HOW_TO_RAISE);
    }

    /** The direct-memory limit of this JVM. */
    public static long limit() {
        return limit(ManagementFactory.getRuntimeMXBean().getInputArguments(), Runtime.getRuntime().maxMemory());
    }

    /**
     * The limit as the JDK sets it: the last {@code -XX:MaxDirectMemorySize} among the JVM's
     * arguments (the last one wins, as for every -XX flag; JAVA_TOOL_OPTIONS come first), else
     * the maximum heap. An explicit 0 is a limit of 0, as in the JDK.
     */
    public static long limit(List<String> jvmArguments, long maxHeap) {
        long limit = maxHeap;
        for (String arg : jvmArguments) {
            if (arg.startsWith(FLAG)) {
                long parsed = parseSize(arg.substring(FLAG.length()));
                if (parsed >= 0) {
                    limit = parsed;
                }
            }
        }
        return limit;
    }

    /**
     * Direct memory taken now: the capacity of every live direct buffer, the quantity the JDK
     * checks new buffers against its limit with. Buffers of a closed KV pool count until the
     * collector frees them, so right after a pool is closed this overstates what is taken (the
     * JDK's own reservation runs a collection before it refuses).
     */
    public static long reserved() {
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                return pool.getTotalCapacity();
            }
        }
        return 0;
    }

    /** A HotSpot size (digits, optionally k, m, g or t in either case), or -1 when it is not one. */
    static long parseSize(String text) {
        if (text.isEmpty()) {
            return -1;
        }
        char unit = Character.toLowerCase(text.charAt(text.length() - 1));
        int shift = switch (unit) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        String digits = shift == 0 ? text : text.substring(0, text.length() - 1);
        try {
            long value = Long.parseLong(digits);
            if (value < 0 || value > Long.MAX_VALUE >> shift) {
                return -1;
            }
            return value << shift;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static String describeBytes(long bytes) {
        return bytes + " bytes (" + String.format(Locale.ROOT, "%.2f", bytes / (double) (1L << 30)) + " GiB)";
    }
}
