"""Model and processor oracle for the Qwen-VL family (QWenLMHeadModel with a `visual` config).

Qwen-VL is not in transformers (trust_remote_code), so this is a PyTorch re-statement of its
original modeling_qwen.py and visual.py, following vLLM's re-implementation
(vllm/model_executor/models/qwen_vl.py, qwen.py, layers/resampler.py):
  * image: torchvision Resize((448, 448), BICUBIC) of the PIL image, ToTensor, Normalize(CLIP);
  * visual: conv1 (no bias) -> + get_abs_pos(positional_embedding) (bicubic 16x16 -> 32x32) -> ln_pre
    -> resblocks (ln_1, in_proj split per head into q/k/v, out_proj, ln_2, c_fc, GELU, c_proj)
    -> attn_pool (kv_proj, ln_kv, ln_q(query) + pos_embed vs keys + get_abs_pos(pos_embed),
    torch.nn.MultiheadAttention) -> ln_post -> @ proj;
  * decoder: wte, QWen blocks (RMSNorm ln_1, c_attn with bias split q|k|v, rotate-half rope over the
    whole head, causal softmax attention, c_proj; RMSNorm ln_2, c_proj(w1(x) * silu(w2(x)))), ln_f,
    lm_head. use_dynamic_ntk and use_logn_attn act only beyond seq_length (2048) and are not reached;
  * prompt: the tokenizer is tiktoken over the checkpoint's qwen.tiktoken as tokenization_qwen.py
    builds it; vLLM drops what is between <img> and </img>, then replaces each [<img>, </img>] by
    <img> + 256 x <imgpad> + </img>, and the 256 pads take the image's rows.
Every module is loaded from the checkpoint with load_state_dict(strict=True): the Java writer's
tensor names and shapes are exactly the real ones or this fails.

The checkpoint is the Java writer's (TinyQwenVlCheckpoint, F32, seed 7), too big to commit; the
fixture records its sha256 and the Java test checks the checkpoint it writes has the same bytes.
  java -cp ... io.sparkmm.engine.cli.Main tiny-checkpoint --arch qwen-vl --out /tmp/qvl-tiny
  PYTHONPATH=<dir with tiktoken, regex> <venv with torch, torchvision, pillow, safetensors>/bin/python \
      engine/src/test/python/qwenvl_fixtures.py /tmp/qvl-tiny
Writes engine/src/test/resources/qwenvl/model_fixture.json.
"""
import base64
import hashlib
import json
import math
import os
import re
import sys
import unicodedata

import numpy as np
import tiktoken
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file
from torch import nn
from torchvision import transforms
from torchvision.transforms import InterpolationMode

