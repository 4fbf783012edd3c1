package io.sparkmm.engine.models.qwenvl;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.checkpoint.SafeTensor;
import io.sparkmm.engine.models.EncoderLayer;
import io.sparkmm.engine.models.WeightLoader;
import io.sparkmm.engine.models.llava.ConvPatches;
import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.kernels.cpu.Half;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Qwen-VL's visual.py VisionTransformer: a 14 px patch convolution (no bias), learned absolute
 * positions resized to the patch grid, ln_pre, pre-norm ViT blocks (GELU MLP), then the
 * resampler: n_queries learned queries (plus the fixed 2-D sin-cos table) cross-attend to the
 * patches (plus the same table resized to the grid), then ln_post and {@code x @ proj}. Out come
 * n_queries rows of the decoder's width. LayerNorm eps 1e-6 throughout.
 */
final class QwenVlVisionTower implements AutoCloseable {

    private static final float EPS = 1e-6f;

    private final Backend backend;
    private final QwenVlConfig.Vision c;
    private final Tensor patchWeight;
    private final Tensor positions;
    private final Tensor lnPreW;
    private final Tensor lnPreB;
    private final List<EncoderLayer> layers;
    private final Tensor kvProj;
    private final Tensor lnKvW;
    private final Tensor lnKvB;
    private final Tensor keyPositions;
    /** The resampler's projected queries: (ln_q(query) + pos_embed) W_q + b_q, the same for every image. */
    private final Tensor queries;
    private final Tensor wk;
    private final Tensor bk;
    private final Tensor wv;
    private final Tensor bv;
    private final Tensor wo;
    private final Tensor bo;
    private final Tensor lnPostW;
    private final Tensor lnPostB;
    /** proj transposed: visual.py multiplies {@code x @ proj}, our matmul takes Linear's [out, in]. */
    private final Tensor projT;
    private final List<Tensor> owned;

    private QwenVlVisionTower(Backend backend, QwenVlConfig.Vision c, WeightLoader w, String p) {
        this.backend = backend;
        this.c = c;
        int width = c.width();
        int d = c.outputDim();
        int pp = 3 * c.patchSize() * c.patchSize();
        patchWeight = w.get(p + "conv1.weight", new int[] {width, 3, c.patchSize(), c.patchSize()}, width, pp);
        positions = owned(w, upload(AbsolutePositions.resize(floats(w, p + "positional_embedding", -1, width), width,
                c.grid(), p + "positional_embedding"), c.patches(), width));
        lnPreW = w.vec(p + "ln_pre.weight", width);
        lnPreB = w.vec(p + "ln_pre.bias", width);
        List<EncoderLayer> blocks = new ArrayList<>();
        int hd = width / c.heads();
        for (int i = 0; i < c.layers(); i++) {
            String b = p + "transformer.resblocks." + i + ".";
            Tensor[] qkvW = interleavedQkv(w, b + "attn.in_proj.weight", c.heads(), hd, width);
            Tensor[] qkvB = interleavedQkv(w, b + "attn.in_proj.bias", c.heads(), hd, 1);
            blocks.add(new EncoderLayer(w.vec(b + "ln_1.weight", width), w.vec(b + "ln_1.bias", width),
                    qkvW[0], qkvB[0], qkvW[1], qkvB[1], qkvW[2], qkvB[2],
                    w.mat(b + "attn.out_proj.weight", width, width), w.vec(b + "attn.out_proj.bias", width),
                    w.vec(b + "ln_2.weight", width), w.vec(b + "ln_2.bias", width),
                    w.mat(b + "mlp.c_fc.weight", c.mlpWidth(), width), w.vec(b + "mlp.c_fc.bias", c.mlpWidth()),
                    w.mat(b + "mlp.c_proj.weight", width, c.mlpWidth()), w.vec(b + "mlp.c_proj.bias", width)));
        }
        layers = List.copyOf(blocks);
        String a = p + "attn_pool.";
        // nn.Identity when the ViT is already as wide as the decoder
        kvProj = width != d ? w.mat(a + "kv_proj.weight", d, width) : null;
        lnKvW = w.vec(a + "ln_kv.weight", d);
        lnKvB = w.vec(a + "ln_kv.bias", d);
        float[] table = floats(w, a + "pos_embed", c.nQueries(), d);
        keyPositions = owned(w, upload(AbsolutePositions.resize(table, d, c.grid(), a + "pos_embed"), c.patches(), d));
        Tensor[] in = w.rowsSplit(a + "attn.in_proj_weight", 3, d, d);
        Tensor[] inB = w.rowsSplit(a + "attn.in_proj_bias", 3, d);
        wk = in[1];
        bk = inB[1];
        wv = in[2];
        bv = inB[2];
        wo = w.mat(a + "attn.out_proj.weight", d, d);
        bo = w.vec(a + "attn.out_proj.bias", d);
        try (Tensor query = upload(floats(w, a + "query", c.nQueries(), d), c.nQueries(), d);
             Tensor lnQW = w.vec(a + "ln_q.weight", d);
             Tensor lnQB = w.vec(a + "ln_q.bias", d);
             Tensor table0 = upload(table, c.nQueries(), d);
             Tensor x = backend.zeros(c.nQueries(), d)) {
            backend.layerNorm(query, lnQW, lnQB, EPS, x);
            backend.add(x, table0, x);
            queries = owned(w, backend.zeros(c.nQueries(), d));
            backend.matmul(x, in[0], inB[0], queries);
        }
        in[0].close();
        inB[0].close();
        lnPostW = w.vec(p + "ln_post.weight", d);
        lnPostB = w.vec(p + "ln_post.bias", d);
        projT = owned(w, upload(transpose(floats(w, p + "proj", d, d), d), d, d));
        owned = List.of(positions, keyPositions, queries, projT);
    }

