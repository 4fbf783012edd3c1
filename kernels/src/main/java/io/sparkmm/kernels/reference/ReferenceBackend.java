package io.sparkmm.kernels.reference;

import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.KvCache;
import io.sparkmm.kernels.PagedBatch;
import io.sparkmm.kernels.RopePositions;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.kernels.cpu.Checks;
import io.sparkmm.kernels.cpu.CpuBackendBase;
import io.sparkmm.kernels.cpu.CpuKvCache;
import io.sparkmm.kernels.cpu.CpuTensor;
import io.sparkmm.kernels.cpu.ScalarMath;


/**
 * Plain scalar Java, written to be obviously correct: the oracle every other backend is checked
 * against. Single-threaded; reductions run in index order with F32 accumulators.
 */
public final class ReferenceBackend extends CpuBackendBase {


    @Override
    public String name() {
        return "reference";
    }

    @Override
    protected void decodeRange(CpuTensor src, long start, float[] dst, int dstOff, int count) {
        src.getRange(start, dst, dstOff, count);
    }

    @Override
    public void matmul(Tensor x, Tensor w, Tensor bias, Tensor out) {
        CpuTensor xs = CpuTensor.of(x);
        CpuTensor ws = CpuTensor.of(w);
        CpuTensor os = CpuTensor.of(out);
        Checks.matmul(xs, ws, bias, os);
        int n = xs.rows();
        int k = xs.cols();
        int m = ws.rows();
        float[] xd = xs.data();
        float[] od = os.data();
        CpuTensor bs = bias == null ? null : CpuTensor.of(bias);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                float acc = 0f;
                for (int p = 0; p < k; p++) {
                    acc += xd[i * k + p] * ws.get((long) j * k + p);
                }
                if (bs != null) {
                    acc += bs.get(j);
                }
                od[i * m + j] = acc;
            }
        }
    }

    @Override
    public void rmsNorm(Tensor x, Tensor w, float eps, Tensor out) {
        CpuTensor xs = CpuTensor.of(x);
        CpuTensor ws = CpuTensor.of(w);
        CpuTensor os = CpuTensor.of(out);
        int n = xs.rows();
        int d = xs.cols();
        Checks.equal("rmsNorm weight length", (int) ws.size(), d);
        Checks.sameShape("rmsNorm", xs, os);
        float[] xd = xs.data();
        float[] od = os.data();
        for (int i = 0; i < n; i++) {
            float ss = 0f;
            for (int j = 0; j < d; j++) {
                float v = xd[i * d + j];
                ss += v * v;
            }
            float inv = (float) (1.0 / Math.sqrt(ss / d + eps));
            for (int j = 0; j < d; j++) {
                od[i * d + j] = xd[i * d + j] * inv * ws.get(j);
            }
        }
    }

    @Override
    public void layerNorm(Tensor x, Tensor w, Tensor b, float eps, Tensor out) {
        CpuTensor xs = CpuTensor.of(x);
        CpuTensor ws = CpuTensor.of(w);
        CpuTensor bs = CpuTensor.of(b);
        CpuTensor os = CpuTensor.of(out);
        int n = xs.rows();
        int d = xs.cols();
        Checks.equal("layerNorm weight length", (int) ws.size(), d);
        Checks.equal("layerNorm bias length", (int) bs.size(), d);
        Checks.sameShape("layerNorm", xs, os);
        float[] xd = xs.data();
        float[] od = os.data();
        for (int i = 0; i < n; i++) {
            float sum = 0f;
            for (int j = 0; j < d; j++) {
                sum += xd[i * d + j];
            }
            float mean = sum / d;
            float var = 0f;
            for (int j = 0; j < d; j++) {
                float c = xd[i * d + j] - mean;
                var += c * c;
            }
            float inv = (float) (1.0 / Math.sqrt(var / d + eps));
            for (int j = 0; j < d; j++) {
                od[i * d + j] = (xd[i * d + j] - mean) * inv * ws.get(j) + bs.get(j);
            }
        }
    }

    @Override
    public void rope(Tensor x, RopePositions positions, int heads, int headDim, float[] invFreq, float scale) {
        CpuTensor xs = CpuTensor.of(x);
        int n = xs.rows();
        Checks.equal("rope positions", positions.rows(), n);
        Checks.equal("rope cols", xs.cols(), heads * headDim);
        int half = headDim / 2;
        Checks.equal("rope invFreq length", invFreq.length, half);
        int[] section = positions.sectionOfEachFrequency(headDim);
        float[] xd = xs.data();
        for (int i = 0; i < n; i++) {
            for (int f = 0; f < half; f++) {
                float angle = (float) positions.position(section[f], i) * invFreq[f];
                float cos = (float) Math.cos(angle) * scale;
                float sin = (float) Math.sin(angle) * scale;
                for (int h = 0; h < heads; h++) {
                    int base = i * heads * headDim + h * headDim;
                    float a = xd[base + f];
                    float bv = xd[base + f + half];
                    xd[base + f] = a * cos - bv * sin;
                    xd[base + f + half] = bv * cos + a * sin;
                }
            }
        }
    }

    @Override
    public void siluMul(Tensor gate, Tensor up, Tensor out) {
        float[] g = CpuTensor.of(gate).data();
        float[] u = CpuTensor.of(up).data();
        float[] o = CpuTensor.of(out).data();
        Checks.equal("siluMul lengths", g.length, u.length);
        Checks.equal("siluMul out length", g.length, o.length);
        for (int i = 0; i < g.length; i++) {
            float v = g[i];
            o[i] = v / (1f + (float) Math.exp(-v)) * u[i];
        }
    }

    @Override
    public void activation(Activation act, Tensor x, Tensor out) {
        float[] a = CpuTensor.of(x).data();
        float[] o = CpuTensor.of(out).data();
        Checks.equal("activation out length", a.length, o.length);
        for (int i = 0; i < a.length; i++) {
            o[i] = ScalarMath.activate(act, a[i]);
        }
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        CpuTensor xs = CpuTensor.of(x);
        CpuTensor os = CpuTensor.of(out);
        Checks.sameShape("softmax", xs, os);
        int n = xs.rows();
        int d = xs.cols();
        float[] xd = xs.data();
        float[] od = os.data();
        for (int i = 0; i < n; i++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < d; j++) {
                max = Math.max(max, xd[i * d + j]);
            }
            float sum = 0f;
            for (int j = 0; j < d; j++) {
                float e = (float) Math.exp(xd[i * d + j] - max);
                od[i * d + j] = e;
                sum += e;
            }
            for (int j = 0; j < d; j++) {
                od[i * d + j] /= sum;
            }
        }
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, Tensor out,
                          int heads, int kvHeads, int headDim, float scale, boolean causal) {
        CpuTensor qs = CpuTensor.of(q);
        CpuTensor ks = CpuTensor.of(k);
        CpuTensor vs = CpuTensor.of(v);
        CpuTensor os = CpuTensor.of(out);
        int n = qs.rows();
        Checks.attention(qs, ks, vs, os, heads, kvHeads, headDim);
        int group = heads / kvHeads;
        float[] qd = qs.data();
        float[] od = os.data();
        int qStride = heads * headDim;
        ReferenceAttention.Keys kv = ReferenceAttention.contiguous(ks.data(), vs.data(), kvHeads, headDim);
        float[] scores = new float[n];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < n; i++) {
                int off = i * qStride + h * headDim;
                ReferenceAttention.attend(qd, off, kv, h / group, causal ? i : n - 1, headDim, scale, scores, od, off);
            }
        }
    }

    @Override
    public void pagedAttention(Tensor q, Tensor k, Tensor v, KvCache cache, int layer, PagedBatch batch, Tensor out,
                               int heads, int kvHeads, int headDim, float scale) {
        CpuTensor qs = CpuTensor.of(q);
        CpuTensor os = CpuTensor.of(out);
        CpuKvCache kv = CpuKvCache.of(cache);
        Checks.pagedAttention(qs, k, v, os, kv, layer, batch, heads, kvHeads, headDim);
        // all new K/V first: a chunk's rows attend to each other through the cache
        kv.writeAll(layer, batch, CpuTensor.of(k).data(), CpuTensor.of(v).data());
        int group = heads / kvHeads;
        float[] qd = qs.data();
        float[] od = os.data();
        int qStride = heads * headDim;
        for (int s = 0; s < batch.segments(); s++) {
            ReferenceAttention.Keys keys = ReferenceAttention.paged(kv, layer, batch, s);
            float[] scores = new float[batch.contextLen(s)];
            int first = batch.contextLen(s) - batch.segmentLength(s);
            for (int r = batch.queryStart(s); r < batch.queryStart(s + 1); r++) {
                int position = first + (r - batch.queryStart(s));
                for (int h = 0; h < heads; h++) {
                    int off = r * qStride + h * headDim;
                    ReferenceAttention.attend(qd, off, keys, h / group, position, headDim, scale, scores, od, off);
                }
            }
        }
    }

    @Override
    public void embedding(Tensor table, int[] ids, Tensor out) {
        CpuTensor ts = CpuTensor.of(table);
        CpuTensor os = CpuTensor.of(out);
        int d = ts.cols();
        Checks.equal("embedding out cols", os.cols(), d);
        Checks.equal("embedding out rows", os.rows(), ids.length);
        for (int i = 0; i < ids.length; i++) {
            Checks.tokenId(ids[i], ts.rows());
            ts.getRange((long) ids[i] * d, os.data(), i * d, d);
        }
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        float[] x = CpuTensor.of(a).data();
        float[] y = CpuTensor.of(b).data();
        float[] o = CpuTensor.of(out).data();
        Checks.equal("add lengths", x.length, y.length);
        Checks.equal("add out length", x.length, o.length);
        for (int i = 0; i < x.length; i++) {
            o[i] = x[i] + y[i];
        }
    }

    @Override
    public int[] argmax(Tensor x) {
        CpuTensor xs = CpuTensor.of(x);
        int n = xs.rows();
        int d = xs.cols();
        float[] xd = xs.data();
        int[] best = new int[n];
        for (int i = 0; i < n; i++) {
            int b = 0;
            for (int j = 1; j < d; j++) {
                if (xd[i * d + j] > xd[i * d + b]) {
                    b = j;
                }
            }
            best[i] = b;
        }
        return best;
    }

    @Override
    public void close() {
        closeCaches();
    }
}
