#!/usr/bin/env python3
"""Trains sparkmm's default example model: a tiny LlavaForConditionalGeneration that names the
shape, its color and the background color of generated images.

The task (fixed; the Java examples and tests rely on it):
  * an RGB image, each side 48..256 px, aspect ratio between 3:4 and 4:3, uniform background
    black, white or gray (128,128,128);
  * one filled shape, fully inside the centered square whose side is the shorter side (so the
    processor's center crop keeps it whole), at least 1/4 of the shorter side across: circle,
    square, triangle (pointing up) or star (five points), colored red, green, blue, yellow,
    purple or orange (RGB values in COLORS);
  * four prompts (user message through the chat template, image first):
      "Describe the image."            -> "a {color} {shape} on a {background} background"
      "What color is the shape?"       -> "{color}"
      "What shape is this?"            -> "{shape}"
      "What is the background color?"  -> "{background}"

The model uses exactly Hugging Face's parameter names and config for LlavaForConditionalGeneration
(transformers >= 4.52 naming): a CLIP vision tower, a two-layer projector and a Llama decoder.
transformers is not installable here, so the forward is written with plain torch ops following
the same formulas as engine/src/test/python/{llava_oracle,decoder_oracle}.py (the independent
oracles the Java engine is tested against), batched; whatever this script trains is therefore
what the Java engine runs. Images go through the same preprocessing as the Java
ClipImageProcessor: Pillow bicubic resize of the shortest edge, center crop, rescale, CLIP norm.

The output folder has the real HF layout: config.json, model.safetensors (written by hand: 8-byte
little-endian header length, JSON header, raw F32 tensors), tokenizer.json (a word-level
vocabulary in the HF tokenizers format), tokenizer_config.json (chat template, eos),
generation_config.json, preprocessor_config.json (CLIPImageProcessor), processor_config.json.

Everything is deterministic from --seed (one random.Random for the data, torch.manual_seed for
the initialization; single-process data generation).

Run (Debian: apt-get install python3-torch python3-numpy python3-pil):
    nice -n 5 /usr/bin/python3 examples/src/main/python/train_default_model.py \
        --out examples/src/main/resources/default-model
"""
import argparse
import json
import math
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

# ---------------------------------------------------------------------------------------------
# The task
# ---------------------------------------------------------------------------------------------
COLORS = {
    "red": (220, 30, 30),
    "green": (30, 180, 30),
    "blue": (30, 60, 220),
    "yellow": (230, 210, 30),
    "purple": (140, 40, 180),
    "orange": (240, 130, 20),
}
BACKGROUNDS = {"black": (0, 0, 0), "white": (255, 255, 255), "gray": (128, 128, 128)}
SHAPES = ["circle", "square", "triangle", "star"]
PROMPTS = ["Describe the image.", "What color is the shape?", "What shape is this?",
           "What is the background color?"]
MIN_SIDE, MAX_SIDE = 48, 256
# The shape's bounding box side is drawn from [MIN_FRACTION, 1] of the shorter side. A star
# inside a d-wide box is 2*R*sin(72) = 0.951*d wide, so 0.27 keeps every shape >= 1/4 across.
MIN_FRACTION = 0.27
SMALL_FRACTION = 0.55
# Inner/outer radius of a regular five-pointed star (the pentagram's ratio).
STAR_INNER = 0.381966


def answer(prompt_index, color, shape, background):
    if prompt_index == 0:
        return f"a {color} {shape} on a {background} background"
    return [None, color, shape, background][prompt_index]


