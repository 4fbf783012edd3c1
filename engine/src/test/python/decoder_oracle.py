#!/usr/bin/env python3
"""Oracle for the Java decoder: an independent PyTorch forward of Llama / Qwen2 / Mistral.

Hugging Face transformers cannot be installed on our machines (no PyPI), so this follows the
formulas of transformers' modeling_llama / modeling_qwen2 / modeling_mistral (eager attention,
float32 compute, rotate_half rope, RMSNorm as HF computes it) with plain torch ops, and reads
safetensors with its own parser. It records, per checkpoint and prompt, the logits after the
prompt and the greedy continuation by full recompute, as JSON fixtures the Java tests compare
against.

Run (Debian: apt-get install python3-torch python3-numpy):
    /usr/bin/python3 engine/src/test/python/decoder_oracle.py \
        engine/src/test/resources/checkpoints engine/src/test/resources/fixtures/decoder_oracle.json
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

PROMPTS = [
    [1],
    [5, 17, 42],
    [100, 3, 3, 3, 250, 7, 61, 12, 200, 9, 31, 77, 4],
    list(range(20, 60)),
]
GREEDY_STEPS = 8


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        buf = raw[base + start: base + end]
        dtype = info["dtype"]
        if dtype == "F32":
            arr = np.frombuffer(buf, dtype="<f4")
        elif dtype == "F16":
            arr = np.frombuffer(buf, dtype="<f2").astype(np.float32)
        elif dtype == "BF16":
            bits = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            raise ValueError(f"dtype {dtype} of {name}")
        tensors[name] = torch.from_numpy(arr.astype(np.float32).reshape(info["shape"]).copy())
    return tensors


def inv_freq(cfg, head_dim):
    base = cfg.get("rope_theta", 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    scaling = cfg.get("rope_scaling")
    if scaling:
        kind = scaling.get("rope_type", scaling.get("type"))
        if kind == "linear":
            inv = inv / scaling["factor"]
        elif kind == "llama3":
            factor = scaling["factor"]
            low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
            old = scaling["original_max_position_embeddings"]
            low_wavelen, high_wavelen = old / low, old / high
            wavelen = 2 * math.pi / inv
            scaled = torch.where(wavelen > low_wavelen, inv / factor, inv)
            smooth = (old / wavelen - low) / (high - low)
            smoothed = (1 - smooth) * scaled / factor + smooth * scaled
            medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
            inv = torch.where(medium, smoothed, scaled)
        elif kind != "default":
            raise ValueError(kind)
    return inv


def rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(cfg, w, ids):
    return decode(cfg, w, w["model.embed_tokens.weight"][torch.tensor(ids)])


def decode(cfg, w, x, prefix="model.", head_name="lm_head.weight"):
    """Logits [n, V] of the decoder run over input embeddings x [n, hidden]; the body's weights
    are under prefix (a multimodal checkpoint nests it), the untied head is head_name."""
    arch = cfg["architectures"][0]
    h = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh
    hd = cfg.get("head_dim") or h // nh
    eps = cfg["rms_norm_eps"]
    n = x.shape[0]
    pos = torch.arange(n, dtype=torch.float32)
    freqs = inv_freq(cfg, hd)[None, :] * pos[:, None]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((n, n), float("-inf")).triu(1)

    def lin(inp, name, bias):
        out = inp @ w[name + ".weight"].T
        if bias:
            out = out + w[name + ".bias"]
        return out

    qkv_bias = arch == "Qwen2ForCausalLM" or (arch == "LlamaForCausalLM" and cfg.get("attention_bias", False))
    o_bias = arch == "LlamaForCausalLM" and cfg.get("attention_bias", False)
    mlp_bias = arch == "LlamaForCausalLM" and cfg.get("mlp_bias", False)
    for i in range(cfg["num_hidden_layers"]):
        p = f"{prefix}layers.{i}."
        y = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = lin(y, p + "self_attn.q_proj", qkv_bias).view(n, nh, hd).transpose(0, 1)
        k = lin(y, p + "self_attn.k_proj", qkv_bias).view(n, nkv, hd).transpose(0, 1)
        v = lin(y, p + "self_attn.v_proj", qkv_bias).view(n, nkv, hd).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=0)
        v = v.repeat_interleave(nh // nkv, dim=0)
        scores = (q @ k.transpose(1, 2)) * (hd ** -0.5) + mask
        attn = torch.softmax(scores, dim=-1) @ v
        attn = attn.transpose(0, 1).reshape(n, nh * hd)
        x = x + lin(attn, p + "self_attn.o_proj", o_bias)
        y = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = lin(y, p + "mlp.gate_proj", mlp_bias)
        up = lin(y, p + "mlp.up_proj", mlp_bias)
        x = x + lin(torch.nn.functional.silu(gate) * up, p + "mlp.down_proj", mlp_bias)
    x = rms_norm(x, w[prefix + "norm.weight"], eps)
    head = w.get(head_name, w[prefix + "embed_tokens.weight"])
    return x @ head.T


def main(ckpt_root, out_path):
    torch.set_grad_enabled(False)
    fixtures = {"generator": "decoder_oracle.py (PyTorch %s, float32 eager)" % torch.__version__, "cases": []}
    for name in sorted(os.listdir(ckpt_root)):
        d = os.path.join(ckpt_root, name)
        with open(os.path.join(d, "config.json")) as f:
            cfg = json.load(f)
        w = read_safetensors(os.path.join(d, "model.safetensors"))
        for prompt in PROMPTS:
            seq = list(prompt)
            first_logits = None
            margins = []
            for _ in range(GREEDY_STEPS):
                logits = forward(cfg, w, seq)[-1]
                if first_logits is None:
                    first_logits = logits
                top2 = torch.topk(logits, 2).values
                margins.append(float(top2[0] - top2[1]))
                seq.append(int(torch.argmax(logits)))
            fixtures["cases"].append({
                "checkpoint": name,
                "prompt_ids": prompt,
                "last_logits": [round(float(v), 7) for v in first_logits],
                "greedy_ids": seq[len(prompt):],
                "min_top2_margin": min(margins),
            })
            print(f"{name} prompt[{len(prompt)}] greedy={seq[len(prompt):]} min margin={min(margins):.2e}")
    with open(out_path, "w") as f:
        json.dump(fixtures, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