torch.set_grad_enabled(False)
ROOT = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(ROOT, "..", "resources", "qwenvl", "model_fixture.json")
PAT_STR = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
SPECIAL = (["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + [f"<|extra_{i}|>" for i in range(205)]
           + ["<ref>", "</ref>", "<box>", "</box>", "<quad>", "</quad>", "<img>", "</img>", "<imgpad>"])


# ---------------------------------------------------------------- images, by formula (the Java test draws the same)
def image(name):
    if name == "grad90x60":
        y, x = np.mgrid[0:60, 0:90]
        a = np.stack([(x * 2) % 256, (y * 3) % 256, (x + y * 5) % 256], -1)
    elif name == "dot1x1":
        a = np.array([[[200, 30, 90]]])
    elif name == "strip20000x20":
        y, x = np.mgrid[0:20, 0:20000]
        a = np.stack([x % 256, (y * 13) % 256, (x // 7 + y * 3) % 256], -1)
    else:
        raise ValueError(name)
    return Image.fromarray(a.astype(np.uint8), "RGB")


TRANSFORM = transforms.Compose([
    transforms.Resize((448, 448), interpolation=InterpolationMode.BICUBIC),
    transforms.ToTensor(),
    transforms.Normalize(mean=(0.48145466, 0.4578275, 0.40821073), std=(0.26862954, 0.26130258, 0.27577711)),
])


# ---------------------------------------------------------------- visual.py
def get_abs_pos(abs_pos, tgt_size):
    src = int(math.sqrt(abs_pos.size(0)))
    tgt = int(math.sqrt(tgt_size))
    if src == tgt:
        return abs_pos
    return F.interpolate(abs_pos.float().reshape(1, src, src, -1).permute(0, 3, 1, 2), size=(tgt, tgt),
                         mode="bicubic", align_corners=False).permute(0, 2, 3, 1).flatten(0, 2).to(abs_pos.dtype)


def sincos_2d(embed_dim, grid_size):
    def one_d(dim, pos):
        omega = np.arange(dim // 2, dtype=np.float32)
        omega /= dim / 2.0
        omega = 1.0 / 10000 ** omega
        out = np.einsum("m,d->md", pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)
    grid_h = np.arange(grid_size, dtype=np.float32)
    grid_w = np.arange(grid_size, dtype=np.float32)
    grid = np.stack(np.meshgrid(grid_w, grid_h), axis=0).reshape([2, 1, grid_size, grid_size])
    return np.concatenate([one_d(embed_dim // 2, grid[0]), one_d(embed_dim // 2, grid[1])], axis=1)


class VisualAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.hd = heads, d // heads
        self.in_proj = nn.Linear(d, 3 * d)
        self.out_proj = nn.Linear(d, d)

    def forward(self, x):  # [s, d]
        s = x.shape[0]
        mixed = self.in_proj(x).view(s, self.heads, 3 * self.hd)
        q, k, v = mixed.split(self.hd, dim=-1)  # per head: q, k, v (Megatron layout)
        q, k, v = (t.transpose(0, 1) for t in (q, k, v))
        probs = torch.bmm(q / math.sqrt(self.hd), k.transpose(1, 2)).softmax(-1)
        ctx = torch.bmm(probs, v).transpose(0, 1).reshape(s, -1)
        return self.out_proj(ctx)


class VisualBlock(nn.Module):
    def __init__(self, d, heads, mlp):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=1e-6)
        self.ln_2 = nn.LayerNorm(d, eps=1e-6)
        self.attn = VisualAttention(d, heads)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(d, mlp))
        self.mlp.add_module("gelu", nn.GELU())
        self.mlp.add_module("c_proj", nn.Linear(mlp, d))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Resampler(nn.Module):
    def __init__(self, grid, d, heads, kv_dim):
        super().__init__()
        self.query = nn.Parameter(torch.zeros(grid * grid, d))
        self.kv_proj = nn.Linear(kv_dim, d, bias=False) if kv_dim != d else nn.Identity()
        self.attn = nn.MultiheadAttention(d, heads)
        self.ln_q = nn.LayerNorm(d, eps=1e-6)
        self.ln_kv = nn.LayerNorm(d, eps=1e-6)
        self.pos_embed = nn.Parameter(torch.zeros(grid * grid, d))

    def forward(self, x):  # [n, width] -> [queries, d]
        pos = get_abs_pos(self.pos_embed, x.size(0))
        x = self.ln_kv(self.kv_proj(x))
        q = self.ln_q(self.query)
        out, _ = self.attn((q + self.pos_embed).unsqueeze(1), (x + pos).unsqueeze(1), x.unsqueeze(1), need_weights=False)
        return out.squeeze(1)


class VisionTransformer(nn.Module):
    def __init__(self, v):
        super().__init__()
        width, p, d = v["width"], v["patch_size"], v["output_dim"]
        self.conv1 = nn.Conv2d(3, width, kernel_size=p, stride=p, bias=False)
        self.positional_embedding = nn.Parameter(torch.zeros(256, width))
        self.ln_pre = nn.LayerNorm(width, eps=1e-6)
        self.transformer = nn.Module()
        self.transformer.resblocks = nn.ModuleList(
            [VisualBlock(width, v["heads"], int(width * v["mlp_ratio"])) for _ in range(v["layers"])])
        self.attn_pool = Resampler(int(math.sqrt(v.get("n_queries", 256))), d, d // 128, width)
        self.ln_post = nn.LayerNorm(d, eps=1e-6)
        self.proj = nn.Parameter(torch.zeros(d, d))

    def forward(self, pixels):  # [3, S, S]
        x = self.conv1(pixels.unsqueeze(0)).flatten(2)[0].t()  # [grid*grid, width]
        x = x + get_abs_pos(self.positional_embedding, x.size(0))
        x = self.ln_pre(x)
        for b in self.transformer.resblocks:
            x = b(x)
        return self.ln_post(self.attn_pool(x)) @ self.proj


# ---------------------------------------------------------------- modeling_qwen.py
class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class QWenAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c["num_attention_heads"]
        self.hd = c["hidden_size"] // self.heads
        self.base = c["rotary_emb_base"]
        self.c_attn = nn.Linear(c["hidden_size"], 3 * c["hidden_size"])
        self.c_proj = nn.Linear(c["hidden_size"], c["hidden_size"], bias=not c["no_bias"])

    def forward(self, x):  # [s, h]
        s = x.shape[0]
        q, k, v = self.c_attn(x).split(x.shape[-1], dim=-1)
        q, k, v = (t.view(s, self.heads, self.hd) for t in (q, k, v))
        inv_freq = 1.0 / (self.base ** (torch.arange(0, self.hd, 2).float() / self.hd))
        freqs = torch.outer(torch.arange(s, dtype=torch.float32), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)[:, None, :]
        q = q * emb.cos() + rotate_half(q) * emb.sin()
        k = k * emb.cos() + rotate_half(k) * emb.sin()
        scores = torch.einsum("qhd,khd->hqk", q, k) / math.sqrt(self.hd)
        scores = scores.masked_fill(torch.triu(torch.ones(s, s, dtype=torch.bool), 1), float("-inf"))
        ctx = torch.einsum("hqk,khd->qhd", scores.softmax(-1), v).reshape(s, -1)
        return self.c_proj(ctx)


class QWenMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        ff = c["intermediate_size"] // 2
        self.w1 = nn.Linear(c["hidden_size"], ff, bias=not c["no_bias"])
        self.w2 = nn.Linear(c["hidden_size"], ff, bias=not c["no_bias"])
        self.c_proj = nn.Linear(ff, c["hidden_size"], bias=not c["no_bias"])

    def forward(self, x):
        return self.c_proj(self.w1(x) * F.silu(self.w2(x)))


class QWenBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = RMSNorm(c["hidden_size"], c["layer_norm_epsilon"])
        self.attn = QWenAttention(c)
        self.ln_2 = RMSNorm(c["hidden_size"], c["layer_norm_epsilon"])
        self.mlp = QWenMLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class QWenLMHeadModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.transformer.h = nn.ModuleList([QWenBlock(c) for _ in range(c["num_hidden_layers"])])
        self.transformer.ln_f = RMSNorm(c["hidden_size"], c["layer_norm_epsilon"])
        self.transformer.visual = VisionTransformer(c["visual"])
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)

    def logits(self, ids, image_rows):
        """image_rows: one [256, h] per <img>..</img> span, in order (modeling_qwen.py fills a+1..b-1)."""
        x = self.transformer.wte(torch.tensor(ids))
        start = self.config["visual"]["image_start_id"]
        starts = [i for i, t in enumerate(ids) if t == start]
        ends = [i for i, t in enumerate(ids) if t == start + 1]
        assert len(starts) == len(ends) == len(image_rows)
        x = x.clone()
        for a, b, rows in zip(starts, ends, image_rows):
            x[a + 1:b] = rows
        for blk in self.transformer.h:
            x = blk(x)
        return self.lm_head(self.transformer.ln_f(x))


# ---------------------------------------------------------------- tokenizer (tokenization_qwen.py + vLLM's prompt update)
def tokenizer(ckpt):
    ranks = {}
    with open(os.path.join(ckpt, "qwen.tiktoken"), "rb") as f:
        for line in f.read().splitlines():
            if line:
                tok, rank = line.split()
                ranks[base64.b64decode(tok)] = int(rank)
    specials = {t: len(ranks) + i for i, t in enumerate(SPECIAL)}
    return tiktoken.Encoding("Qwen", pat_str=PAT_STR, mergeable_ranks=ranks, special_tokens=specials), specials


def prompt_ids(enc, specials, text, queries):
    text = re.sub(r"<img>.*?</img>", "<img></img>", unicodedata.normalize("NFC", text), flags=re.S)
    ids = enc.encode(text, allowed_special="all")
    start, end, pad = specials["<img>"], specials["</img>"], specials["<imgpad>"]
    out = []
    for i, t in enumerate(ids):
        out.append(t)
        if t == start:
            assert ids[i + 1] == end
            out.extend([pad] * queries)
    return out


def r7(v):
    """7 significant digits: float32's precision, half the fixture's size."""
    return float("%.7g" % v)


def sampled(t, stride):
    flat = t.detach().reshape(-1).double().numpy()
    return {"stride": stride, "count": int(flat.size), "sum": float(flat.sum()), "abs_sum": float(np.abs(flat).sum()),
            "values": [r7(v) for v in flat[::stride]]}


def main():
    ckpt = sys.argv[1]
    with open(os.path.join(ckpt, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(ckpt, "model.safetensors"), "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    model = QWenLMHeadModel(config).float().eval()
    state = load_file(os.path.join(ckpt, "model.safetensors"))
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    pos_diff = float((model.transformer.visual.attn_pool.pos_embed
                      - torch.from_numpy(sincos_2d(config["hidden_size"], 16))).abs().max())
    assert pos_diff < 1e-5, pos_diff
    enc, specials = tokenizer(ckpt)
    assert specials["<img>"] == config["visual"]["image_start_id"]
    queries = config["visual"].get("n_queries", 256)

    images = {}
    pixels = {}
    for name, stride in [("grad90x60", 499), ("dot1x1", 997), ("strip20000x20", 499)]:
        pixels[name] = TRANSFORM(image(name))
        images[name] = sampled(pixels[name], stride)
    rows = {name: model.transformer.visual(pixels[name]) for name in ["grad90x60", "dot1x1"]}
    features = {name: sampled(rows[name], 13) for name in rows}

    cases = []
    for name, text, imgs in [
            ("one image", "Picture 1: <img>cat.png</img>\nWhat is in the picture?", ["grad90x60"]),
            ("two images", "Picture 1: <img></img>\nPicture 2: <img>b.jpg</img>\nCompare them.", ["grad90x60", "dot1x1"]),
            ("text only", "The quick brown fox jumps over the lazy dog.", [])]:
        ids = prompt_ids(enc, specials, text, queries)
        logits = model.logits(ids, [rows[i] for i in imgs])
        check = [len(ids) - 1] if not imgs else [len(ids) - 1, ids.index(specials["</img>"])]
        greedy = []
        seq = list(ids)
        for _ in range(8):
            nxt = int(model.logits(seq, [rows[i] for i in imgs])[-1].argmax())
            greedy.append(nxt)
            seq.append(nxt)
        cases.append({"name": name, "prompt": text, "images": imgs, "ids": ids,
                      "logits": {str(p): [r7(v) for v in logits[p]] for p in check}, "greedy": greedy,
                      # QWenTokenizer.decode(skip_special_tokens=True): ids from <|endoftext|> up dropped, errors="replace"
                      "greedy_text": enc.decode([t for t in greedy if t < specials["<|endoftext|>"]], errors="replace")})
    fixture = {"oracle": f"PyTorch {torch.__version__} re-statement of Qwen-VL's modeling_qwen.py/visual.py"
                         f" (as vLLM's qwen_vl.py), torchvision transforms, tiktoken {tiktoken.__version__}",
               "checkpoint": "TinyQwenVlCheckpoint.Spec.tiny() (f32, seed 7)", "model_safetensors_sha256": sha,
               "pos_embed_max_abs_diff_vs_numpy_sincos": pos_diff,
               "pixels": images, "features": features, "cases": cases}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print("wrote", OUT, "sha", sha, "greedy", [c["greedy"] for c in cases])


if __name__ == "__main__":
    main()