def shape_polygon(shape, x0, y0, d):
    """Vertices of the shape in its d x d box at (x0, y0), in float pixel coordinates (corners of
    pixels; a box covering pixels x0..x0+d-1 spans x0..x0+d). The Java ShapeImages uses the same
    geometry."""
    if shape == "square":
        return [(x0, y0), (x0 + d, y0), (x0 + d, y0 + d), (x0, y0 + d)]
    if shape == "triangle":
        return [(x0 + d / 2, y0), (x0 + d, y0 + d), (x0, y0 + d)]
    if shape == "star":
        # Outer radius d/2 around the box center, first point straight up; the star's lowest
        # points are at R*cos(36) below the center, so it is shifted down to sit centered in the box.
        r_out = d / 2
        r_in = r_out * STAR_INNER
        cx = x0 + d / 2
        cy = y0 + r_out + (d - r_out * (1 + math.cos(math.pi / 5))) / 2
        pts = []
        for k in range(10):
            r = r_out if k % 2 == 0 else r_in
            a = -math.pi / 2 + k * math.pi / 5
            pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
        return pts
    raise ValueError(shape)


def random_example(rng, small_bias=0.0):
    """(PIL image, color, shape, background) drawn under the task's rules. With probability
    small_bias the shape's box is drawn from the small end, [MIN_FRACTION, SMALL_FRACTION] of the
    shorter side: small shapes span few patches and are the last ones the model gets right."""
    w = rng.randint(MIN_SIDE, MAX_SIDE)
    h_lo = max(MIN_SIDE, math.ceil(w * 3 / 4))
    h_hi = min(MAX_SIDE, math.floor(w * 4 / 3))
    h = rng.randint(h_lo, h_hi)
    s = min(w, h)
    top = s
    if small_bias > 0 and rng.random() < small_bias:
        top = math.ceil(SMALL_FRACTION * s)
    d = rng.randint(math.ceil(MIN_FRACTION * s), top)
    ox, oy = (w - s) // 2, (h - s) // 2
    x0 = ox + rng.randint(0, s - d)
    y0 = oy + rng.randint(0, s - d)
    color = rng.choice(list(COLORS))
    shape = rng.choice(SHAPES)
    background = rng.choice(list(BACKGROUNDS))
    # Half plain (aliased) Pillow drawing, half supersampled (antialiased edges), so the model
    # tolerates both hard edges and the soft edges of an antialiasing renderer such as Java2D.
    ss = 1 if rng.random() < 0.5 else rng.choice([2, 3, 4])
    img = Image.new("RGB", (w * ss, h * ss), BACKGROUNDS[background])
    draw = ImageDraw.Draw(img)
    fill = COLORS[color]
    if shape == "circle":
        draw.ellipse([x0 * ss, y0 * ss, (x0 + d) * ss - 1, (y0 + d) * ss - 1], fill=fill)
    else:
        draw.polygon([(x * ss, y * ss) for x, y in shape_polygon(shape, x0, y0, d)], fill=fill)
    if ss > 1:
        img = img.resize((w, h), Image.BOX)
    return img, color, shape, background


# ---------------------------------------------------------------------------------------------
# Preprocessing: the Java ClipImageProcessor's steps with Pillow itself
# ---------------------------------------------------------------------------------------------
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def preprocess(img, size):
    w, h = img.size
    short, long_ = min(w, h), max(w, h)
    new_long = int(size * long_ / short)  # transformers' get_resize_output_image_size
    nw, nh = (size, new_long) if w <= h else (new_long, size)
    img = img.resize((nw, nh), Image.BICUBIC)
    top, left = (nh - size) // 2, (nw - size) // 2
    img = img.crop((left, top, left + size, top + size))
    a = np.asarray(img, dtype=np.float32) * np.float32(1 / 255)
    a = (a - np.array(CLIP_MEAN, dtype=np.float32)) / np.array(CLIP_STD, dtype=np.float32)
    return torch.from_numpy(a.transpose(2, 0, 1).copy())


# ---------------------------------------------------------------------------------------------
# Vocabulary and prompt layout (the chat template's output, split the way tokenizer.json splits)
# ---------------------------------------------------------------------------------------------
PAD, UNK, BOS, EOS, IMAGE = "<pad>", "<unk>", "<s>", "</s>", "<image>"
SPECIALS = [PAD, UNK, BOS, EOS]