    /** Registers a tensor made here with the loader, so a load that fails later closes it too. */
    private static Tensor owned(WeightLoader w, Tensor t) {
        w.loaded().add(t);
        return t;
    }

    static QwenVlVisionTower load(Checkpoint ckpt, QwenVlConfig.Vision c, Backend backend, String prefix) {
        WeightLoader w = new WeightLoader(ckpt, backend);
        try {
            return new QwenVlVisionTower(backend, c, w, prefix);
        } catch (RuntimeException e) {
            w.closeAll();
            throw e;
        }
    }

    /**
     * One image, pixel_values [3, S, S] (S = image_size), to [n_queries, output_dim]. Caller owns it.
     */
    Tensor encode(float[] chw) {
        int width = c.width();
        int d = c.outputDim();
        int n = c.patches();
        int nq = c.nQueries();
        Tensor x = backend.zeros(n, width);
        Tensor out = backend.zeros(nq, d);
        try (Tensor patches = upload(ConvPatches.flatten(chw, 3, c.imageSize(), c.patchSize()), n, 3 * c.patchSize() * c.patchSize());
             Tensor kv = backend.zeros(n, d);
             Tensor keysIn = backend.zeros(n, d);
             Tensor keys = backend.zeros(n, d);
             Tensor values = backend.zeros(n, d);
             Tensor q = backend.zeros(n, d);
             Tensor attn = backend.zeros(n, d);
             Tensor pooled = backend.zeros(nq, d);
             Tensor normed = backend.zeros(nq, d)) {
            backend.matmul(patches, patchWeight, null, x);
            backend.add(x, positions, x);
            backend.layerNorm(x, lnPreW, lnPreB, EPS, x);
            for (EncoderLayer layer : layers) {
                layer.run(backend, x, c.heads(), EPS, Activation.GELU_ERF);
            }
            if (kvProj != null) {
                backend.matmul(x, kvProj, null, kv);
            } else {
                backend.copyRows(x, 0, kv, 0, n);
            }
            backend.layerNorm(kv, lnKvW, lnKvB, EPS, kv);
            backend.add(kv, keyPositions, keysIn);
            backend.matmul(keysIn, wk, bk, keys);
            backend.matmul(kv, wv, bv, values);
            // Cross-attention through the self-attention kernel: the queries fill the first nq rows
            // (nq <= patches, checked with the config); rows are independent, so the zero rows after
            // them change nothing and are dropped.
            backend.copyRows(queries, 0, q, 0, nq);
            int heads = c.poolHeads();
            backend.attention(q, keys, values, attn, heads, heads, d / heads, (float) (1.0 / Math.sqrt(d / heads)), false);
            try (Tensor first = backend.zeros(nq, d)) {
                backend.copyRows(attn, 0, first, 0, nq);
                backend.matmul(first, wo, bo, pooled);
            }
            backend.layerNorm(pooled, lnPostW, lnPostB, EPS, normed);
            backend.matmul(normed, projT, null, out);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        } finally {
            x.close();
        }
    }

