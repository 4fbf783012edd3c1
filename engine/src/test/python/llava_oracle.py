#!/usr/bin/env python3
"""Oracle for the Java LLaVA model: an independent PyTorch forward of LlavaForConditionalGeneration.

transformers cannot be installed here, so this follows the formulas of transformers'
modeling_clip (CLIPVisionModel: conv patch embedding, class token, position embedding,
pre_layrnorm, pre-norm encoder layers, hidden_states[0] = the embeddings after pre_layrnorm) and
modeling_llava (vision_feature_layer int or list, "default" drops the class token, features
concatenated along the last dim, projector linear_1 -> act -> linear_2, image features written
over the placeholder tokens' embeddings) with plain torch ops in float32. The text decoder is
decoder_oracle.py's. Unlike the Java side, patches are cut by torch's conv2d, not by hand.

For each committed checkpoint it draws two images from a fixed seed (uniform pixels, CLIP
normalized, float32) and writes them into the fixture, so Java reads exactly the same floats;
then it records the projected image features (a few rows, full width), and for prompts with
one and two images (placeholders already expanded) the logits after the prompt and the greedy
continuation by full recompute.

Run (Debian: apt-get install python3-torch python3-numpy):
    /usr/bin/python3 engine/src/test/python/llava_oracle.py \
        engine/src/test/resources/checkpoints-llava engine/src/test/resources/fixtures/llava_oracle.json
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decoder_oracle import decode, read_safetensors  # noqa: E402

GREEDY_STEPS = 8
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
TEXT_ARCH = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "mistral": "MistralForCausalLM"}


def act(name, x):
    if name == "quick_gelu":
        return x * torch.sigmoid(1.702 * x)
    if name == "gelu":
        return F.gelu(x)
    if name in ("gelu_pytorch_tanh", "gelu_new"):
        return F.gelu(x, approximate="tanh")
    raise ValueError(name)


def names(w):
    """(text prefix, lm head, vision prefix, projector prefix) for either naming generation."""
    if "model.language_model.embed_tokens.weight" in w:
        return "model.language_model.", "lm_head.weight", "model.vision_tower.", "model.multi_modal_projector."
    return "language_model.model.", "language_model.lm_head.weight", "vision_tower.", "multi_modal_projector."


def clip_hidden_states(vc, w, prefix, pixels):
    """hidden_states of CLIPVisionModel for one image [C, S, S]: a list of [T, d]."""
    p = prefix + "vision_model."
    d = vc["hidden_size"]
    nh = vc["num_attention_heads"]
    hd = d // nh
    eps = vc.get("layer_norm_eps", 1e-5)
    fn = vc.get("hidden_act", "quick_gelu")
    conv = F.conv2d(pixels[None], w[p + "embeddings.patch_embedding.weight"], stride=vc["patch_size"])
    patches = conv.flatten(2).transpose(1, 2)[0]
    x = torch.cat([w[p + "embeddings.class_embedding"][None], patches], dim=0)
    x = x + w[p + "embeddings.position_embedding.weight"]
    x = F.layer_norm(x, (d,), w[p + "pre_layrnorm.weight"], w[p + "pre_layrnorm.bias"], eps)
    states = [x]
    n = x.shape[0]

    def lin(inp, name):
        return inp @ w[name + ".weight"].T + w[name + ".bias"]

    for i in range(vc["num_hidden_layers"]):
        l = f"{p}encoder.layers.{i}."
        y = F.layer_norm(x, (d,), w[l + "layer_norm1.weight"], w[l + "layer_norm1.bias"], eps)
        q = lin(y, l + "self_attn.q_proj").view(n, nh, hd).transpose(0, 1)
        k = lin(y, l + "self_attn.k_proj").view(n, nh, hd).transpose(0, 1)
        v = lin(y, l + "self_attn.v_proj").view(n, nh, hd).transpose(0, 1)
        attn = torch.softmax((q @ k.transpose(1, 2)) * hd ** -0.5, dim=-1) @ v
        x = x + lin(attn.transpose(0, 1).reshape(n, d), l + "self_attn.out_proj")
        y = F.layer_norm(x, (d,), w[l + "layer_norm2.weight"], w[l + "layer_norm2.bias"], eps)
        x = x + lin(act(fn, lin(y, l + "mlp.fc1")), l + "mlp.fc2")
        states.append(x)
    return states


def image_features(cfg, w, pixels):
    """Projected features of one image: [tokens per image, text hidden]."""
    _, _, vision, proj = names(w)
    states = clip_hidden_states(cfg["vision_config"], w, vision, pixels)
    layers = cfg.get("vision_feature_layer", -2)
    layers = [layers] if isinstance(layers, int) else layers
    pool = [states[l] for l in layers]
    if cfg.get("vision_feature_select_strategy", "default") == "default":
        pool = [s[1:] for s in pool]
    feats = torch.cat(pool, dim=-1)
    h = feats @ w[proj + "linear_1.weight"].T
    if cfg.get("multimodal_projector_bias", True):
        h = h + w[proj + "linear_1.bias"]
    h = act(cfg.get("projector_hidden_act", "gelu"), h)
    out = h @ w[proj + "linear_2.weight"].T
    if cfg.get("multimodal_projector_bias", True):
        out = out + w[proj + "linear_2.bias"]
    return out


def logits_last(cfg, tcfg, w, ids, prompt_len, feats):
    """Logits after the last of ids; image tokens of the prompt take the features in order."""
    text, head, _, _ = names(w)
    x = w[text + "embed_tokens.weight"][torch.tensor(ids)].clone()
    img = cfg["image_token_index"]
    positions = [i for i in range(prompt_len) if ids[i] == img]
    stacked = torch.cat(feats, dim=0) if feats else torch.zeros(0, x.shape[1])
    assert len(positions) == stacked.shape[0], (len(positions), stacked.shape)
    if positions:
        x[torch.tensor(positions)] = stacked
    return decode(tcfg, w, x, prefix=text, head_name=head)[-1]


def f32(v):
    """The shortest decimal that reads back as this float32 (about half the text of a double's repr)."""
    return float(np.format_float_positional(np.float32(v), unique=True))


def images_for(vc, seed):
    g = torch.Generator().manual_seed(seed)
    s = vc["image_size"]
    mean = torch.tensor(CLIP_MEAN).view(3, 1, 1)
    std = torch.tensor(CLIP_STD).view(3, 1, 1)
    return [((torch.rand(3, s, s, generator=g) - mean) / std).float() for _ in range(2)]


def main(ckpt_root, out_path):
    torch.set_grad_enabled(False)
    fixtures = {"generator": "llava_oracle.py (PyTorch %s, float32 eager)" % torch.__version__, "checkpoints": []}
    for ci, name in enumerate(sorted(os.listdir(ckpt_root))):
        d = os.path.join(ckpt_root, name)
        with open(os.path.join(d, "config.json")) as f:
            cfg = json.load(f)
        tcfg = dict(cfg["text_config"])
        tcfg.setdefault("architectures", [TEXT_ARCH[tcfg.get("model_type", "llama")]])
        w = read_safetensors(os.path.join(d, "model.safetensors"))
        vc = cfg["vision_config"]
        per = (vc["image_size"] // vc["patch_size"]) ** 2
        if cfg.get("vision_feature_select_strategy", "default") == "full":
            per += 1
        images = images_for(vc, 1000 + ci)
        feats = [image_features(cfg, w, im) for im in images]
        assert feats[0].shape[0] == per
        img = cfg["image_token_index"]
        rows = [0, 1, per - 1]
        entry = {
            "checkpoint": name,
            "tokens_per_image": per,
            "images": [[f32(v) for v in im.flatten().numpy()] for im in images],
            "feature_rows": rows,
            "features": [[[round(float(v), 7) for v in f[r]] for r in rows] for f in feats],
            "prompts": [],
        }
        prompts = [
            ([10, 20, 30] + [img] * per + [40, 50, 60, 70], [1]),
            ([img] * per + [5, 6], [0]),
            ([11] + [img] * per + [21, 31] + [img] * per + [41, 51, 61], [0, 1]),
        ]
        for prompt, which in prompts:
            used = [feats[i] for i in which]
            seq = list(prompt)
            first, margins = None, []
            for _ in range(GREEDY_STEPS):
                logits = logits_last(cfg, tcfg, w, seq, len(prompt), used)
                if first is None:
                    first = logits
                top2 = torch.topk(logits, 2).values
                margins.append(float(top2[0] - top2[1]))
                seq.append(int(torch.argmax(logits)))
            entry["prompts"].append({
                "prompt_ids": prompt,
                "image_indices": which,
                "last_logits": [round(float(v), 7) for v in first],
                "greedy_ids": seq[len(prompt):],
                "min_top2_margin": min(margins),
            })
            print(f"{name} prompt[{len(prompt)}] images={which} greedy={seq[len(prompt):]} "
                  f"min margin={min(margins):.2e}")
        fixtures["checkpoints"].append(entry)
    with open(out_path, "w") as f:
        json.dump(fixtures, f, separators=(",", ":"))  # compact: the images alone are 17k floats
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