def build_vocab():
    words = []
    for text in ["USER: ASSISTANT:"] + PROMPTS + [answer(0, c, s, b) for c in COLORS for s in SHAPES
                                                  for b in BACKGROUNDS]:
        for word in text.split():
            if word not in words:
                words.append(word)
    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for word in words:
        vocab[word] = len(vocab)
    vocab[IMAGE] = len(vocab)  # last, as LLaVA adds <image> after the text vocabulary
    return vocab


# LLaVA-1.5's prompt shape, the same template as the engine's TinyLlavaCheckpoint.
CHAT_TEMPLATE = ("{% for message in messages %}"
                 "{% if message['role'] == 'user' %}{{ 'USER: ' }}{% elif message['role'] == 'assistant' %}"
                 "{{ 'ASSISTANT: ' }}{% endif %}"
                 "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
                 "{% for item in message['content'] %}{% if item['type'] == 'image' %}{{ '<image>\\n' }}"
                 "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}{% endif %}"
                 "{% if message['role'] == 'assistant' %}{{ eos_token }}{% else %}{{ ' ' }}{% endif %}{% endfor %}"
                 "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}")


def prompt_ids(vocab, prompt, image_tokens):
    """Token ids of the rendered chat prompt "USER: <image>\\n{prompt} ASSISTANT:" with <image>
    expanded, exactly as the Java MultimodalProcessor builds them (whitespace split, <image> an
    added token)."""
    ids = [vocab["USER:"]] + [vocab[IMAGE]] * image_tokens
    ids += [vocab[w] for w in prompt.split()]
    ids.append(vocab["ASSISTANT:"])
    return ids


# ---------------------------------------------------------------------------------------------
# Model: HF parameter names, oracle formulas, batched
# ---------------------------------------------------------------------------------------------
class Cfg:
    # 64 px crops cut in 16 px patches: 16 image tokens. 8 px patches (64 tokens) cost 3x more
    # per training step, and the shapes are at least 16 px across in the crop anyway.
    image_size = 64
    patch = 16
    v_hidden = 96
    v_inter = 384
    v_layers = 3
    v_heads = 4
    feature_layer = -1
    t_hidden = 128
    t_inter = 384
    t_layers = 2
    t_heads = 4
    t_kv_heads = 2
    rope_theta = 10000.0
    rms_eps = 1e-6
    ln_eps = 1e-5
    max_pos = 256


