package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.DType;
import io.sparkmm.kernels.KvCache;
import io.sparkmm.kernels.PagedBatch;
import io.sparkmm.kernels.RopePositions;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.kernels.cuda.CudaApi.KernelArg;
import io.sparkmm.kernels.cuda.FakeCudaApi.Launched;
import io.sparkmm.kernels.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The whole {@link CudaBackend} driven through {@link FakeCudaApi}: what it allocates, copies and
 * launches, and that it frees everything. The fake runs no kernels, so no math is asserted here;
 * that is {@code CudaBackendGpuTest}'s job.
 */
class CudaBackendFakeTest {

    private FakeCudaApi fake;
    private CudaBackend be;

    @BeforeEach
    void start() {
        fake = new FakeCudaApi();
        be = new CudaBackend(fake, 0, new byte[] {0x50, (byte) 0xED, 0x55, (byte) 0xBA}, GpuMemoryUtilization.of(0.5));
    }

    @AfterEach
    void stop() {
        be.close();
        fake.assertNoLeaks();
    }

    private static ByteBuffer bf16(int count) {
        return ByteBuffer.allocate(count * 2).order(ByteOrder.LITTLE_ENDIAN);
    }

    private Launched last(String kernel) {
        List<Launched> l = fake.launches.stream().filter(x -> x.kernel().equals(kernel)).toList();
        assertThat(l).as("launches of %s", kernel).isNotEmpty();
        return l.get(l.size() - 1);
    }

    private static long ptr(Launched l, int i) {
        return ((KernelArg.Ptr) l.args().get(i)).address();
    }

    private static int i32(Launched l, int i) {
        return ((KernelArg.I32) l.args().get(i)).value();
    }

    @Test
    void startsOnThePrimaryContextWithOneStreamAndLoadsTheModuleOnce() {
        assertThat(be.name()).isEqualTo("cuda:0 (Fake GPU, sm 9.0)");
        assertThat(fake.contextsRetained).isEqualTo(1);
        assertThat(fake.modulesLoaded).isEqualTo(1);
        assertThat(fake.calls).filteredOn(c -> c.equals("cuStreamCreate")).hasSize(1);
    }

    @Test
    void uploadAndDownloadRoundTripThroughDeviceMemory() {
        float[] data = {1.5f, -2f, 3.25f, Float.MIN_VALUE, -0f, 7e30f};
        try (Tensor t = be.upload(data, 2, 3)) {
            assertThat(be.download(t)).containsExactly(data);
            int before = fake.calls.size();
            be.download(t);
            List<String> after = fake.calls.subList(before, fake.calls.size());
            assertThat(after).containsSubsequence("cuMemcpyDtoHAsync(24)", "cuStreamSynchronize");
        }
        try (Tensor z = be.zeros(4, 5)) {
            assertThat(be.download(z)).hasSize(20).containsOnly(0f);
        }
        assertThatThrownBy(() -> be.upload(data, 4, 2)).hasMessageContaining("does not match shape [4, 2]");
    }

    @Test
    void copyRowsIsADeviceToDeviceCopy() {
        try (Tensor a = be.upload(new float[] {1, 2, 3, 4, 5, 6}, 3, 2); Tensor b = be.zeros(2, 2)) {
            be.copyRows(a, 1, b, 0, 2);
            assertThat(fake.calls).contains("cuMemcpyDtoDAsync(16)");
            assertThat(be.download(b)).containsExactly(3, 4, 5, 6);
            assertThatThrownBy(() -> be.copyRows(a, 2, b, 0, 2)).hasMessageContaining("copyRows source");
        }
    }

