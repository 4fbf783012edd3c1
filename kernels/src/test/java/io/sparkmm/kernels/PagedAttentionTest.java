package io.sparkmm.kernels;

import io.sparkmm.kernels.cpu.CpuKvCache;
import io.sparkmm.kernels.reference.ReferenceBackend;
import io.sparkmm.kernels.simd.VectorBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Paged attention: bit-identical to contiguous causal attention on the same backend, however a
 * sequence is chunked, whatever shares its batch, with blocks in any order; and the SIMD backend
 * within tolerance of the reference.
 */
class PagedAttentionTest {

    private static final int HEADS = 4;
    private static final int KV_HEADS = 2;
    private static final int HD = 12;
    private static final float SCALE = (float) (1 / Math.sqrt(HD));

    private static Backend backend(String name) {
        return switch (name) {
            case "reference" -> new ReferenceBackend();
            case "simd1" -> new VectorBackend(1);
            default -> new VectorBackend(2);
        };
    }

    /** One sequence's projections for all its positions. */
    private record Seq(float[] q, float[] k, float[] v, int len) {
        static Seq random(Random rnd, int len) {
            return new Seq(TestData.gaussian(rnd, len * HEADS * HD, 1), TestData.gaussian(rnd, len * KV_HEADS * HD, 1),
                    TestData.gaussian(rnd, len * KV_HEADS * HD, 1), len);
        }
    }

    private static float[] contiguous(Backend b, Seq s) {
        try (Tensor q = b.upload(s.q, s.len, HEADS * HD); Tensor k = b.upload(s.k, s.len, KV_HEADS * HD);
             Tensor v = b.upload(s.v, s.len, KV_HEADS * HD); Tensor o = b.zeros(s.len, HEADS * HD)) {
            b.attention(q, k, v, o, HEADS, KV_HEADS, HD, SCALE, true);
            return b.download(o);
        }
    }

    /**
     * Runs several sequences through paged attention, each split into chunks of the given size,
     * all sequences' chunks of a round in one batch; returns each sequence's output rows.
     */
    private static List<float[]> paged(Backend b, List<Seq> seqs, int chunk, int blockSize, long seed) {
        int total = 0;
        for (Seq s : seqs) {
            total += (s.len + blockSize - 1) / blockSize;
        }
        List<Integer> free = new ArrayList<>();
        for (int i = 0; i < total + 3; i++) {
            free.add(i);
        }
        Collections.shuffle(free, new Random(seed)); // blocks in no particular order
        int[][] tables = new int[seqs.size()][];
        int next = 0;
        for (int i = 0; i < seqs.size(); i++) {
            tables[i] = new int[(seqs.get(i).len + blockSize - 1) / blockSize];
            for (int j = 0; j < tables[i].length; j++) {
                tables[i][j] = free.get(next++);
            }
        }
        List<float[]> outs = new ArrayList<>();
        for (Seq s : seqs) {
            outs.add(new float[s.len * HEADS * HD]);
        }
        int[] done = new int[seqs.size()];
        try (KvCache cache = b.allocateKvCache(2, total + 3, blockSize, KV_HEADS, HD)) {
            while (true) {
                List<Integer> members = new ArrayList<>();
                for (int i = 0; i < seqs.size(); i++) {
                    if (done[i] < seqs.get(i).len) {
                        members.add(i);
                    }
                }
                if (members.isEmpty()) {
                    return outs;
                }
                int[] qs = new int[members.size() + 1];
                int[] ctx = new int[members.size()];
                int[][] bt = new int[members.size()][];
                for (int m = 0; m < members.size(); m++) {
                    Seq s = seqs.get(members.get(m));
                    int len = Math.min(chunk, s.len - done[members.get(m)]);
                    qs[m + 1] = qs[m] + len;
                    ctx[m] = done[members.get(m)] + len;
                    bt[m] = tables[members.get(m)];
                }
                int t = qs[members.size()];
                float[] q = new float[t * HEADS * HD];
                float[] k = new float[t * KV_HEADS * HD];
                float[] v = new float[t * KV_HEADS * HD];
                int[] slots = new int[t];
                for (int m = 0; m < members.size(); m++) {
                    Seq s = seqs.get(members.get(m));
                    int start = done[members.get(m)];
                    for (int r = 0; r < qs[m + 1] - qs[m]; r++) {
                        int pos = start + r;
                        int row = qs[m] + r;
                        System.arraycopy(s.q, pos * HEADS * HD, q, row * HEADS * HD, HEADS * HD);
                        System.arraycopy(s.k, pos * KV_HEADS * HD, k, row * KV_HEADS * HD, KV_HEADS * HD);
                        System.arraycopy(s.v, pos * KV_HEADS * HD, v, row * KV_HEADS * HD, KV_HEADS * HD);
                        slots[row] = bt[m][pos / blockSize] * blockSize + pos % blockSize;
                    }
                }
                float[] o;
                try (Tensor tq = b.upload(q, t, HEADS * HD); Tensor tk = b.upload(k, t, KV_HEADS * HD);
                     Tensor tv = b.upload(v, t, KV_HEADS * HD); Tensor to = b.zeros(t, HEADS * HD)) {
                    b.pagedAttention(tq, tk, tv, cache, 1, new PagedBatch(qs, ctx, bt, slots), to, HEADS, KV_HEADS, HD, SCALE);
                    o = b.download(to);
                }
                for (int m = 0; m < members.size(); m++) {
                    int i = members.get(m);
                    int len = qs[m + 1] - qs[m];
                    System.arraycopy(o, qs[m] * HEADS * HD, outs.get(i), done[i] * HEADS * HD, len * HEADS * HD);
                    done[i] += len;
                }
            }
        }
    }