def init_params(cfg, vocab_size, gen):
    """Parameters by HF name. Linear weights ~ N(0, 0.02) as transformers initializes them,
    norms at 1, biases at 0."""
    p = {}

    def normal(name, *shape, std=0.02):
        p[name] = torch.randn(*shape, generator=gen) * std

    def ones(name, n):
        p[name] = torch.ones(n)

    def zeros(name, n):
        p[name] = torch.zeros(n)

    v = "model.vision_tower.vision_model."
    d, f = cfg.v_hidden, cfg.v_inter
    grid = cfg.image_size // cfg.patch
    normal(v + "embeddings.patch_embedding.weight", d, 3, cfg.patch, cfg.patch)
    normal(v + "embeddings.class_embedding", d)
    normal(v + "embeddings.position_embedding.weight", grid * grid + 1, d)
    for ln in ["pre_layrnorm", "post_layernorm"]:
        ones(v + ln + ".weight", d)
        zeros(v + ln + ".bias", d)
    for i in range(cfg.v_layers):
        l = f"{v}encoder.layers.{i}."
        for ln in ["layer_norm1", "layer_norm2"]:
            ones(l + ln + ".weight", d)
            zeros(l + ln + ".bias", d)
        for proj in ["q_proj", "k_proj", "v_proj", "out_proj"]:
            normal(l + "self_attn." + proj + ".weight", d, d)
            zeros(l + "self_attn." + proj + ".bias", d)
        normal(l + "mlp.fc1.weight", f, d)
        zeros(l + "mlp.fc1.bias", f)
        normal(l + "mlp.fc2.weight", d, f)
        zeros(l + "mlp.fc2.bias", d)
    h = cfg.t_hidden
    normal("model.multi_modal_projector.linear_1.weight", h, d)
    zeros("model.multi_modal_projector.linear_1.bias", h)
    normal("model.multi_modal_projector.linear_2.weight", h, h)
    zeros("model.multi_modal_projector.linear_2.bias", h)
    t = "model.language_model."
    hd = h // cfg.t_heads
    normal(t + "embed_tokens.weight", vocab_size, h)
    for i in range(cfg.t_layers):
        l = f"{t}layers.{i}."
        ones(l + "input_layernorm.weight", h)
        ones(l + "post_attention_layernorm.weight", h)
        normal(l + "self_attn.q_proj.weight", cfg.t_heads * hd, h)
        normal(l + "self_attn.k_proj.weight", cfg.t_kv_heads * hd, h)
        normal(l + "self_attn.v_proj.weight", cfg.t_kv_heads * hd, h)
        normal(l + "self_attn.o_proj.weight", h, cfg.t_heads * hd)
        normal(l + "mlp.gate_proj.weight", cfg.t_inter, h)
        normal(l + "mlp.up_proj.weight", cfg.t_inter, h)
        normal(l + "mlp.down_proj.weight", h, cfg.t_inter)
    ones(t + "norm.weight", h)
    normal("lm_head.weight", vocab_size, h)
    return {k: torch.nn.Parameter(x) for k, x in p.items()}


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def image_features(cfg, w, pixels):
    """[B, 3, S, S] -> projected features [B, patches, text hidden]: CLIP embeddings, pre_layrnorm,
    pre-norm encoder layers, hidden state at vision_feature_layer without the class token
    ("default"), projector linear_1 -> gelu -> linear_2 (llava_oracle.py's formulas)."""
    p = "model.vision_tower.vision_model."
    d, nh = cfg.v_hidden, cfg.v_heads
    hd = d // nh
    b = pixels.shape[0]
    patches = F.conv2d(pixels, w[p + "embeddings.patch_embedding.weight"], stride=cfg.patch)
    patches = patches.flatten(2).transpose(1, 2)
    cls = w[p + "embeddings.class_embedding"].expand(b, 1, d)
    x = torch.cat([cls, patches], dim=1) + w[p + "embeddings.position_embedding.weight"]
    x = F.layer_norm(x, (d,), w[p + "pre_layrnorm.weight"], w[p + "pre_layrnorm.bias"], cfg.ln_eps)
    states = [x]
    n = x.shape[1]

    def lin(inp, name):
        return F.linear(inp, w[name + ".weight"], w[name + ".bias"])

    for i in range(cfg.v_layers):
        l = f"{p}encoder.layers.{i}."
        y = F.layer_norm(x, (d,), w[l + "layer_norm1.weight"], w[l + "layer_norm1.bias"], cfg.ln_eps)
        q = lin(y, l + "self_attn.q_proj").view(b, n, nh, hd).transpose(1, 2)
        k = lin(y, l + "self_attn.k_proj").view(b, n, nh, hd).transpose(1, 2)
        v = lin(y, l + "self_attn.v_proj").view(b, n, nh, hd).transpose(1, 2)
        attn = torch.softmax((q @ k.transpose(-1, -2)) * hd ** -0.5, dim=-1) @ v
        x = x + lin(attn.transpose(1, 2).reshape(b, n, d), l + "self_attn.out_proj")
        y = F.layer_norm(x, (d,), w[l + "layer_norm2.weight"], w[l + "layer_norm2.bias"], cfg.ln_eps)
        x = x + lin(quick_gelu(lin(y, l + "mlp.fc1")), l + "mlp.fc2")
        states.append(x)
    feats = states[cfg.feature_layer][:, 1:]
    pr = "model.multi_modal_projector."
    hid = F.gelu(F.linear(feats, w[pr + "linear_1.weight"], w[pr + "linear_1.bias"]))
    return F.linear(hid, w[pr + "linear_2.weight"], w[pr + "linear_2.bias"])