    /** Every op once, with weights in BF16: each launch matches the header (the fake checks), and all 14 kernels run. */
    @Test
    void everyOpLaunchesAnAbiKernelWithTheHeadersArguments() {
        int n = 3, d = 8, heads = 2, kvHeads = 1, hd = 4;
        Tensor x = be.upload(new float[n * d], n, d);
        Tensor out = be.zeros(n, d);
        Tensor w = be.weight(DType.BF16, bf16(d * d), d, d);
        Tensor bias = be.weight(DType.BF16, bf16(d), d);
        Tensor norm = be.weight(DType.F16, bf16(d), d);
        Tensor lnBias = be.weight(DType.BF16, bf16(d), d);
        be.matmul(x, w, bias, out);
        be.matmul(x, w, bias, out);
        be.rmsNorm(x, norm, 1e-6f, out);
        be.layerNorm(x, norm, lnBias, 1e-5f, out);
        be.rope(x, RopePositions.linear(new int[] {0, 1, 2}), heads, hd, new float[] {1, 0.5f}, 1f);
        be.siluMul(x, x, out);
        be.activation(Activation.GELU_TANH, x, out);
        be.softmax(x, out);
        Tensor kv = be.upload(new float[n * kvHeads * hd], n, kvHeads * hd);
        be.attention(x, kv, kv, out, heads, kvHeads, hd, 0.5f, true);
        Tensor table = be.weight(DType.BF16, bf16(10 * d), 10, d);
        be.embedding(table, new int[] {9, 0, 3}, out);
        be.add(x, x, out);
        assertThat(be.argmax(x)).containsExactly(0, 0, 0);
        KvCache cache = be.allocateKvCache(2, 4, 2, kvHeads, hd, DType.BF16);
        PagedBatch batch = new PagedBatch(2, new int[] {0, 3}, new int[] {3}, new int[][] {{2, 0}}, new int[] {4, 5, 0});
        be.pagedAttention(x, kv, kv, cache, 1, batch, out, heads, kvHeads, hd, 0.5f);
        be.download(w);

        Set<String> launched = fake.launches.stream().map(Launched::kernel).collect(Collectors.toSet());
        assertThat(launched).isEqualTo(AbiHeader.kernels().keySet());
        assertThat(fake.functionLookups).as("each function looked up once").allSatisfy((k, v) -> assertThat(v).isEqualTo(1));
        assertThat(fake.modulesLoaded).isEqualTo(1);

        Launched mm = last("sparkmm_matmul");
        assertThat(i32(mm, 2)).as("w dtype BF16").isEqualTo(1);
        assertThat(List.of(i32(mm, 5), i32(mm, 6), i32(mm, 7))).containsExactly(n, d, d);
        assertThat(ptr(mm, 3)).as("an F32 copy of the BF16 bias, made once").isNotZero();
        assertThat(fake.launches).filteredOn(l -> l.kernel().equals("sparkmm_to_f32")).hasSizeGreaterThanOrEqualTo(1);
        assertThat(i32(last("sparkmm_rms_norm"), 2)).as("F16 norm weight").isEqualTo(2);
        assertThat(i32(last("sparkmm_layer_norm"), 3)).as("mixed dtypes read as F32 copies").isZero();
        assertThat(i32(last("sparkmm_activation"), 3)).isEqualTo(2);
        Launched emb = last("sparkmm_embedding");
        int[] ids = new int[3];
        fake.read(ptr(emb, 2), 12).asIntBuffer().get(ids);
        assertThat(ids).containsExactly(9, 0, 3);
        Launched att = last("sparkmm_attention");
        assertThat(att.grid()).isEqualTo(CudaApi.Dim3.of(n, heads));
        assertThat(i32(att, 9)).as("causal").isEqualTo(1);
    }

