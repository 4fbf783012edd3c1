"""Records what Hugging Face's Qwen2-VL image processor produces, as fixtures for Qwen2VlImageProcessorTest
and SmartResizeTest.

Run with transformers 5.x, numpy and Pillow installed:

    python processors/src/test/python/record_qwen2vl_fixtures.py processors/src/test/resources/qwen2vl

In transformers 5.18, `Qwen2VLImageProcessor` is the torchvision backend (tvF resize, not Pillow's);
the Pillow path is `Qwen2VLImageProcessorPil` (image_processing_pil_qwen2_vl.py), which is what our
Java port follows (PilResample), so that is the class recorded here. The fixture names the class.

It writes small input PNGs, their preprocessor_config.json files, and qwen2vl_fixtures.json with per
image and config: smart_resize's (h, w), image_grid_thw, the pixel_values shape, 64 evenly spaced
values with their flat indices, and min/max/sum of all values; plus a sweep of smart_resize cases
(including the ValueError HF raises for an aspect ratio over 200). Deterministic: a second run is
byte-identical.
"""
import json
import sys
from pathlib import Path

import numpy as np
import PIL
import transformers
from PIL import Image
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil, smart_resize

OUT = Path(sys.argv[1])
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(4321)
SAMPLES = 64


def test_image(w, h):
    """Gradients, a hard edge, a checkerboard and noise, like record_pil_fixtures.py."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = np.where((x // 3 + y // 2) % 2 == 0, 240.0, 10.0)
    img = np.stack([r, g, b], axis=-1)
    img[h // 3: h // 2, :, :] = [255, 0, 0]
    img += rng.normal(0, 20, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


CONFIGS = [
    # legacy min_pixels/max_pixels keys, factor 8, default CLIP mean/std (absent keys)
    {"image_processor_type": "Qwen2VLImageProcessor", "patch_size": 4, "temporal_patch_size": 2,
     "merge_size": 2, "min_pixels": 256, "max_pixels": 2048, "do_resize": True, "resample": 3,
     "do_rescale": True, "rescale_factor": 0.00392156862745098, "do_normalize": True},
    # newer size{shortest_edge, longest_edge} form, factor 12, temporal 3, other mean/std
    {"image_processor_type": "Qwen2VLImageProcessor", "patch_size": 6, "temporal_patch_size": 3,
     "merge_size": 2, "size": {"shortest_edge": 300, "longest_edge": 3000}, "do_resize": True, "resample": 3,
     "do_rescale": True, "rescale_factor": 0.00392156862745098, "do_normalize": True,
     "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]},
]
# (w, h): landscape, portrait, tiny below min_pixels, large past max_pixels, extreme aspect, odd sizes
SIZES = [(40, 30), (30, 40), (7, 5), (120, 90), (150, 9), (33, 51)]


def f(x):
    return float(np.float32(x))


manifest = {"class": "Qwen2VLImageProcessorPil", "transformers": transformers.__version__,
            "pillow": PIL.__version__, "images": [], "cases": [], "smart_resize": []}
for j, (w, h) in enumerate(SIZES):
    name = f"img{j}_{w}x{h}.png"
    Image.fromarray(test_image(w, h), "RGB").save(OUT / name)
    manifest["images"].append(name)

for c, cfg in enumerate(CONFIGS):
    cfg_name = f"qwen2vl{c}_preprocessor_config.json"
    (OUT / cfg_name).write_text(json.dumps(cfg, indent=2) + "\n")
    kwargs = {k: v for k, v in cfg.items() if k != "image_processor_type"}
    proc = Qwen2VLImageProcessorPil(**kwargs)
    factor = cfg["patch_size"] * cfg["merge_size"]
    lo = cfg.get("min_pixels") or cfg["size"]["shortest_edge"]
    hi = cfg.get("max_pixels") or cfg["size"]["longest_edge"]
    for name in manifest["images"]:
        img = Image.open(OUT / name).convert("RGB")
        out = proc(images=img, return_tensors="np")
        pv = np.asarray(out["pixel_values"], dtype=np.float32)
        grid = [int(v) for v in out["image_grid_thw"][0]]
        flat = pv.reshape(-1)
        idx = np.linspace(0, flat.size - 1, SAMPLES).round().astype(np.int64)
        manifest["cases"].append({
            "config": cfg_name, "input": name, "width": img.width, "height": img.height,
            "resized": list(smart_resize(img.height, img.width, factor, lo, hi)),
            "image_grid_thw": grid, "shape": list(pv.shape),
            "indices": [int(i) for i in idx], "values": [f(flat[i]) for i in idx],
            "min": f(flat.min()), "max": f(flat.max()), "sum": float(flat.astype(np.float64).sum()),
        })

SWEEP_SIZES = [(1, 1), (28, 28), (42, 42), (70, 70), (14, 14), (56, 56), (100, 100), (224, 224), (480, 640),
               (1080, 1920), (2160, 3840), (4000, 3000), (10000, 10000), (1, 200), (200, 1), (3, 600),
               (5, 1000), (1, 201), (201, 1), (10, 2001), (13, 2600), (50, 9999), (27, 5400), (7, 700),
               (333, 517), (1023, 767), (35, 91), (99, 13)]
SWEEP_PARAMS = [(28, 56 * 56, 28 * 28 * 1280), (28, 3136, 12845056), (8, 256, 2048), (12, 300, 3000),
                (32, 32 * 32 * 4, 32 * 32 * 64)]
for factor, lo, hi in SWEEP_PARAMS:
    for h, w in SWEEP_SIZES:
        case = {"height": h, "width": w, "factor": factor, "min_pixels": lo, "max_pixels": hi}
        try:
            case["resized"] = list(smart_resize(h, w, factor, lo, hi))
        except ValueError as e:
            case["error"] = str(e)
        manifest["smart_resize"].append(case)

text = "{\n" + ",\n".join(
    f' "{k}": ' + (json.dumps(v) if not isinstance(v, list) or not v or not isinstance(v[0], dict)
                   else "[\n" + ",\n".join("  " + json.dumps(x) for x in v) + "\n ]")
    for k, v in manifest.items()) + "\n}\n"
(OUT / "qwen2vl_fixtures.json").write_text(text)
print("wrote", len(manifest["cases"]), "cases and", len(manifest["smart_resize"]), "smart_resize cases with",
      "transformers", transformers.__version__, "Pillow", PIL.__version__)
