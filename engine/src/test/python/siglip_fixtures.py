#!/usr/bin/env python3
"""Hugging Face transformers as the oracle of sparkmm's SigLIP vision tower (SiglipVisionTower), the
encoder of LLaVA-OneVision.

Builds a tiny SiglipVisionModel from a fixed seed with transformers' own class and writes it with
`save_pretrained` (safetensors, F32): hidden 32, intermediate 64, 3 layers, 2 heads, gelu_pytorch_tanh,
layer_norm_eps 1e-6, patch 14 on a 60 px image (a 4 x 4 grid: the stride-14 convolution drops the last
4 pixel rows and columns, as SigLIP-so400m drops 6 of 384), no pooling head (LLaVA-OneVision's
vision_use_head false). Weights are drawn at std 0.1 (an encoder at transformers' tiny init hardly moves
its input) and norm weights / biases are perturbed so those paths are tested.

It runs the model (eager attention, F32, one CPU thread) on one deterministic pixel tensor that the Java
test rebuilds from the same integer formula (PIXELS below), and records every hidden state
(hidden_states[0] = embeddings, hidden_states[i] = after layer i) and last_hidden_state (post_layernorm
of the last layer) in full, as shortest float32 decimals.

Output: <out>/siglip-vision-f32/ (the checkpoint) and <out>/siglip_fixtures.json, <out> defaulting to
engine/src/test/resources/hf/tf5. Keys are sorted: a second run rewrites the same bytes.

Run from the repository root in the venv of hf_fixtures.py (transformers 5, local index only):

    python3 -m venv /tmp/venv-tf5
    /tmp/venv-tf5/bin/pip install --no-deps --index-url file:///opt/pypi/simple \
        --extra-index-url file:///opt/pypi-more/simple --find-links /opt/wheels \
        -r engine/src/test/python/requirements-hf-fixtures-tf5.txt
    /tmp/venv-tf5/bin/python engine/src/test/python/siglip_fixtures.py
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import SiglipVisionConfig, SiglipVisionModel

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "engine/src/test/resources/hf/tf5")
NAME = "siglip-vision-f32"


def f32(v):
    """The shortest decimal that reads back as this float32."""
    return float(np.format_float_positional(np.float32(v), unique=True))


def pixels(channels, size):
    """Values in [-1, 1) from an integer formula: ((7c + 13y + 29x) mod 101) / 50 - 1, exact in float32 math."""
    c, y, x = np.mgrid[0:channels, 0:size, 0:size]
    return (((7 * c + 13 * y + 29 * x) % 101) / 50.0 - 1.0).astype(np.float32)


def main():
    torch.manual_seed(1234)
    torch.set_num_threads(1)
    config = SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=2,
                                num_channels=3, image_size=60, patch_size=14, hidden_act="gelu_pytorch_tanh",
                                layer_norm_eps=1e-6, vision_use_head=False)
    model = SiglipVisionModel(config).eval()
    g = torch.Generator().manual_seed(99)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith(".weight"):
                p.copy_(1 + torch.randn(p.shape, generator=g) * 0.1)
            elif name.endswith(".bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    model.save_pretrained(OUT / NAME)

    reloaded = SiglipVisionModel.from_pretrained(OUT / NAME, attn_implementation="eager",
                                                 dtype=torch.float32).eval()
    pv = torch.from_numpy(pixels(config.num_channels, config.image_size))[None]
    with torch.no_grad():
        out = reloaded(pixel_values=pv, output_hidden_states=True)
    doc = {
        "checkpoint": NAME,
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__, "numpy": np.__version__},
        "tensor_names": sorted(reloaded.state_dict().keys()),
        "hidden_states": [[[f32(v) for v in row] for row in h[0].numpy()] for h in out.hidden_states],
        "last_hidden_state": [[f32(v) for v in row] for row in out.last_hidden_state[0].numpy()],
    }
    (OUT / "siglip_fixtures.json").write_text(json.dumps(doc, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