    @Test
    void pagedAttentionUploadsTheFlattenedBatchAndWritesKvFirst() {
        int heads = 4, kvHeads = 2, hd = 8;
        KvCache cache = be.allocateKvCache(3, 6, 4, kvHeads, hd, DType.F16);
        // segment 0: decode at position 5 (blocks 3, 1); segment 1: prefill of 2 (block 4)
        PagedBatch batch = new PagedBatch(4, new int[] {0, 1, 3}, new int[] {6, 2}, new int[][] {{3, 1, 0}, {4}},
                new int[] {1 * 4 + 1, 16, 17});
        try (Tensor q = be.zeros(3, heads * hd); Tensor k = be.zeros(3, kvHeads * hd); Tensor v = be.zeros(3, kvHeads * hd);
             Tensor out = be.zeros(3, heads * hd)) {
            be.pagedAttention(q, k, v, cache, 2, batch, out, heads, kvHeads, hd, 0.25f);
        }
        List<String> kernels = fake.launches.stream().map(Launched::kernel).toList();
        assertThat(kernels).containsSubsequence("sparkmm_kv_write", "sparkmm_paged_attention");
        Launched pa = last("sparkmm_paged_attention");
        DeviceBatch expected = DeviceBatch.of(batch);
        long base = ptr(pa, 5) - 4L * expected.rowSegmentOffset();
        int[] uploaded = new int[expected.packed().length];
        fake.read(base, uploaded.length * 4).asIntBuffer().get(uploaded);
        assertThat(uploaded).containsExactly(expected.packed());
        assertThat(i32(pa, 4)).as("F16 pool").isEqualTo(2);
        assertThat(List.of(i32(pa, 9), i32(pa, 10), i32(pa, 11), i32(pa, 12), i32(pa, 13), i32(pa, 14)))
                .as("max_blocks, tokens, block_size, heads, kv_heads, hd").containsExactly(2, 3, 4, heads, kvHeads, hd);
        Launched kw = last("sparkmm_kv_write");
        assertThat(ptr(kw, 2)).as("layer 2's K pool").isEqualTo(ptr(pa, 2));
        assertThat(ptr(kw, 5)).as("slots").isEqualTo(base);
    }

    @Test
    void ropeUploadsPositionsSectionsAndFrequencies() {
        int[][] pos = {{0, 1}, {5, 6}, {9, 8}};
        try (Tensor x = be.zeros(2, 2 * 8)) {
            be.rope(x, RopePositions.sectioned(pos, new int[] {1, 2, 1}), 2, 8, new float[] {1, 2, 3, 4}, 1f);
        }
        Launched r = last("sparkmm_rope");
        int[] positions = new int[6];
        fake.read(ptr(r, 1), 24).asIntBuffer().get(positions);
        assertThat(positions).containsExactly(0, 1, 5, 6, 9, 8);
        int[] sectionOf = new int[4];
        fake.read(ptr(r, 2), 16).asIntBuffer().get(sectionOf);
        assertThat(sectionOf).containsExactly(0, 1, 1, 2);
        float[] inv = new float[4];
        fake.read(ptr(r, 3), 16).asFloatBuffer().get(inv);
        assertThat(inv).containsExactly(1, 2, 3, 4);
        assertThat(r.block()).isEqualTo(CudaApi.Dim3.of(8));
    }

    @Test
    void kvPoolIsOneZeroedAllocationPerLayerAndKind() {
        long before = fake.liveBytes();
        KvCache c = be.allocateKvCache(3, 10, 16, 2, 8, DType.BF16);
        long layer = 10L * 16 * 2 * 8 * 2;
        assertThat(fake.calls).filteredOn(s -> s.equals("cuMemAlloc(" + layer + ")")).hasSize(6);
        assertThat(fake.calls).filteredOn(s -> s.equals("cuMemsetD8Async(" + layer + ")")).hasSize(6);
        assertThat(fake.liveBytes() - before).isEqualTo(c.bytes()).isEqualTo(10 * KvCache.bytesPerBlock(3, 16, 2, 8, DType.BF16));
        c.close();
        c.close();
        assertThat(fake.liveBytes()).isEqualTo(before);
    }

