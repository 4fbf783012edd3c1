package io.sparkmm.engine.bench;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * High-water marks of a benchmark JVM: heap (the heap pools' own peak usage, which the JVM
 * tracks exactly, and the live heap after a full GC), direct buffers (sampled every 20 ms: the JVM keeps no peak for them) and the
 * process's peak resident set (Linux's VmHWM; 0 elsewhere), which also counts mapped weights.
 */
final class MemoryWatch implements AutoCloseable {

    /**
     * @param heapBytes the heap pools' peaks added up: a high-water mark that includes garbage
     * @param liveHeapBytes heap in use right after a full GC: what the run keeps (weights, KV index, ...)
     */
    record Peaks(long heapBytes, long liveHeapBytes, long directBytes, long rssBytes) {
    }

    private final Thread sampler;
    private volatile long directPeak;
    private volatile boolean stop;

    private MemoryWatch() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            p.resetPeakUsage();
        }
        sampler = new Thread(() -> {
            List<BufferPoolMXBean> pools = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class);
            while (!stop) {
                for (BufferPoolMXBean b : pools) {
                    if (b.getName().equals("direct")) {
                        directPeak = Math.max(directPeak, b.getMemoryUsed());
                    }
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "memory-watch");
        sampler.setDaemon(true);
        sampler.start();
    }

    static MemoryWatch start() {
        return new MemoryWatch();
    }

    Peaks peaks() {
        System.gc();
        long live = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long heap = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                heap += p.getPeakUsage().getUsed();
            }
        }
        return new Peaks(heap, live, directPeak, peakRss());
    }

    private static long peakRss() {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return 0;
        }
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    @Override
    public void close() {
        stop = true;
        sampler.interrupt();
    }
}
