"""Records what Hugging Face's LLaVA-OneVision processor produces, as fixtures for
LlavaOnevisionImageProcessorTest and LlavaOnevisionFeaturesTest.

Run from the repository root with transformers 5.x (the venv of engine/src/test/python/hf_fixtures.py;
the wheels come from this machine's local index, never pypi.org):

    python3 -m venv /tmp/venv-ov
    /tmp/venv-ov/bin/pip install --no-deps --index-url file:///opt/pypi/simple \
        --extra-index-url file:///opt/pypi-more/simple --find-links /opt/wheels \
        -r engine/src/test/python/requirements-hf-fixtures-tf5.txt
    /tmp/venv-ov/bin/python processors/src/test/python/record_llava_onevision_fixtures.py \
        processors/src/test/resources/llava_onevision

The Pillow path of transformers 5 is `LlavaOnevisionImageProcessorPil` (image_processing_pil_llava_onevision.py);
sparkmm's Java port follows Pillow (PilResample), so that class is the oracle; the fixture names it. The
token counts come from `LlavaOnevisionProcessor` itself: its `__call__` expands "<image>" (the count of
image tokens in input_ids is recorded) and `_get_num_multimodal_tokens` gives the count from sizes alone.

Inputs are not PNG files: every image is a pure integer formula of (x, y, w, h) (see `test_image`) that the
Java test rebuilds, so extreme sizes such as 20x2000 cost nothing in the repository.

Per pixel case: the chosen grid pinpoint, the aspect-preserving resize inside it, the pixel_values shape,
image_sizes, per-patch sums (float64 over float32 values, catches a wrong tile order), min/max, 64 evenly
spaced values with their flat indices, the features count and the expanded token count. Plus a sweep of
the real checkpoint's settings (384 px, 36 pinpoints, 729 tokens, anyres_max_9) with sizes only: best
resolution and token count. Deterministic: a second run is byte-identical.
"""
import json
import sys
from pathlib import Path

import numpy as np
import PIL
import transformers
from PIL import Image
from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers
from transformers import LlavaOnevisionProcessor, LlavaOnevisionVideoProcessor, PreTrainedTokenizerFast
from transformers.image_processing_utils import select_best_resolution
from transformers.models.llava_onevision.image_processing_pil_llava_onevision import LlavaOnevisionImageProcessorPil

OUT = Path(sys.argv[1])
OUT.mkdir(parents=True, exist_ok=True)
SAMPLES = 64


def test_image(w, h):
    """Gradients in R and G, an xor texture in B: integer math only, mirrored by the Java test."""
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    r = (x * 255) // max(w - 1, 1)
    g = (y * 255) // max(h - 1, 1)
    b = ((x * 31 + y * 17) ^ (x * y)) & 255
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def pinpoints(side, n):
    return [[side * i, side * j] for i in range(1, n + 1) for j in range(1, n + 1)]


# Two small settings for pixel values; the real one (REAL) for token counts over many sizes.
CONFIGS = {
    # OneVision's defaults scaled down: 56 px tiles, 6x6 pinpoints, bicubic, CLIP mean/std,
    # 4x4 features a tile (as 384 / 14 -> 27x27), anyres_max_9, "full" features.
    "ov56": {
        "image_processor": {"image_processor_type": "LlavaOnevisionImageProcessor", "do_resize": True,
                            "size": {"height": 56, "width": 56}, "resample": 3, "do_rescale": True,
                            "rescale_factor": 0.00392156862745098, "do_normalize": True,
                            "image_mean": [0.48145466, 0.4578275, 0.40821073],
                            "image_std": [0.26862954, 0.26130258, 0.27577711], "do_pad": True,
                            "do_convert_rgb": True, "image_grid_pinpoints": pinpoints(56, 6)},
        "processor": {"num_image_tokens": 16, "vision_aspect_ratio": "anyres_max_9",
                      "vision_feature_select_strategy": "full"},
    },
    # A ragged pinpoint list (not a full grid), bilinear, mean/std 0.5 (the Hub checkpoints'),
    # 3x3 features a tile, anyres_max_2 and the "default" strategy (HF then counts one token less).
    "ov42": {
        "image_processor": {"image_processor_type": "LlavaOnevisionImageProcessor", "do_resize": True,
                            "size": {"height": 42, "width": 42}, "resample": 2, "do_rescale": True,
                            "rescale_factor": 0.00392156862745098, "do_normalize": True,
                            "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "do_pad": True,
                            "image_grid_pinpoints": [[42, 42], [42, 84], [84, 42], [84, 84], [42, 126],
                                                     [126, 42], [126, 126], [84, 168], [210, 42]]},
        "processor": {"num_image_tokens": 9, "vision_aspect_ratio": "anyres_max_2",
                      "vision_feature_select_strategy": "default"},
    },
}
REAL = {"image_processor": {"size": {"height": 384, "width": 384}, "image_grid_pinpoints": pinpoints(384, 6)},
        "processor": {"num_image_tokens": 729, "vision_aspect_ratio": "anyres_max_9",
                      "vision_feature_select_strategy": "full"}}