    /**
     * visual.py's attention projects to [heads][q, k, v][head dim] (Megatron's layout, split per
     * head), not [q | k | v]: regroup the rows into separate q, k and v weights (or biases when
     * cols is 1).
     */
    private static Tensor[] interleavedQkv(WeightLoader w, String name, int heads, int hd, int cols) {
        int d = heads * hd;
        int[] stored = cols == 1 ? new int[] {3 * d} : new int[] {3 * d, cols};
        SafeTensor st = w.ckpt().tensor(name).requireShape(stored);
        int rowBytes = cols * st.dtype().bytes();
        Tensor[] out = new Tensor[3];
        for (int part = 0; part < 3; part++) {
            ByteBuffer buf = ByteBuffer.allocate(d * rowBytes).order(ByteOrder.LITTLE_ENDIAN);
            for (int h = 0; h < heads; h++) {
                ByteBuffer src = st.data().duplicate();
                src.position(((h * 3 + part) * hd) * rowBytes);
                src.limit(src.position() + hd * rowBytes);
                buf.put(src);
            }
            buf.flip();
            out[part] = w.backend().weight(st.dtype(), buf, cols == 1 ? new int[] {d} : new int[] {d, cols});
            w.loaded().add(out[part]);
        }
        return out;
    }

    /**
     * A stored tensor as floats, whatever its dtype (the tables resized on the host, and the
     * queries, which go through LayerNorm as activations); {@code rows} -1 takes any row count.
     */
    private static float[] floats(WeightLoader w, String name, int rows, int cols) {
        SafeTensor st = w.ckpt().tensor(name);
        int stored = st.shape().length == 2 ? st.shape()[0] : -1;
        st.requireShape(rows >= 0 ? rows : Math.max(stored, 1), cols);
        ByteBuffer b = st.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[(int) st.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (st.dtype()) {
                case F32 -> b.getFloat(i * 4);
                case BF16 -> Float.intBitsToFloat((b.getShort(i * 2) & 0xffff) << 16);
                case F16 -> Half.toFloat(b.getShort(i * 2));
            };
        }
        return out;
    }

    private static float[] transpose(float[] m, int n) {
        float[] t = new float[m.length];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                t[j * n + i] = m[i * n + j];
            }
        }
        return t;
    }

    private Tensor upload(float[] data, int rows, int cols) {
        return backend.upload(data, rows, cols);
    }

    @Override
    public void close() {
        layers.forEach(EncoderLayer::close);
        for (Tensor t : new Tensor[] {patchWeight, lnPreW, lnPreB, kvProj, lnKvW, lnKvB, wk, bk, wv, bv, wo, bo, lnPostW,
                lnPostB}) {
            if (t != null) {
                t.close();
            }
        }
        owned.forEach(Tensor::close);
    }
}
