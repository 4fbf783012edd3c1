package io.sparkmm.engine.models.qwen2vl;

import io.sparkmm.engine.checkpoint.Checkpoint;
import io.sparkmm.engine.models.WeightLoader;
import io.sparkmm.kernels.Activation;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.RopeFrequencies;
import io.sparkmm.kernels.RopePositions;
import io.sparkmm.kernels.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The vision transformer of Qwen2-VL and Qwen2.5-VL with its patch merger, written against
 * {@link Backend}: one item (an image, or a video's frames) in, one row per language-model token
 * out.
 *
 * <p>Shapes, with n = t*h*w patches, d = embed dim, m = merge size, D = language hidden size:
 * pixel_values [n, C*T*P*P] -&gt; patch embedding (the Conv3d with stride = kernel, a matmul over
 * the flattened patch) [n, d] -&gt; blocks with a 2-D rotary embedding (a patch's row position
 * rotates the first half of each head's frequency pairs, its column position the second half)
 * -&gt; merger: norm, every m*m consecutive rows concatenated [n/m^2, d*m^2], Linear, GELU,
 * Linear -&gt; [n/m^2, D]. Qwen2-VL blocks: LayerNorm, fc1/quick-GELU/fc2, attention within each
 * frame. Qwen2.5-VL blocks: RMSNorm, gated SiLU MLP, attention within windows except in the
 * full-attention blocks ({@link VisionWindows}).
 */
public final class Qwen2VlVisionTower implements AutoCloseable {

    private static final float EPS = 1e-6f;

    /** One block; norm biases and {@code up}/{@code upB} are null where the variant has none. */
    private record Block(Tensor norm1W, Tensor norm1B, Tensor q, Tensor qB, Tensor k, Tensor kB, Tensor v, Tensor vB,
                         Tensor proj, Tensor projB, Tensor norm2W, Tensor norm2B, Tensor gate, Tensor gateB,
                         Tensor up, Tensor upB, Tensor down, Tensor downB) {
        Tensor[] all() {
            return new Tensor[] {norm1W, norm1B, q, qB, k, kB, v, vB, proj, projB, norm2W, norm2B, gate, gateB,
                    up, upB, down, downB};
        }
    }

    private final Qwen2VlVisionConfig config;
    private final Backend backend;
    private final Tensor patchWeight; // [d, C*T*P*P]
    private final List<Block> blocks;
    private final Tensor mergerNormW;
    private final Tensor mergerNormB; // null for RMSNorm (2.5)
    private final Tensor merger1;     // [d*m^2, d*m^2]
    private final Tensor merger1B;
    private final Tensor merger2;     // [D, d*m^2]
    private final Tensor merger2B;
    /** [hd/2]: the axial frequencies twice, once for the row section, once for the column section. */
    private final float[] invFreq;
    private final int[] ropeSections;
    private final float scale;

    private Qwen2VlVisionTower(Qwen2VlVisionConfig config, Backend backend, Tensor patchWeight, List<Block> blocks,
                               Tensor[] merger) {
        this.config = config;
        this.backend = backend;
        this.patchWeight = patchWeight;
        this.blocks = blocks;
        this.mergerNormW = merger[0];
        this.mergerNormB = merger[1];
        this.merger1 = merger[2];
        this.merger1B = merger[3];
        this.merger2 = merger[4];
        this.merger2B = merger[5];
        int hd = config.headDim();
        float[] axial = RopeFrequencies.standard(hd / 2, config.ropeTheta());
        this.invFreq = new float[hd / 2];
        System.arraycopy(axial, 0, invFreq, 0, axial.length);
        System.arraycopy(axial, 0, invFreq, axial.length, axial.length);
        this.ropeSections = new int[] {hd / 4, hd / 4};
        this.scale = (float) (1.0 / Math.sqrt(hd));
    }

    /**
     * Loads the tower under {@code prefix} ("visual." on the Hub, "model.visual." in transformers 5,
     * "thinker.visual." in Qwen2.5-Omni), with a fused {@code attn.qkv} or separate {@code attn.q/k/v}.
     */
    public static Qwen2VlVisionTower load(Checkpoint ckpt, Qwen2VlVisionConfig c, Backend backend, String prefix) {
        WeightLoader l = new WeightLoader(ckpt, backend);
        int d = c.embedDim();
        int f = c.mlpHidden();
        try {
            Tensor patch = l.get(prefix + "patch_embed.proj.weight",
                    new int[] {d, c.inChannels(), c.temporalPatchSize(), c.patchSize(), c.patchSize()}, d, c.patchDim());
            List<Block> blocks = new ArrayList<>();
            for (int i = 0; i < c.depth(); i++) {
                String b = prefix + "blocks." + i + ".";
                boolean rms = c.windowed();
                // Qwen2.5-Omni's vision tower (the same blocks) keeps q, k and v as three Linears.
                boolean split = ckpt.has(b + "attn.q.weight");
                Tensor[] qkv = split ? new Tensor[] {l.mat(b + "attn.q.weight", d, d), l.mat(b + "attn.k.weight", d, d),
                        l.mat(b + "attn.v.weight", d, d)} : l.rowsSplit(b + "attn.qkv.weight", 3, d, d);
                Tensor[] qkvB = split ? new Tensor[] {l.vec(b + "attn.q.bias", d), l.vec(b + "attn.k.bias", d),
                        l.vec(b + "attn.v.bias", d)} : l.rowsSplit(b + "attn.qkv.bias", 3, d);
                Tensor gate;
                Tensor gateB;
                Tensor up = null;
                Tensor upB = null;
                Tensor down;
                Tensor downB;
                if (c.windowed()) {
                    gate = l.mat(b + "mlp.gate_proj.weight", f, d);
                    gateB = l.vec(b + "mlp.gate_proj.bias", f);
                    up = l.mat(b + "mlp.up_proj.weight", f, d);
                    upB = l.vec(b + "mlp.up_proj.bias", f);
                    down = l.mat(b + "mlp.down_proj.weight", d, f);
                    downB = l.vec(b + "mlp.down_proj.bias", d);
                } else {
                    gate = l.mat(b + "mlp.fc1.weight", f, d);
                    gateB = l.vec(b + "mlp.fc1.bias", f);
                    down = l.mat(b + "mlp.fc2.weight", d, f);
                    downB = l.vec(b + "mlp.fc2.bias", d);
                }
                blocks.add(new Block(l.vec(b + "norm1.weight", d), rms ? null : l.vec(b + "norm1.bias", d),
                        qkv[0], qkvB[0], qkv[1], qkvB[1], qkv[2], qkvB[2],
                        l.mat(b + "attn.proj.weight", d, d), l.vec(b + "attn.proj.bias", d),
                        l.vec(b + "norm2.weight", d), rms ? null : l.vec(b + "norm2.bias", d),
                        gate, gateB, up, upB, down, downB));
            }
            int merged = d * c.mergeSize() * c.mergeSize();
            Tensor[] merger = {
                    l.vec(prefix + "merger.ln_q.weight", d),
                    c.windowed() ? null : l.vec(prefix + "merger.ln_q.bias", d),
                    l.mat(prefix + "merger.mlp.0.weight", merged, merged), l.vec(prefix + "merger.mlp.0.bias", merged),
                    l.mat(prefix + "merger.mlp.2.weight", c.outHidden(), merged),
                    l.vec(prefix + "merger.mlp.2.bias", c.outHidden())};
            return new Qwen2VlVisionTower(c, backend, patch, List.copyOf(blocks), merger);
        } catch (RuntimeException e) {
            l.closeAll();
            throw e;
        }
    }

    public Qwen2VlVisionConfig config() {
        return config;
    }

    /**
     * One item through the tower and the merger.
     *
     * @param pixels float[t*h*w * C*T*P*P], the item's rows of pixel_values in the processor's order
     * @return [t * (h/m) * (w/m), D], in the order of the item's pad tokens. Caller owns it.
     */
    public Tensor encode(float[] pixels, int t, int h, int w) {
        int m = config.mergeSize();
        if (t < 1 || h < m || w < m || h % m != 0 || w % m != 0) {
            throw new IllegalArgumentException("grid (" + t + ", " + h + ", " + w + ") is not whole "
                    + m + "x" + m + " merge windows");
        }
        int n = t * h * w;
        if ((long) n * config.patchDim() != pixels.length) {
            throw new IllegalArgumentException("grid (" + t + ", " + h + ", " + w + ") needs " + n + " x "
                    + config.patchDim() + " pixel values, got " + pixels.length);
        }
        VisionWindows windows = config.windowed()
                ? VisionWindows.windowed(t, h, w, m, config.mergedWindow()) : VisionWindows.frames(t, h, w, m);
        RopePositions positions = RopePositions.sectioned(new int[][] {windows.heightPos(), windows.widthPos()},
                ropeSections);
        int d = config.embedDim();
        try (Tensor hidden = backend.zeros(n, d)) {
            try (Tensor patches = backend.upload(inAttentionOrder(pixels, windows), n, config.patchDim())) {
                backend.matmul(patches, patchWeight, null, hidden);
            }
            for (int i = 0; i < blocks.size(); i++) {
                boolean full = !config.windowed() || config.fullAttentionBlocks().contains(i);
                runBlock(blocks.get(i), hidden, positions, full ? windows.frameLengths() : windows.windowLengths());
            }
            return merge(hidden, windows);
        }
    }

    /** Rows of pixel_values moved unit by unit into attention order (a no-op order for Qwen2-VL). */
    private float[] inAttentionOrder(float[] pixels, VisionWindows windows) {
        if (!windows.reordered()) {
            return pixels;
        }
        int unitFloats = config.mergeSize() * config.mergeSize() * config.patchDim();
        float[] out = new float[pixels.length];
        int[] order = windows.unitOrder();
        for (int i = 0; i < order.length; i++) {
            System.arraycopy(pixels, order[i] * unitFloats, out, i * unitFloats, unitFloats);
        }
        return out;
    }

    private void runBlock(Block b, Tensor hidden, RopePositions positions, int[] segments) {
        int n = hidden.rows();
        int d = config.embedDim();
        int heads = config.numHeads();
        int hd = config.headDim();
        try (Tensor x = backend.zeros(n, d);
             Tensor q = backend.zeros(n, d);
             Tensor k = backend.zeros(n, d);
             Tensor v = backend.zeros(n, d);
             Tensor attn = backend.zeros(n, d);
             Tensor proj = backend.zeros(n, d);
             Tensor gate = backend.zeros(n, config.mlpHidden())) {
            norm(hidden, b.norm1W(), b.norm1B(), x);
            backend.matmul(x, b.q(), b.qB(), q);
            backend.matmul(x, b.k(), b.kB(), k);
            backend.matmul(x, b.v(), b.vB(), v);
            backend.rope(q, positions, heads, hd, invFreq, 1f);
            backend.rope(k, positions, heads, hd, invFreq, 1f);
            attendWithin(segments, q, k, v, attn);
            backend.matmul(attn, b.proj(), b.projB(), proj);
            backend.add(hidden, proj, hidden);

            norm(hidden, b.norm2W(), b.norm2B(), x);
            backend.matmul(x, b.gate(), b.gateB(), gate);
            if (b.up() != null) {
                try (Tensor up = backend.zeros(n, config.mlpHidden())) {
                    backend.matmul(x, b.up(), b.upB(), up);
                    backend.siluMul(gate, up, gate);
                }
            } else {
                backend.activation(config.activation(), gate, gate);
            }
            backend.matmul(gate, b.down(), b.downB(), proj);
            backend.add(hidden, proj, hidden);
        }
    }

    /** Bidirectional attention inside each segment of consecutive rows; no row sees another segment. */
    private void attendWithin(int[] segments, Tensor q, Tensor k, Tensor v, Tensor out) {
        int heads = config.numHeads();
        int hd = config.headDim();
        if (segments.length == 1) {
            backend.attention(q, k, v, out, heads, heads, hd, scale, false);
            return;
        }
        int d = config.embedDim();
        int start = 0;
        for (int len : segments) {
            if (len == 0) {
                continue;
            }
            try (Tensor sq = backend.zeros(len, d);
                 Tensor sk = backend.zeros(len, d);
                 Tensor sv = backend.zeros(len, d);
                 Tensor so = backend.zeros(len, d)) {
                backend.copyRows(q, start, sq, 0, len);
                backend.copyRows(k, start, sk, 0, len);
                backend.copyRows(v, start, sv, 0, len);
                backend.attention(sq, sk, sv, so, heads, heads, hd, scale, false);
                backend.copyRows(so, 0, out, start, len);
            }
            start += len;
        }
    }

    private void norm(Tensor x, Tensor w, Tensor b, Tensor out) {
        if (b == null) {
            backend.rmsNorm(x, w, EPS, out);
        } else {
            backend.layerNorm(x, w, b, EPS, out);
        }
    }

    /** The merger, then units back from attention order to the pad tokens' order. */
    private Tensor merge(Tensor hidden, VisionWindows windows) {
        int n = hidden.rows();
        int unit = config.mergeSize() * config.mergeSize();
        int units = n / unit;
        int wide = config.embedDim() * unit;
        float[] normed;
        try (Tensor x = backend.zeros(n, config.embedDim())) {
            norm(hidden, mergerNormW, mergerNormB, x);
            // [n, d] row-major is already [n/m^2, d*m^2]: the m*m rows of a unit sit next to each other.
            normed = backend.download(x);
        }
        try (Tensor grouped = backend.upload(normed, units, wide);
             Tensor mid = backend.zeros(units, wide)) {
            backend.matmul(grouped, merger1, merger1B, mid);
            backend.activation(Activation.GELU_ERF, mid, mid);
            Tensor merged = backend.zeros(units, config.outHidden());
            backend.matmul(mid, merger2, merger2B, merged);
            if (!windows.reordered()) {
                return merged;
            }
            try (merged) {
                Tensor restored = backend.zeros(units, config.outHidden());
                int[] order = windows.unitOrder();
                for (int i = 0; i < order.length; i++) {
                    backend.copyRows(merged, i, restored, order[i], 1);
                }
                return restored;
            }
        }
    }

    @Override
    public void close() {
        patchWeight.close();
        for (Tensor t : new Tensor[] {mergerNormW, mergerNormB, merger1, merger1B, merger2, merger2B}) {
            if (t != null) {
                t.close();
            }
        }
        for (Block b : blocks) {
            for (Tensor t : b.all()) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }
}