    @Test
    void anOutOfMemoryKvPoolSaysHowMuchAndHowToAllowMoreAndLeaksNothing() {
        fake.capacity = fake.liveBytes() + 5000;
        int live = be.liveAllocations();
        assertThatThrownBy(() -> be.allocateKvCache(4, 10, 16, 2, 8, DType.F32))
                .isInstanceOf(IllegalStateException.class).isInstanceOf(CudaException.class)
                .hasMessageContaining("allocateKvCache: 4 layers x 2 x 10240 bytes")
                .hasMessageContaining("CUDA_ERROR_OUT_OF_MEMORY (2)")
                .hasMessageContaining("use fewer blocks").hasMessageContaining("sparkmm.gpuMemoryUtilization");
        assertThat(be.liveAllocations()).isEqualTo(live);
    }

    @Test
    void aDriverErrorNamesTheOpAndShapes() {
        try (Tensor x = be.zeros(2, 3); Tensor w = be.zeros(4, 3); Tensor out = be.zeros(2, 4)) {
            fake.failNext("cuLaunchKernel", 700, "CUDA_ERROR_ILLEGAL_ADDRESS");
            assertThatThrownBy(() -> be.matmul(x, w, null, out)).isInstanceOf(CudaException.class)
                    .hasMessageContaining("matmul x [2, 3] @ w [4, 3] F32^T")
                    .hasMessageContaining("cuLaunchKernel(sparkmm_matmul)")
                    .hasMessageContaining("CUDA_ERROR_ILLEGAL_ADDRESS (700)");
            fake.failNext("cuMemcpyDtoHAsync", 719, "CUDA_ERROR_LAUNCH_FAILED");
            assertThatThrownBy(() -> be.download(out)).isInstanceOf(CudaException.class)
                    .hasMessageContaining("download CudaTensor[2, 4] F32").hasMessageContaining("(719)");
        }
    }

    @Test
    void hostChecksComeBeforeAnyLaunch() {
        try (Tensor table = be.weight(DType.BF16, bf16(20), 10, 2); Tensor out = be.zeros(1, 2);
             Backend other = new ReferenceBackend(); Tensor foreign = other.zeros(1, 2)) {
            int launches = fake.launches.size();
            assertThatThrownBy(() -> be.embedding(table, new int[] {10}, out)).hasMessageContaining("token id 10");
            assertThatThrownBy(() -> be.add(foreign, out, out)).hasMessageContaining("was not made by cuda:0");
            assertThatThrownBy(() -> be.siluMul(table, out, out)).hasMessageContaining("activations must be F32");
            assertThat(fake.launches).hasSize(launches);
        }
    }

    @Test
    void memoryBudgetIsTheFractionOfFreeMemory() {
        fake.freeBytes = 10_000;
        assertThat(be.memoryBudget().availableBytes()).isEqualTo(5000);
    }

    @Test
    void closeFreesEveryAllocationEvenUnclosedTensorsAndIsIdempotent() {
        be.upload(new float[] {1, 2}, 2);
        be.weight(DType.F16, bf16(4), 4);
        be.allocateKvCache(1, 2, 2, 1, 2, DType.F32);
        try (Tensor x = be.zeros(1, 4)) {
            be.argmax(x);
        }
        assertThat(be.liveAllocations()).isGreaterThanOrEqualTo(5);
        be.close();
        fake.assertNoLeaks();
        be.close();
        assertThatThrownBy(() -> be.zeros(1)).hasMessageContaining("was closed");
    }

    @Test
    void aFailedStartReleasesWhatItTook() {
        FakeCudaApi f = new FakeCudaApi();
        f.failNext("cuModuleLoadData", 209, "CUDA_ERROR_NO_BINARY_FOR_GPU");
        assertThatThrownBy(() -> new CudaBackend(f, 0, new byte[] {1}, GpuMemoryUtilization.of(0.9)))
                .hasMessageContaining("CUDA_ERROR_NO_BINARY_FOR_GPU (209)");
        f.assertNoLeaks();
    }
}