    private static void assertBitEqual(float[] actual, float[] expected, String what) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(actual[i]) != Float.floatToIntBits(expected[i])) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", contiguous gives " + expected[i]);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "simd1", "simd2"})
    void pagedIsBitIdenticalToContiguousForAnyChunkingAndBatch(String name) {
        Random rnd = new Random(11);
        List<Seq> seqs = new ArrayList<>();
        for (int len : new int[] {1, 2, 15, 16, 17, 33, 100}) {
            seqs.add(Seq.random(rnd, len));
        }
        try (Backend b = backend(name)) {
            List<float[]> expected = new ArrayList<>();
            for (Seq s : seqs) {
                expected.add(contiguous(b, s));
            }
            for (int blockSize : new int[] {1, 3, 16}) {
                for (int chunk : new int[] {1, 7, 16, 1000}) { // 1 = decode-like, 1000 = one-shot prefill
                    List<float[]> got = paged(b, seqs, chunk, blockSize, blockSize * 31L + chunk);
                    for (int i = 0; i < seqs.size(); i++) {
                        assertBitEqual(got.get(i), expected.get(i),
                                name + " seq len " + seqs.get(i).len + " block " + blockSize + " chunk " + chunk);
                    }
                }
            }
            // alone in the batch vs among the others
            List<float[]> alone = paged(b, List.of(seqs.get(5)), 5, 16, 3);
            assertBitEqual(alone.get(0), expected.get(5), name + " alone");
        }
    }

    @Test
    void simdMatchesTheReferenceWithinTolerance() {
        Random rnd = new Random(5);
        List<Seq> seqs = List.of(Seq.random(rnd, 3), Seq.random(rnd, 40), Seq.random(rnd, 129));
        try (Backend ref = new ReferenceBackend(); Backend simd = new VectorBackend(2)) {
            List<float[]> r = paged(ref, seqs, 9, 16, 1);
            List<float[]> s = paged(simd, seqs, 9, 16, 1);
            for (int i = 0; i < seqs.size(); i++) {
                for (int j = 0; j < r.get(i).length; j++) {
                    assertThat(s.get(i)[j]).isCloseTo(r.get(i)[j], org.assertj.core.data.Offset.offset(1e-5f + 1e-4f * Math.abs(r.get(i)[j])));
                }
            }
        }
    }

    @Test
    void newTokensLandInTheirSlotsAndQueryHeadsReadTheirGroupsKvHead() {
        try (Backend b = new ReferenceBackend(); KvCache cache = b.allocateKvCache(1, 4, 2, KV_HEADS, HD)) {
            float[] k = new float[KV_HEADS * HD];
            float[] v = new float[KV_HEADS * HD];
            for (int c = 0; c < HD; c++) {
                v[c] = 1;          // KV head 0 values: all ones
                v[HD + c] = 2;     // KV head 1 values: all twos
                k[c] = c;
                k[HD + c] = -c;
            }
            float[] q = new float[HEADS * HD];
            try (Tensor tq = b.upload(q, 1, HEADS * HD); Tensor tk = b.upload(k, 1, KV_HEADS * HD);
                 Tensor tv = b.upload(v, 1, KV_HEADS * HD); Tensor o = b.zeros(1, HEADS * HD)) {
                // one token at position 0, written to block 3 offset 0 = slot 6
                b.pagedAttention(tq, tk, tv, cache, 0, new PagedBatch(new int[] {0, 1}, new int[] {1}, new int[][] {{3}},
                        new int[] {6}), o, HEADS, KV_HEADS, HD, SCALE);
                float[] out = b.download(o);
                // a single attended position: the output is that position's value row
                assertThat(out[0]).isEqualTo(1f);           // query head 0 -> KV head 0
                assertThat(out[HD]).isEqualTo(1f);          // query head 1 -> KV head 0
                assertThat(out[2 * HD]).isEqualTo(2f);      // query head 2 -> KV head 1
                assertThat(out[3 * HD + HD - 1]).isEqualTo(2f);
            }
            float[] gk = new float[HD];
            float[] gv = new float[HD];
            ((CpuKvCache) cache).gather(0, new int[] {3}, 1, 1, gk, gv);
            assertThat(gk[5]).isEqualTo(-5f);
            assertThat(gv).containsOnly(2f);
        }
    }

    @Test
    void batchAndCacheAreValidated() {
        assertThatThrownBy(() -> new PagedBatch(new int[] {0, 2}, new int[] {1}, new int[][] {{0}}, new int[] {0, 1}))
                .hasMessageContaining("2 new tokens but a context of only 1");
        assertThatThrownBy(() -> new PagedBatch(new int[] {0, 1}, new int[] {1}, new int[][] {{0}}, new int[] {0, 1}))
                .hasMessageContaining("slots");
        try (Backend b = new ReferenceBackend(); KvCache cache = b.allocateKvCache(1, 2, 4, 1, 4)) {
            assertThat(cache.bytes()).isEqualTo(KvCache.bytesPerBlock(1, 4, 1, 4) * 2).isEqualTo(2L * 2 * 4 * 4 * 4);
            PagedBatch tooFew = new PagedBatch(new int[] {0, 1}, new int[] {9}, new int[][] {{0, 1}}, new int[] {0});
            assertThatThrownBy(() -> tooFew.checkAgainst(cache)).hasMessageContaining("only 2 blocks");
            PagedBatch outside = new PagedBatch(new int[] {0, 1}, new int[] {1}, new int[][] {{5}}, new int[] {0});
            assertThatThrownBy(() -> outside.checkAgainst(cache)).hasMessageContaining("block 5 outside");
        }
        try (Backend b = new ReferenceBackend()) {
            assertThatThrownBy(() -> b.allocateKvCache(1, 1 << 30, 16, 8, 128))
                    .hasMessageContaining("direct buffer").hasMessageContaining("fewer blocks");
            assertThatThrownBy(() -> b.allocateKvCache(1, 0, 16, 8, 128)).hasMessageContaining(">= 1");
        }
    }
}
