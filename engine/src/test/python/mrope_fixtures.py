#!/usr/bin/env python3
"""Hugging Face transformers as the oracle of sparkmm's M-RoPE positions (Qwen2-VL, Qwen2.5-VL).

Builds a tiny Qwen2VLModel and Qwen2_5_VLModel from small configs (fixed seed; only the config
matters, get_rope_index reads spatial_merge_size and tokens_per_second from it), runs their own
`get_rope_index` on hand-made prompts and writes the [3][len] position ids and the rope delta of
each to engine/src/test/resources/qwen2vl/mrope_fixtures.json. The prompts are token id
sequences: text ids, then <|vision_start|> followed by t*(h/m)*(w/m) image or video pad tokens
and <|vision_end|>, as the processor expands them. mm_token_type_ids is derived the way the
transformers 5 processor does (image pad -> 1, video pad -> 2, else 0). Deterministic: a second
run rewrites the same bytes.

transformers 4.57 and 5.18 disagree on one rule: where text continues after a video whose temporal
positions outrun its spatial ones. 4.57 (like Qwen's original code and vLLM) continues at the item's
largest position + 1; 5.18 at the item's start + max(h, w) / merge. sparkmm follows 4.57, so the
fixtures it is tested against come from 4.57 (mrope_fixtures.json); the 5.18 run is kept next to
them (mrope_fixtures_tf5.json) so the test can show the two differ exactly in those cases.

Run (from the repository root; venvs as in hf_fixtures.py and qwen2vl_fixtures.py):
    /tmp/venv-tf4q/bin/python engine/src/test/python/mrope_fixtures.py
    /tmp/venv-tf5/bin/python engine/src/test/python/mrope_fixtures.py
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import hf_fixtures  # noqa: F401,E402  (lets transformers 4.57 import next to huggingface-hub 1.x)

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import Qwen2VLConfig, Qwen2VLModel, Qwen2_5_VLConfig, Qwen2_5_VLModel

VISION_START, VISION_END, IMAGE, VIDEO = 151652, 151653, 151655, 151656
MERGE = 2
TF4 = transformers.__version__.startswith("4.")
OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "qwen2vl",
                   "mrope_fixtures.json" if TF4 else "mrope_fixtures_tf5.json")


def tiny_model(cls, config_cls, tokens_per_second=None):
    vision = dict(depth=1, embed_dim=16, hidden_size=16, num_heads=2, in_channels=3, patch_size=14,
                  spatial_merge_size=MERGE, temporal_patch_size=2)
    if cls is Qwen2_5_VLModel:
        vision.update(intermediate_size=16, out_hidden_size=16, tokens_per_second=tokens_per_second,
                      fullatt_block_indexes=[0], window_size=28)
    text = dict(vocab_size=151936, hidden_size=16, intermediate_size=16, num_hidden_layers=1,
                num_attention_heads=2, num_key_value_heads=1)
    rope = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]}
    if TF4:
        text.update(rope_scaling=dict(rope, type="mrope"), rope_theta=10000.0)
    else:
        text.update(rope_parameters=rope)
    config = config_cls(vision_config=vision, text_config=text, image_token_id=IMAGE, video_token_id=VIDEO,
                        vision_start_token_id=VISION_START, vision_end_token_id=VISION_END)
    torch.manual_seed(0)
    return cls(config).eval()


def prompt(*parts):
    """parts: an int (that many text tokens, ids 100..), ('image', t, h, w) or ('video', t, h, w)."""
    ids, images, videos, next_text = [], [], [], 100
    for p in parts:
        if isinstance(p, int):
            ids += list(range(next_text, next_text + p))
            next_text += p
            continue
        kind, t, h, w = p
        (images if kind == "image" else videos).append([t, h, w])
        ids += [VISION_START] + [IMAGE if kind == "image" else VIDEO] * (t * (h // MERGE) * (w // MERGE)) + [VISION_END]
    return ids, images, videos


# (name, family, tokens_per_second, second_per_grid_ts, attention mask of ones?, parts)
CASES = [
    ("text_only", "qwen2_vl", None, None, False, [7]),
    ("one_image", "qwen2_vl", None, None, False, [3, ("image", 1, 4, 6), 4]),
    ("odd_grid_image", "qwen2_vl", None, None, False, [2, ("image", 1, 6, 10), 1]),
    ("image_first", "qwen2_vl", None, None, False, [("image", 1, 2, 2), 3]),
    ("several_images", "qwen2_vl", None, None, False, [2, ("image", 1, 4, 4), 1, ("image", 1, 2, 6), 3, ("image", 1, 10, 2), 2]),
    ("video", "qwen2_vl", None, None, False, [3, ("video", 3, 4, 4), 2]),
    ("long_video_small_frames", "qwen2_vl", None, None, False, [1, ("video", 5, 2, 2), 2]),
    ("image_and_video", "qwen2_vl", None, None, False, [2, ("video", 2, 6, 4), 1, ("image", 1, 4, 2), 1, ("video", 2, 2, 2), 2]),
    ("attention_mask_ones", "qwen2_vl", None, None, True, [3, ("image", 1, 4, 6), 2, ("video", 2, 4, 4), 2]),
    ("v25_image_only", "qwen2_5_vl", 2, None, False, [2, ("image", 1, 6, 4), 2]),
    ("v25_video_tps2_half", "qwen2_5_vl", 2, [0.5], False, [2, ("video", 4, 4, 4), 3]),
    ("v25_video_tps2_one", "qwen2_5_vl", 2, [1.0], False, [2, ("video", 3, 6, 2), 3]),
    ("v25_video_tps25_two", "qwen2_5_vl", 25, [2.0], False, [1, ("video", 3, 4, 4), 2]),
    ("v25_mixed_tps25", "qwen2_5_vl", 25, [0.5, 1.0], True,
     [2, ("image", 1, 4, 4), 1, ("video", 2, 2, 4), 1, ("image", 1, 2, 2), 1, ("video", 3, 2, 2), 2]),
    ("v25_video_no_seconds", "qwen2_5_vl", 25, None, False, [1, ("video", 2, 2, 2), 1]),
    ("v25_fractional_interval", "qwen2_5_vl", 2, [0.7], False, [1, ("video", 4, 2, 2), 1]),
]


def main():
    models = {}
    fixtures = []
    for name, family, tps, seconds, mask, parts in CASES:
        key = (family, tps)
        if key not in models:
            models[key] = (tiny_model(Qwen2VLModel, Qwen2VLConfig) if family == "qwen2_vl"
                           else tiny_model(Qwen2_5_VLModel, Qwen2_5_VLConfig, tps))
        model = models[key]
        ids, images, videos = prompt(*parts)
        input_ids = torch.tensor([ids], dtype=torch.long)
        types = torch.tensor([[1 if i == IMAGE else 2 if i == VIDEO else 0 for i in ids]], dtype=torch.int)
        kwargs = dict(image_grid_thw=torch.tensor(images, dtype=torch.long) if images else None,
                      video_grid_thw=torch.tensor(videos, dtype=torch.long) if videos else None,
                      attention_mask=torch.ones_like(input_ids) if mask else None)
        if family == "qwen2_5_vl" and seconds is not None:
            kwargs["second_per_grid_ts"] = torch.tensor(seconds, dtype=torch.float32)
        with torch.no_grad():
            if TF4:
                positions, deltas = model.get_rope_index(input_ids, **kwargs)
            else:
                positions, deltas = model.get_rope_index(input_ids, types, **kwargs)
        fixtures.append({
            "name": name, "family": family, "spatial_merge_size": MERGE, "tokens_per_second": tps,
            "second_per_grid_ts": seconds, "attention_mask_ones": mask,
            "vision_start_token_id": VISION_START, "image_token_id": IMAGE, "video_token_id": VIDEO,
            "input_ids": ids, "image_grid_thw": images, "video_grid_thw": videos,
            "positions": positions[:, 0, :].tolist(), "delta": int(deltas[0, 0]),
        })
    doc = {"transformers": transformers.__version__, "torch": torch.__version__.split("+")[0],
           "functions": ["Qwen2VLModel.get_rope_index", "Qwen2_5_VLModel.get_rope_index"], "cases": fixtures}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        # one case per line keeps the file small and diffable
        f.write('{"transformers": %s, "torch": %s, "functions": %s, "cases": [\n'
                % (json.dumps(doc["transformers"]), json.dumps(doc["torch"]), json.dumps(doc["functions"])))
        f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in fixtures))
        f.write("\n]}\n")


if __name__ == "__main__":
    main()
