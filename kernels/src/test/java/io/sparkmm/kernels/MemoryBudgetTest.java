package io.sparkmm.kernels;

import io.sparkmm.kernels.cpu.DirectMemory;
import io.sparkmm.kernels.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The CPU backends' memory budget: the JVM's direct-memory limit, what pools take from it, and the flag to raise it. */
class MemoryBudgetTest {

    /** Slack for direct buffers other than ours appearing or being collected between two readings. */
    private static final long SLACK = 1 << 20;

    @Test
    void budgetShrinksByWhatAPoolTakes() {
        for (Backend be : List.of(new ReferenceBackend(), Backends.open("cpu", 1))) {
            try (be) {
                MemoryBudget before = be.memoryBudget();
                assertThat(before.availableBytes()).isPositive();
                assertThat(before.kind()).isEqualTo("off-heap (direct) memory");
                assertThat(before.howToRaise()).contains("-XX:MaxDirectMemorySize")
                        .contains("spark.executor.extraJavaOptions");
                // 2 layers x 128 blocks x 2 (K, V) x 16 tokens x 8 heads x 64 dims x 4 bytes = 16 MiB
                KvCache f32 = be.allocateKvCache(2, 128, 16, 8, 64);
                assertThat(f32.bytes()).isEqualTo(16L << 20);
                long afterF32 = be.memoryBudget().availableBytes();
                assertThat(before.availableBytes() - afterF32).as("F32 pool on %s", be.name())
                        .isBetween(f32.bytes() - SLACK, f32.bytes() + SLACK);
                KvCache bf16 = be.allocateKvCache(2, 128, 16, 8, 64, DType.BF16);
                assertThat(bf16.bytes()).isEqualTo(8L << 20);
                assertThat(afterF32 - be.memoryBudget().availableBytes()).as("BF16 pool on %s", be.name())
                        .isBetween(bf16.bytes() - SLACK, bf16.bytes() + SLACK);
            }
        }
    }

    @Test
    void theLimitIsTheLastFlagElseTheMaximumHeap() {
        long heap = 3L << 30;
        assertThat(DirectMemory.limit(List.of("-Xmx3g"), heap)).isEqualTo(heap);
        assertThat(DirectMemory.limit(List.of("-XX:MaxDirectMemorySize=512m"), heap)).isEqualTo(512L << 20);
        assertThat(DirectMemory.limit(List.of("-XX:MaxDirectMemorySize=2G"), heap)).isEqualTo(2L << 30);
        assertThat(DirectMemory.limit(List.of("-XX:MaxDirectMemorySize=64K"), heap)).isEqualTo(64L << 10);
        assertThat(DirectMemory.limit(List.of("-XX:MaxDirectMemorySize=1t"), heap)).isEqualTo(1L << 40);
        assertThat(DirectMemory.limit(List.of("-XX:MaxDirectMemorySize=4096"), heap)).isEqualTo(4096);
        assertThat(DirectMemory.limit(List.of("-XX:MaxDirectMemorySize=0"), heap)).as("explicit 0").isZero();
        // JAVA_TOOL_OPTIONS come first, the command line after: the last one wins
        assertThat(DirectMemory.limit(List.of("-XX:MaxDirectMemorySize=1g", "-Xmx1g", "-XX:MaxDirectMemorySize=3m"),
                heap)).isEqualTo(3L << 20);
        assertThat(DirectMemory.limit(List.of("-XX:MaxDirectMemorySize=lots"), heap)).isEqualTo(heap);
        // this JVM: surefire passes -Xmx3g and no direct-memory flag
        assertThat(ManagementFactory.getRuntimeMXBean().getInputArguments())
                .noneMatch(a -> a.startsWith("-XX:MaxDirectMemorySize"));
        assertThat(DirectMemory.limit()).isEqualTo(Runtime.getRuntime().maxMemory());
    }

    @Test
    void budgetValidatesItsFields() {
        assertThatThrownBy(() -> new MemoryBudget(-1, "x", "y")).hasMessageContaining("negative");
        assertThatThrownBy(() -> new MemoryBudget(1, " ", "y")).hasMessageContaining("required");
    }

    /**
     * In a JVM limited to 64 MiB of direct memory the budget says so, and a second pool that
     * does not fit fails with a message naming the flag.
     */
    @Test
    void aRealLimitIsReadAndExceedingItNamesTheFlag() throws Exception {
        String out = ChildJvm.run(Limited.class, "-XX:MaxDirectMemorySize=64m");
        assertThat(out).contains("limit: " + (64L << 20)).contains("first pool bytes: " + (40L << 20))
                .contains("first pool fits: true")
                .contains("second pool: allocateKvCache(").contains("could not reserve")
                .contains("-XX:MaxDirectMemorySize").contains("spark.executor.extraJavaOptions");
    }

    /** Main of the child JVM with a 64 MiB direct-memory limit. */
    static final class Limited {
        public static void main(String[] args) {
            try (Backend be = new ReferenceBackend()) {
                MemoryBudget budget = be.memoryBudget();
                System.out.println("limit: " + DirectMemory.limit());
                // 1280 blocks x 2 (K, V) x 16 tokens x 8 heads x 32 dims x 4 bytes = 40 MiB:
                // one pool fits the limit, two do not
                KvCache first = be.allocateKvCache(1, 1280, 16, 8, 32, DType.F32);
                System.out.println("first pool bytes: " + first.bytes());
                System.out.println("first pool fits: " + (first.bytes() <= budget.availableBytes()));
                try {
                    be.allocateKvCache(1, 1280, 16, 8, 32, DType.F32);
                    System.out.println("second pool: succeeded");
                } catch (IllegalStateException e) {
                    System.out.println("second pool: " + e.getMessage());
                }
            }
        }
    }
}
