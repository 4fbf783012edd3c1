"""Records what real Pillow produces, as fixtures for PilResampleTest and ClipImageProcessorTest.

Run wherever Pillow and numpy are installed (Debian: apt-get install python3-pil python3-numpy):

    python3 processors/src/test/python/record_pil_fixtures.py processors/src/test/resources/pil

It writes small input PNGs, Pillow's resize of each (PNG, exact bytes), and for a few tiny CLIP
configurations the pixel_values that transformers' Python CLIPImageProcessor computes (resize with
Pillow, center crop with zero padding, rescale in float64 then float32, normalize in float32),
restated here step by step because transformers itself is not installed where this was run.
The fixtures are committed; the tests never need Python.
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
import PIL
from PIL import Image

OUT = Path(sys.argv[1])
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(1234)


def test_image(w, h):
    """Gradients, hard edges, a thin checkerboard and noise: every kind of content a filter can get wrong."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = np.where((x // 5 + y // 3) % 2 == 0, 250.0, 5.0)
    img = np.stack([r, g, b], axis=-1)
    img[h // 3: h // 2, :, :] = [255, 0, 0]
    img[:, w // 4: w // 4 + 2, :] = [0, 0, 0]
    img += rng.normal(0, 20, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def save(name, arr):
    Image.fromarray(arr, "RGB").save(OUT / name)
    return name


manifest = {"pillow": PIL.__version__, "resize": [], "clip": []}

RESIZES = [
    # (in w, in h, out w, out h, resample)
    (64, 48, 24, 18, 3),   # downscale by 2.67
    (64, 48, 37, 29, 3),   # non-integer factors
    (20, 15, 53, 40, 3),   # upscale
    (50, 50, 50, 17, 3),   # vertical pass only
    (50, 50, 13, 50, 3),   # horizontal pass only
    (97, 61, 60, 37, 3),
    (97, 61, 60, 37, 2),   # bilinear
    (200, 150, 112, 84, 3),
    (31, 77, 7, 120, 3),   # down in x, up in y
]
for i, (w, h, ow, oh, resample) in enumerate(RESIZES):
    src = test_image(w, h)
    out = np.asarray(Image.fromarray(src, "RGB").resize((ow, oh), resample=resample, reducing_gap=None))
    manifest["resize"].append({
        "input": save(f"resize{i}_in.png", src),
        "output": save(f"resize{i}_out.png", out),
        "width": ow, "height": oh, "resample": resample,
    })


def clip_pixel_values(img, cfg):
    """transformers' CLIPImageProcessor.preprocess for one RGB uint8 HWC image, channels first."""
    h, w = img.shape[:2]
    if cfg["do_resize"]:
        n = cfg["size"]["shortest_edge"]
        short, long = (w, h) if w <= h else (h, w)
        new_long = int(n * long / short)
        oh, ow = (new_long, n) if w <= h else (n, new_long)
        img = np.asarray(Image.fromarray(img, "RGB").resize((ow, oh), resample=cfg["resample"], reducing_gap=None))
    if cfg["do_center_crop"]:
        ch, cw = cfg["crop_size"]["height"], cfg["crop_size"]["width"]
        h, w = img.shape[:2]
        top, left = (h - ch) // 2, (w - cw) // 2
        if top >= 0 and left >= 0 and top + ch <= h and left + cw <= w:
            img = img[top:top + ch, left:left + cw]
        else:
            nh, nw = max(ch, h), max(cw, w)
            padded = np.zeros((nh, nw, 3), dtype=img.dtype)
            tp, lp = math.ceil((nh - h) / 2), math.ceil((nw - w) / 2)
            padded[tp:tp + h, lp:lp + w] = img
            top, left = top + tp, left + lp
            img = padded[max(0, top):min(nh, top + ch), max(0, left):min(nw, left + cw)]
    x = (img.astype(np.float64) * cfg["rescale_factor"]).astype(np.float32)
    mean = np.array(cfg["image_mean"], dtype=np.float32)
    std = np.array(cfg["image_std"], dtype=np.float32)
    x = (x - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)).astype("<f4")


BASE = {
    "image_processor_type": "CLIPImageProcessor", "do_convert_rgb": True,
    "do_rescale": True, "rescale_factor": 0.00392156862745098, "do_normalize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
}
CLIPS = [
    (dict(BASE, do_resize=True, size={"shortest_edge": 24}, resample=3, do_center_crop=True,
          crop_size={"height": 24, "width": 24}), [(64, 48), (48, 64), (15, 20), (33, 51)]),
    # no resize, crop larger than the image on one axis: zero padding, ceil on top/left
    (dict(BASE, do_resize=False, size={"shortest_edge": 24}, resample=3, do_center_crop=True,
          crop_size={"height": 21, "width": 12}), [(15, 18), (16, 11)]),
]
for c, (cfg, sizes) in enumerate(CLIPS):
    (OUT / f"clip{c}_preprocessor_config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    for j, (w, h) in enumerate(sizes):
        src = test_image(w, h)
        pv = clip_pixel_values(src, cfg)
        name = f"clip{c}_{j}"
        (OUT / f"{name}.f32").write_bytes(pv.tobytes())
        manifest["clip"].append({
            "config": f"clip{c}_preprocessor_config.json", "input": save(f"{name}_in.png", src),
            "pixel_values": f"{name}.f32", "shape": list(pv.shape),
        })

(OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
print("wrote", len(manifest["resize"]), "resize cases and", len(manifest["clip"]), "CLIP cases with Pillow",
      PIL.__version__)