# (width, height)
SIZES = [(1, 1), (2, 3), (20, 2000), (2000, 20), (336, 336), (640, 480), (480, 640), (1000, 300),
         (300, 1000), (56, 56), (57, 113), (100, 30), (333, 77), (7, 500), (1200, 1200), (42, 210)]
# (height, width) where the unpadding's float product lands just below an integer (within 5e-8), so
# HF's int(round(x, 7)) and a plain truncation give different token counts (found by a numpy search).
BORDERLINE = [(47, 423), (423, 47), (49, 1323), (369, 820), (375, 1375), (597, 1791), (603, 1809)]
MULTI = [[(640, 480), (30, 100)], [(1, 1), (2000, 20)]]


def tokenizer():
    vocab = {"<unk>": 0, "<image>": 1, "<video>": 2, "hello": 3}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in ("<image>", "<video>")])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>")


def processor(cfg):
    ip = LlavaOnevisionImageProcessorPil(**{k: v for k, v in cfg["image_processor"].items()
                                            if k != "image_processor_type"})
    return LlavaOnevisionProcessor(image_processor=ip, tokenizer=tokenizer(),
                                   video_processor=LlavaOnevisionVideoProcessor(),
                                   **cfg["processor"])


def f32(v):
    return float(str(np.float32(v)))


def pixel_record(pv):
    flat = pv.astype(np.float32).reshape(-1)
    idx = np.linspace(0, flat.size - 1, SAMPLES).round().astype(np.int64)
    return {"shape": list(pv.shape), "indices": idx.tolist(), "values": [f32(flat[i]) for i in idx],
            "min": f32(flat.min()), "max": f32(flat.max()),
            "patch_sums": [float(p.astype(np.float64).sum()) for p in pv.astype(np.float32)]}


def count_image_tokens(ids):
    return int((np.asarray(ids) == 1).sum())


def main():
    cases = []
    for name, cfg in CONFIGS.items():
        (OUT / f"{name}_preprocessor_config.json").write_text(
            json.dumps(cfg["image_processor"], indent=1, sort_keys=True) + "\n")
        (OUT / f"{name}_processor_config.json").write_text(
            json.dumps(cfg["processor"], indent=1, sort_keys=True) + "\n")
        proc = processor(cfg)
        pins = cfg["image_processor"]["image_grid_pinpoints"]
        for w, h in SIZES:
            img = Image.fromarray(test_image(w, h))
            out = proc(text="hello <image>", images=[img], return_tensors="np")
            pv = out["pixel_values"][0]
            best = select_best_resolution((h, w), pins)
            rec = {"config": name, "width": w, "height": h, "best_resolution": [int(best[0]), int(best[1])],
                   "image_sizes": [int(v) for v in out["image_sizes"][0]],
                   "image_tokens": count_image_tokens(out["input_ids"][0]),
                   "num_multimodal_tokens": proc._get_num_multimodal_tokens(image_sizes=[(h, w)])["num_image_tokens"][0]}
            rec.update(pixel_record(pv))
            cases.append(rec)
    multi = []
    for name, cfg in CONFIGS.items():
        proc = processor(cfg)
        for pair in MULTI:
            imgs = [Image.fromarray(test_image(w, h)) for w, h in pair]
            out = proc(text="hello <image> <image>", images=[imgs], return_tensors="np")
            pv = out["pixel_values"]
            assert pv.shape[0] == 2 and out["batch_num_images"][0] == 2
            multi.append({"config": name, "sizes": [list(p) for p in pair],
                          "image_tokens": count_image_tokens(out["input_ids"][0]),
                          "images": [pixel_record(pv[i]) for i in range(2)]})
    real = processor(REAL)
    sides = [1, 14, 100, 383, 384, 385, 500, 640, 768, 1000, 1152, 1920, 2304, 3000, 8000]
    sweep = []
    for h, w in [(h, w) for h in sides for w in sides] + BORDERLINE:
        best = select_best_resolution((h, w), REAL["image_processor"]["image_grid_pinpoints"])
        n = real._get_num_multimodal_tokens(image_sizes=[(h, w)])["num_image_tokens"][0]
        sweep.append([h, w, int(best[0]), int(best[1]), int(n)])
    doc = {"oracle": "LlavaOnevisionImageProcessorPil + LlavaOnevisionProcessor",
           "versions": {"transformers": transformers.__version__, "numpy": np.__version__, "pillow": PIL.__version__},
           "cases": cases, "multi_image": multi,
           "real": {"config": REAL, "sweep_columns": ["height", "width", "best_height", "best_width", "tokens"],
                    "sweep": sweep}}
    (OUT / "llava_onevision_fixtures.json").write_text(json.dumps(doc, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
