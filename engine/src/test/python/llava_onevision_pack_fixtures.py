#!/usr/bin/env python3
"""Hugging Face transformers as the oracle of sparkmm's LLaVA-OneVision feature packing (AnyResFeatures):
how the vision tower's per-patch features become the sequence that replaces an image's placeholder.

It calls transformers' own `LlavaOnevisionModel.pack_image_features` (base patch first, then the tiles'
feature grid cropped to the image's aspect ratio, bilinearly shrunk past anyres_max_N, an image_newline
after every row; one patch plus a newline for an image of a multi-image prompt) on features from an
integer formula that the Java test rebuilds (FEATURE below), so no model and no input tensors are stored.
The method only reads `config.vision_config.image_size / patch_size` and `config.image_grid_pinpoints`,
so it runs on a namespace holding just those (no weights needed).

Two settings, both small: 56 px tiles / patch 14 (4 x 4 features a tile), 6 x 6 pinpoints, anyres_max_9;
and 42 px / patch 14 (3 x 3), a ragged pinpoint list, anyres_max_2 (so most images are downscaled).
Output: engine/src/test/resources/llava_onevision/pack_fixtures.json (full packed features, shortest
float32 decimals; a second run rewrites the same bytes).

Run from the repository root in the venv of hf_fixtures.py (transformers 5, local index only):

    /tmp/venv-tf5/bin/python engine/src/test/python/llava_onevision_pack_fixtures.py
"""
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
import transformers
from transformers.image_processing_utils import select_best_resolution
from transformers.models.llava_onevision.modeling_llava_onevision import LlavaOnevisionModel

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "engine/src/test/resources/llava_onevision")
DIM = 4
NEWLINE = [0.25, -0.5, 0.75, -1.0]


def f32(v):
    return float(np.format_float_positional(np.float32(v), unique=True))


def feature(p, t, c):
    """Feature c of token t of patch p: ((131 p + 37 t + 11 c + p t) mod 97) / 48 - 1."""
    return ((131 * p + 37 * t + 11 * c + p * t) % 97) / 48.0 - 1.0


SETTINGS = {
    "s56": {"image_size": 56, "patch_size": 14, "aspect": "anyres_max_9",
            "pinpoints": [[56 * i, 56 * j] for i in range(1, 7) for j in range(1, 7)]},
    "s42": {"image_size": 42, "patch_size": 14, "aspect": "anyres_max_2",
            "pinpoints": [[42, 42], [42, 84], [84, 42], [84, 84], [42, 126], [126, 42], [126, 126], [84, 168],
                          [210, 42]]},
}
# (height, width)
SIZES = [(1, 1), (2000, 20), (20, 2000), (336, 336), (480, 640), (640, 480), (300, 1000), (113, 57), (77, 333),
         (210, 42)]


def main():
    cases = []
    for name, s in SETTINGS.items():
        fake = SimpleNamespace(config=SimpleNamespace(
            vision_config=SimpleNamespace(image_size=s["image_size"], patch_size=s["patch_size"]),
            image_grid_pinpoints=s["pinpoints"]))
        side = s["image_size"] // s["patch_size"]
        for h, w in SIZES:
            best = select_best_resolution((h, w), s["pinpoints"])
            n = 1 + (best[0] // s["image_size"]) * (best[1] // s["image_size"])
            for multi in (False, True):
                patches = 1 if multi else n
                feats = torch.tensor([[[feature(p, t, c) for c in range(DIM)] for t in range(side * side)]
                                      for p in range(patches)], dtype=torch.float32)
                packed, lens = LlavaOnevisionModel.pack_image_features(
                    fake, [feats], torch.tensor([[h, w]]), image_newline=torch.tensor(NEWLINE),
                    vision_aspect_ratio=s["aspect"])
                out = packed[0]
                assert out.shape == (int(lens[0]), DIM)
                cases.append({"setting": name, "height": h, "width": w, "patches": patches,
                              "packed": [[f32(v) for v in row] for row in out.numpy()]})
    doc = {"versions": {"transformers": transformers.__version__, "torch": torch.__version__},
           "dim": DIM, "newline": NEWLINE, "settings": SETTINGS, "cases": cases}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pack_fixtures.json").write_text(json.dumps(doc, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