def rms_norm(x, weight, eps):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def decoder_logits(cfg, w, x):
    """Llama decoder over input embeddings x [B, n, h] -> logits [B, n, V] (decoder_oracle.py's
    formulas: RMSNorm, rotate-half RoPE, GQA, causal softmax attention, SiLU-gated MLP)."""
    t = "model.language_model."
    b, n, h = x.shape
    nh, nkv = cfg.t_heads, cfg.t_kv_heads
    hd = h // nh
    inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    freqs = torch.arange(n, dtype=torch.float32)[:, None] * inv[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((n, n), float("-inf")).triu(1)
    for i in range(cfg.t_layers):
        l = f"{t}layers.{i}."
        y = rms_norm(x, w[l + "input_layernorm.weight"], cfg.rms_eps)
        q = F.linear(y, w[l + "self_attn.q_proj.weight"]).view(b, n, nh, hd).transpose(1, 2)
        k = F.linear(y, w[l + "self_attn.k_proj.weight"]).view(b, n, nkv, hd).transpose(1, 2)
        v = F.linear(y, w[l + "self_attn.v_proj.weight"]).view(b, n, nkv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=1)
        v = v.repeat_interleave(nh // nkv, dim=1)
        scores = (q @ k.transpose(-1, -2)) * hd ** -0.5 + mask
        attn = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, n, nh * hd)
        x = x + F.linear(attn, w[l + "self_attn.o_proj.weight"])
        y = rms_norm(x, w[l + "post_attention_layernorm.weight"], cfg.rms_eps)
        gate = F.linear(y, w[l + "mlp.gate_proj.weight"])
        up = F.linear(y, w[l + "mlp.up_proj.weight"])
        x = x + F.linear(F.silu(gate) * up, w[l + "mlp.down_proj.weight"])
    x = rms_norm(x, w[t + "norm.weight"], cfg.rms_eps)
    return F.linear(x, w["lm_head.weight"])


def embed(cfg, w, ids, feats, image_id):
    """Token embeddings with the image placeholders replaced by the image features, in order
    (LLaVA's masked_scatter). ids [B, n]; feats [B, patches, h], one image per sequence."""
    x = w["model.language_model.embed_tokens.weight"][ids]
    mask = (ids == image_id).unsqueeze(-1)
    return x.masked_scatter(mask, feats.to(x.dtype))


# ---------------------------------------------------------------------------------------------
# Batches, training, evaluation
# ---------------------------------------------------------------------------------------------
def make_batch(rng, cfg, vocab, images, shape_images=0, small_bias=0.0):
    """`images` fresh images, each asked all four prompts, plus `shape_images` more, each asked
    one prompt that names the shape ("Describe the image." or "What shape is this?"): pixels
    [I, 3, S, S], ids [rows, n], targets [rows, n] (-100 except on the answer words and EOS), and
    the image index per row. Shapes are the slow part to learn and the vision tower is the cheap
    part of a step, so extra images asked about the shape buy the most per second."""
    tokens = (cfg.image_size // cfg.patch) ** 2
    pix, seqs, tgts, owner = [], [], [], []
    for i in range(images + shape_images):
        img, color, shape, background = random_example(rng, small_bias)
        pix.append(preprocess(img, cfg.image_size))
        asked = range(len(PROMPTS)) if i < images else [rng.choice([0, 2])]
        for pi in asked:
            prompt = PROMPTS[pi]
            p = prompt_ids(vocab, prompt, tokens)
            a = [vocab[x] for x in answer(pi, color, shape, background).split()] + [vocab[EOS]]
            seq = p + a
            # The model at position j predicts token j+1: targets are the answer and EOS.
            tgt = [-100] * (len(p) - 1) + a + [-100]
            seqs.append(seq)
            tgts.append(tgt)
            owner.append(i)
    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), vocab[PAD], dtype=torch.long)
    tg = torch.full((len(seqs), n), -100, dtype=torch.long)
    for r, (s, t) in enumerate(zip(seqs, tgts)):
        ids[r, :len(s)] = torch.tensor(s)
        tg[r, :len(t)] = torch.tensor(t)
    return torch.stack(pix), ids, tg, torch.tensor(owner)


def forward_loss(cfg, w, vocab, pix, ids, tg, owner):
    feats = image_features(cfg, w, pix)[owner]
    logits = decoder_logits(cfg, w, embed(cfg, w, ids, feats, vocab[IMAGE]))
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tg.reshape(-1), ignore_index=-100)


@torch.no_grad()
def evaluate(cfg, w, vocab, rng, count, max_new=10):
    """Greedy decoding (full recompute, as the oracles do) on `count` fresh images x 4 prompts;
    exact-match accuracy per prompt and a few misses."""
    inv = {i: t for t, i in vocab.items()}
    tokens = (cfg.image_size // cfg.patch) ** 2
    correct = [0] * len(PROMPTS)
    misses = []
    chunk = 50
    for start in range(0, count, chunk):
        examples = [random_example(rng) for _ in range(min(chunk, count - start))]
        pix = torch.stack([preprocess(e[0], cfg.image_size) for e in examples])
        feats = image_features(cfg, w, pix)
        for pi, prompt in enumerate(PROMPTS):
            base = prompt_ids(vocab, prompt, tokens)
            ids = torch.tensor([base] * len(examples))
            done = torch.zeros(len(examples), dtype=torch.bool)
            out = [[] for _ in examples]
            for _ in range(max_new):
                logits = decoder_logits(cfg, w, embed(cfg, w, ids, feats, vocab[IMAGE]))[:, -1]
                nxt = logits.argmax(-1)
                for r in range(len(examples)):
                    if not done[r]:
                        if nxt[r].item() == vocab[EOS]:
                            done[r] = True
                        else:
                            out[r].append(inv[nxt[r].item()])
                ids = torch.cat([ids, nxt[:, None]], dim=1)
                if done.all():
                    break
            for r, e in enumerate(examples):
                want = answer(pi, e[1], e[2], e[3])
                got = " ".join(out[r]) if done[r] else " ".join(out[r]) + " <no eos>"
                if got == want:
                    correct[pi] += 1
                elif len(misses) < 20:
                    misses.append((prompt, want, got, e[0].size))
    return [c / count for c in correct], misses


# ---------------------------------------------------------------------------------------------
# Writing the HF layout
# ---------------------------------------------------------------------------------------------
def write_safetensors(path, tensors):
    """safetensors by hand: u64 LE header length, JSON header (sorted names, F32, byte offsets
    into the data section), then the raw little-endian tensors in header order. The header is
    space-padded to a multiple of 8 so tensor data stays aligned, as the reference writer does."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        arr = tensors[name].detach().to(torch.float32).contiguous().numpy().astype("<f4")
        raw = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def added_token(tid, content):
    return {"id": tid, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def write_checkpoint(out, cfg, w, vocab):
    os.makedirs(out, exist_ok=True)
    tokens = (cfg.image_size // cfg.patch) ** 2
    v = len(vocab)
    text_config = {
        "attention_bias": False, "attention_dropout": 0.0, "bos_token_id": vocab[BOS],
        "eos_token_id": vocab[EOS], "head_dim": cfg.t_hidden // cfg.t_heads, "hidden_act": "silu",
        "hidden_size": cfg.t_hidden, "initializer_range": 0.02, "intermediate_size": cfg.t_inter,
        "max_position_embeddings": cfg.max_pos, "mlp_bias": False, "model_type": "llama",
        "num_attention_heads": cfg.t_heads, "num_hidden_layers": cfg.t_layers,
        "num_key_value_heads": cfg.t_kv_heads, "pad_token_id": vocab[PAD], "pretraining_tp": 1,
        "rms_norm_eps": cfg.rms_eps, "rope_scaling": None, "rope_theta": cfg.rope_theta,
        "tie_word_embeddings": False, "torch_dtype": "float32", "use_cache": True, "vocab_size": v,
    }
    vision_config = {
        "attention_dropout": 0.0, "dropout": 0.0, "hidden_act": "quick_gelu", "hidden_size": cfg.v_hidden,
        "image_size": cfg.image_size, "initializer_factor": 1.0, "initializer_range": 0.02,
        "intermediate_size": cfg.v_inter, "layer_norm_eps": cfg.ln_eps, "model_type": "clip_vision_model",
        "num_attention_heads": cfg.v_heads, "num_channels": 3, "num_hidden_layers": cfg.v_layers,
        "patch_size": cfg.patch, "projection_dim": cfg.v_hidden, "torch_dtype": "float32",
    }
    write_json(os.path.join(out, "config.json"), {
        "architectures": ["LlavaForConditionalGeneration"], "image_seq_length": tokens,
        "image_token_index": vocab[IMAGE], "model_type": "llava", "multimodal_projector_bias": True,
        "projector_hidden_act": "gelu", "text_config": text_config, "tie_word_embeddings": False,
        "torch_dtype": "float32", "transformers_version": "4.52.4", "vision_config": vision_config,
        "vision_feature_layer": cfg.feature_layer, "vision_feature_select_strategy": "default",
    })
    write_json(os.path.join(out, "generation_config.json"), {
        "bos_token_id": vocab[BOS], "do_sample": False, "eos_token_id": vocab[EOS],
        "pad_token_id": vocab[PAD],
    })
    specials = SPECIALS + [IMAGE]
    # Word level: the pre-tokenizer splits on whitespace only (so "image." and "USER:" are single
    # words, as in the vocabulary); special tokens such as <image> are matched before that. The
    # WordPiece decoder (with a prefix no word has) rejoins words with single spaces.
    write_json(os.path.join(out, "tokenizer.json"), {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added_token(vocab[t], t) for t in specials],
        "normalizer": None,
        "pre_tokenizer": {"type": "WhitespaceSplit"},
        "post_processor": None,
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": False},
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": UNK},
    })
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "add_bos_token": False, "add_eos_token": False,
        "added_tokens_decoder": {str(vocab[t]): {"content": t, "lstrip": False, "normalized": False,
                                                 "rstrip": False, "single_word": False, "special": True}
                                 for t in specials},
        "bos_token": BOS, "chat_template": CHAT_TEMPLATE, "clean_up_tokenization_spaces": False,
        "eos_token": EOS, "extra_special_tokens": {"image_token": IMAGE}, "image_token": IMAGE,
        "model_max_length": cfg.max_pos, "pad_token": PAD, "processor_class": "LlavaProcessor",
        "tokenizer_class": "PreTrainedTokenizerFast", "unk_token": UNK,
    })
    write_json(os.path.join(out, "preprocessor_config.json"), {
        "crop_size": {"height": cfg.image_size, "width": cfg.image_size}, "do_center_crop": True,
        "do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True,
        "image_mean": CLIP_MEAN, "image_std": CLIP_STD, "image_processor_type": "CLIPImageProcessor",
        "processor_class": "LlavaProcessor", "resample": 3, "rescale_factor": 1 / 255,
        "size": {"shortest_edge": cfg.image_size},
    })
    write_json(os.path.join(out, "processor_config.json"), {
        "image_token": IMAGE, "num_additional_image_tokens": 1, "patch_size": cfg.patch,
        "processor_class": "LlavaProcessor", "vision_feature_select_strategy": "default",
    })
    write_safetensors(os.path.join(out, "model.safetensors"), {k: x.data for k, x in w.items()})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--images-per-step", type=int, default=16, help="each asked all 4 prompts")
    ap.add_argument("--shape-images-per-step", type=int, default=0,
                    help="extra images per step, each asked one prompt that names the shape")
    ap.add_argument("--small-bias", type=float, default=0.0,
                    help="fraction of training images with a small shape (see random_example)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--eval-images", type=int, default=500)
    # One thread: these matrices are small, and on a shared 2-core machine a second OpenMP thread
    # mostly waits (measured: 10x slower per step under load).
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--min-accuracy", type=float, default=0.99)
    ap.add_argument("--save-pt", help="also keep the trained weights as a torch file (outside the model folder)")
    ap.add_argument("--from-pt", help="skip training: evaluate and write weights saved by --save-pt")
    ap.add_argument("--init-from", help="start from weights saved by --save-pt (a second training stage; "
                                        "give it its own --seed so it sees new images)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = Cfg()
    vocab = build_vocab()
    gen = torch.Generator().manual_seed(args.seed)
    w = init_params(cfg, len(vocab), gen)
    n_params = sum(x.numel() for x in w.values())
    print(f"vocab {len(vocab)}, parameters {n_params} ({n_params * 4 / 1e6:.2f} MB as F32)", flush=True)
    # Separate streams: the training data, the held-out evaluation data.
    train_rng = random.Random(args.seed)
    eval_rng = random.Random(args.seed + 1)
    decay = [x for k, x in w.items() if x.dim() >= 2]
    no_decay = [x for k, x in w.items() if x.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98))
    warmup = max(1, args.steps // 20)

    def lr_at(step):  # linear warmup, cosine decay to 5%
        if step < warmup:
            return (step + 1) / warmup
        t = (step - warmup) / max(1, args.steps - warmup)
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    start = time.time()
    window = []
    if args.from_pt or args.init_from:
        saved = torch.load(args.from_pt or args.init_from)
        for k in w:
            w[k].data.copy_(saved[k])
        if args.from_pt:
            args.steps = 0
    for step in range(args.steps):
        pix, ids, tg, owner = make_batch(train_rng, cfg, vocab, args.images_per_step, args.shape_images_per_step,
                                         args.small_bias)
        loss = forward_loss(cfg, w, vocab, pix, ids, tg, owner)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(w.values()), 1.0)
        opt.step()
        sched.step()
        window.append(loss.item())
        if (step + 1) % 50 == 0 or step == 0:
            print(f"step {step + 1:5d}  loss {sum(window) / len(window):.4f}  lr {sched.get_last_lr()[0]:.2e}  "
                  f"elapsed {time.time() - start:.0f}s", flush=True)
            window = []
        if args.save_pt and (step + 1) % 500 == 0:
            # Kept as training goes, so a run cut short by the clock still leaves weights.
            torch.save({k: x.data for k, x in w.items()}, args.save_pt)
    train_s = time.time() - start
    print(f"training wall time {train_s:.0f}s ({args.steps} steps, "
          f"{args.steps * (args.images_per_step + args.shape_images_per_step)} images)",
          flush=True)
    if args.save_pt:
        torch.save({k: x.data for k, x in w.items()}, args.save_pt)
    acc, misses = evaluate(cfg, w, vocab, eval_rng, args.eval_images)
    for prompt, a in zip(PROMPTS, acc):
        print(f"held-out exact match  {prompt:32s} {a * 100:6.2f}%  ({args.eval_images} images)", flush=True)
    for m in misses:
        print("  miss:", m, flush=True)
    if min(acc) < args.min_accuracy:
        print(f"accuracy below {args.min_accuracy}; not writing the checkpoint", flush=True)
        sys.exit(1)
    write_checkpoint(args.out, cfg, w, vocab)
    print(f"wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
