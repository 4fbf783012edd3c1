#!/usr/bin/env python3
"""Hugging Face transformers as the oracle of sparkmm's Qwen2-VL and Qwen2.5-VL model math.

The companion of hf_fixtures.py (Llama, Qwen2, Mistral, LLaVA) for the Qwen vision-language
families. It builds two tiny checkpoints with transformers' own classes from a fixed seed and writes
them with `save_pretrained` (safetensors, F32), each era in its own native layout:

- qwen2_vl_tiny: Qwen2VLForConditionalGeneration. Text: hidden 64, 2 layers, 4 heads, 2 kv heads
  (head_dim 16), intermediate 128, mrope_section [2, 3, 3], rope_theta 10000, untied lm_head.
  Vision: embed_dim 32, depth 2, 2 heads, mlp_ratio 2, quick_gelu, patch 14, temporal patch 2,
  spatial merge 2, merger output 64.
- qwen2_5_vl_tiny: Qwen2_5_VLForConditionalGeneration, the same text dims with a tied head. Vision:
  hidden 32, intermediate 64, depth 3, 2 heads, out_hidden_size 64, silu, window_size 112 (4 merged
  tokens a side), full attention in block 1 only, tokens_per_second 2, patch 14 / 2 / merge 2.

Each directory also holds the processor: a word-level tokenizer (tokenizers' WordLevel model with
the Whitespace pre-tokenizer, so "assistant." is two tokens) whose added special tokens are
<|endoftext|>, <|im_start|>, <|im_end|>, <|vision_start|>, <|vision_end|>, <|image_pad|>,
<|video_pad|>; the Qwen2-VL image and video processors with a small pixel budget (min 56*56, max
448*448 pixels; video fps 2, 2..8 frames); and a Qwen-style chat template written for this script
(CHAT_TEMPLATE below). Weights start at std 0.1 (transformers' 0.02 makes every greedy step a
near-tie) and norm weights / biases are perturbed so those paths are tested.

Then it reloads every directory the way a user would (AutoProcessor, the model class with eager
attention, F32, one CPU thread) and runs each case of CASES: the chat template renders the prompt,
transformers' processor expands it (images through the Pillow backend, the one sparkmm follows; the
video processor has only the torchvision backend in both eras), and the model runs the prompt.
Recorded per case: prompt text, expanded input ids, image/video grid_thw, second_per_grid_ts, the
pixel values (shape, sha256 of the little-endian float32 bytes, 64 evenly spaced values), the 3 x n
M-RoPE position ids and rope delta (the model's own get_rope_index), the vision tower's output after
the merger for every image and video (shape, sha256, 64 evenly spaced values, the first 2 rows in
full), Qwen2.5-VL's window partition, the last-position logits (all) and top-20 ids, and 8 greedy
tokens (eos disabled) with the top-2 logit gap at every step (near-ties below 1e-4 are listed). The
images and video frames are deterministic PNGs under <out>/images/qwen/ (written once, checked on
later runs), so a Java test can feed the very same pixels.

Optional, for sparkmm's own checkpoint writer: every directory named qwen2_vl_ours_* (or
qwen2_5_vl_ours_*) inside engine/src/test/resources/checkpoints* is loaded by transformers (its
missing / unexpected / mismatched keys are recorded in "ours" and must be empty) and run on the
qwen2_vl_one_image (qwen2_5_vl_one_image) case, with its own processor when the directory has
tokenizer.json and a processor config, else with the tiny HF checkpoint's. No such directory: "ours"
is an empty list.

Output: <out>/<era>/qwen2_vl_tiny/, <out>/<era>/qwen2_5_vl_tiny/ and
<out>/<era>/qwen2vl_fixtures.json (era: tf4 or tf5, transformers' major version; <out> defaults to
engine/src/test/resources/hf). fixtures.json and versions.json of hf_fixtures.py are left alone; the
package versions are inside qwen2vl_fixtures.json. Keys are sorted and floats are the shortest
decimals of float32 values: a second run rewrites the same bytes.

Run from the repository root, once per era (the wheels come from this machine's local index):

    # transformers 5 (the venv of hf_fixtures.py; it already has torchvision):
    python3 -m venv /tmp/venv-tf5
    /tmp/venv-tf5/bin/pip install --no-deps -r engine/src/test/python/requirements-hf-fixtures-tf5.txt
    /tmp/venv-tf5/bin/python engine/src/test/python/qwen2vl_fixtures.py

    # transformers 4: the Qwen2-VL video processor of 4.57 needs torchvision, which
    # requirements-hf-fixtures-tf4.txt (torch 2.13 CPU) lacks and the index has no CPU build of;
    # so this era runs transformers 4.57.6 on torch 2.14.1 + torchvision 0.29.1:
    python3 -m venv /tmp/venv-tf4q
    /tmp/venv-tf4q/bin/pip install --no-deps -r engine/src/test/python/requirements-qwen2vl-fixtures-tf4.txt
    /tmp/venv-tf4q/bin/python engine/src/test/python/qwen2vl_fixtures.py

JSON layout (qwen2vl_fixtures.json, keys sorted):
  era, generator, versions {package: version}, vocab_size, special_tokens {token: id},
  chat_template, image_dir ("/hf/images/qwen"),
  constants {greedy_steps, near_tie, samples, top_k, attention, compute_dtype, init_std, min_pixels,
             max_pixels, video_fps},
  checkpoints {name: {resource, architecture, architectures_key_at, config (config.json as written),
               config_top_level_keys, files, bytes, tensors {name: [dtype, shape]}, tensor_prefixes,
               safetensors_metadata, loading_info, eos_token_ids, processor_class,
               image_processor_class, default_image_processor_class, image_backend,
               video_processor_class, video_backend, tokenizer_class}},
  config_defaults {Qwen2VLConfig|Qwen2_5_VLConfig: {image/video/vision_start/vision_end token ids,
               tie_word_embeddings, text_config {...}, vision_config {...}, mrope_section_if_absent}},
  processor_defaults {Qwen2VLImageProcessor: {...}, Qwen2VLVideoProcessor: {...}},
  cases [{name, checkpoint, messages, prompt_text, images [png], videos [{name, frames [png], fps}],
          processor_call {do_sample_frames, fps}, input_ids, mm_token_type_ids (tf5; null in tf4),
          image_grid_thw [[t,h,w]], video_grid_thw, second_per_grid_ts (Qwen2.5-VL videos, else null),
          pixel_values, pixel_values_videos (tensor records or null),
          pixel_values_torchvision_max_abs_diff (images: the default torchvision image processor
          against the Pillow one), position_ids [3][n], rope_delta,
          vision_features {images: [feature record], videos: [feature record]},
          window_attention (Qwen2.5-VL: {images|videos: {vit_merger_window_size, windows,
          cu_window_seqlens, window_index}}, else null), last_logits [vocab], top_ids, top_logits,
          greedy_ids, greedy_gaps, near_ties}],
  ours [the case fields + checkpoint, case, resource, architecture, loading_info, files,
        processor_from].
  A tensor record is {shape, sha256, sample_index, sample}; a feature record adds first_rows (rows
  0 and 1 in full). The features are per item: rows = t*h*w/4 merged tokens, columns 64.

What the two eras do differently (seen in these fixtures):
- get_rope_index: after an image or video, transformers 4 continues the text at (largest position
  of the item) + 1, transformers 5 at (item start) + max(h, w) / merge. They differ whenever the
  temporal positions outrun the spatial ones: the *_video_time_dominates cases (rope_delta -9 vs
  -10 and -31 vs -32); every other case has the same positions in both eras.
- Qwen2.5-VL second_per_grid_ts: transformers 4 takes temporal_patch_size / the `fps` passed to the
  processor call (2.0 when none), transformers 5 temporal_patch_size / the video metadata's sampled
  fps (24 when the metadata has no fps). Both are given 2 fps here, so both record 1.0.
- config.json: transformers 4 writes the text keys flat at the top level and again in text_config,
  and puts "architectures" only inside text_config (Qwen2VLConfig.__setattr__ redirects it);
  transformers 5 writes text_config / vision_config nested, "architectures" at the top, and
  rope_parameters instead of rope_theta + rope_scaling. Tensor names are the same in both eras
  (model.layers.*, model.embed_tokens, model.norm, visual.*, lm_head.*): transformers 5 maps its
  model.language_model.* / model.visual.* back on save.
- The pixel values (Pillow image path, torchvision video path) are bit-identical across eras.
"""
import argparse
import glob
import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hf_fixtures as hf  # noqa: E402  (also skips transformers 4's huggingface-hub pin check before importing it)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from PIL import Image  # noqa: E402
from safetensors import safe_open  # noqa: E402
from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers  # noqa: E402
from transformers import (  # noqa: E402
    AutoImageProcessor, AutoProcessor, GenerationConfig, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor,
    Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLImageProcessor, Qwen2VLProcessor, Qwen2VLVideoProcessor)

ERA = hf.ERA
TF5 = hf.TF5
RESOURCES = hf.RESOURCES
f32 = hf.f32

GREEDY_STEPS = 8
NEAR_TIE = 1e-4
TOP_K = 20
SAMPLES = 64
INIT_STD = 0.1

# ---------------------------------------------------------------------------------------------
# Tokenizer: a word vocabulary first (id 0 is <unk>), then Qwen's special tokens in Qwen's order.

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
            "<|image_pad|>", "<|video_pad|>"]
WORDS = ("<unk> system user assistant You are a helpful . , ? ! : What is in this picture image images video "
         "Compare these two Describe the detail Where does object move and Tell me short story about red fox "
         "happens frame frames left right up down top bottom small big green blue yellow circle square "
         "color shape moving of to it with on at there how many one three").split()
VOCAB = 128  # words, filler words w0, w1, ..., then the 7 specials
WORDS = WORDS + [f"w{i}" for i in range(VOCAB - len(SPECIALS) - len(WORDS))]
SPECIAL_IDS = {t: len(WORDS) + i for i, t in enumerate(SPECIALS)}
ENDOFTEXT, IM_START, IM_END = SPECIAL_IDS["<|endoftext|>"], SPECIAL_IDS["<|im_start|>"], SPECIAL_IDS["<|im_end|>"]
VISION_START, VISION_END = SPECIAL_IDS["<|vision_start|>"], SPECIAL_IDS["<|vision_end|>"]
IMAGE_PAD, VIDEO_PAD = SPECIAL_IDS["<|image_pad|>"], SPECIAL_IDS["<|video_pad|>"]

# Qwen's layout: a default system turn unless the conversation brings one; each turn is
# <|im_start|>role\n...<|im_end|>\n; an image item is <|vision_start|><|image_pad|><|vision_end|>,
# a video item the same with <|video_pad|>; text items are copied as they are.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}\n"
    "{%- if loop.first and message['role'] != 'system' -%}\n"
    "{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' -}}\n"
    "{%- endif -%}\n"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}\n"
    "{%- if message['content'] is string -%}\n"
    "{{- message['content'] -}}\n"
    "{%- else -%}\n"
    "{%- for item in message['content'] -%}\n"
    "{%- if item['type'] == 'image' -%}\n"
    "{{- '<|vision_start|><|image_pad|><|vision_end|>' -}}\n"
    "{%- elif item['type'] == 'video' -%}\n"
    "{{- '<|vision_start|><|video_pad|><|vision_end|>' -}}\n"
    "{%- elif item['type'] == 'text' -%}\n"
    "{{- item['text'] -}}\n"
    "{%- endif -%}\n"
    "{%- endfor -%}\n"
    "{%- endif -%}\n"
    "{{- '<|im_end|>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "{{- '<|im_start|>assistant\\n' -}}\n"
    "{%- endif -%}\n")

MIN_PIXELS, MAX_PIXELS = 56 * 56, 448 * 448
VIDEO_FPS = 2.0  # the frame rate the recorded frames stand for (passed as video metadata and fps)

# ---------------------------------------------------------------------------------------------
# Images and video frames (integer formulas, so the pixels are fixed).

IMAGE_DIR_NAME = os.path.join("images", "qwen")
# name: (width, height, pattern seed)
IMAGES = {
    "qwen-150x100.png": (150, 100, 1),  # 100x150 -> 112x140: 8x10 patches, 4x5 tokens
    "qwen-30x40.png": (30, 40, 2),      # below min_pixels: 28x28 -> upscaled to 84x56, 3x2 tokens
    "qwen-300x200.png": (300, 200, 3),  # 196x308: 14x22 patches, 7x11 tokens, 2x3 windows of 4x4 tokens
}
# name: (frames, width, height, pattern seed); the frames are <name>-f<i>.png. Frame sizes are ones
# smart_resize keeps (multiples of 28 inside the video pixel budget), so the video processor's resize
# is the identity in both its torchvision path and a Pillow one, and the pixel values a Java test
# computes from the same PNGs are the ones the model saw here.
VIDEOS = {
    "qwen-video-84x56x4": (4, 84, 56, 4),    # already 56x84 (smart_resize keeps it), grid (2, 4, 6): 12 tokens
    "qwen-video-112x84x4": (4, 112, 84, 5),  # kept at 84x112, grid (2, 6, 8): 24 tokens, 1 window per frame
    "qwen-video-56x56x6": (6, 56, 56, 6),    # grid (3, 4, 4): more temporal than spatial positions
    "qwen-video-112x84x6": (6, 112, 84, 7),  # grid (3, 6, 8) at 2 tokens/s: temporal positions lead
}


def pattern(w, h, seed, shift=0):
    y, x = np.mgrid[0:h, 0:w]
    xs = x - 3 * shift  # the content moves left to right from frame to frame
    r = (xs * 255 // max(w - 1, 1) + 37 * seed + 40 * ((xs // 5 + y // 4) % 2)) % 256
    g = (y * 255 // max(h - 1, 1) + 23 * seed + 13 * ((xs * y + seed) % 9)) % 256
    cx, cy, rad = (w // 3 + 4 * shift) % w, h // 2, max(min(w, h) // 4, 2)
    b = ((x - cx) ** 2 + (y - cy) ** 2 < rad ** 2) * 180 + (x + 3 * y + 11 * seed) % 60
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def ensure_png(path, pixels):
    if not os.path.exists(path):
        Image.fromarray(pixels, "RGB").save(path, optimize=False)
    with Image.open(path) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), pixels), f"{path} changed"


def ensure_media(image_dir):
    """Writes the PNGs once; returns ({image name: PIL image}, {video name: (frame names, uint8 T x H x W x 3)})."""
    os.makedirs(image_dir, exist_ok=True)
    images, videos = {}, {}
    for name, (w, h, seed) in IMAGES.items():
        path = os.path.join(image_dir, name)
        ensure_png(path, pattern(w, h, seed))
        with Image.open(path) as im:
            im.load()
            images[name] = im.convert("RGB")
    for name, (n, w, h, seed) in VIDEOS.items():
        frames, names = [], []
        for i in range(n):
            fname = f"{name}-f{i}.png"
            ensure_png(os.path.join(image_dir, fname), pattern(w, h, seed, shift=i))
            with Image.open(os.path.join(image_dir, fname)) as im:
                frames.append(np.asarray(im.convert("RGB")))
            names.append(fname)
        videos[name] = (names, np.stack(frames))
    return images, videos


# ---------------------------------------------------------------------------------------------
# Cases: (name, checkpoint, user content items); the video items name a VIDEOS entry.

def user(*items):
    return [{"role": "user", "content": list(items)}]


def img(name):
    return {"type": "image", "image": name}


def vid(name):
    return {"type": "video", "video": name}


def txt(text):
    return {"type": "text", "text": text}


CASES = [
    ("qwen2_vl_one_image", "qwen2_vl_tiny", user(img("qwen-150x100.png"), txt("What is in this picture?"))),
    ("qwen2_vl_two_images", "qwen2_vl_tiny",
     user(img("qwen-150x100.png"), img("qwen-30x40.png"), txt("Compare these two images."))),
    ("qwen2_vl_image_video", "qwen2_vl_tiny",
     user(img("qwen-30x40.png"), vid("qwen-video-84x56x4"), txt("What happens in the video?"))),
    ("qwen2_vl_text_only", "qwen2_vl_tiny", user(txt("Tell me a short story about a red fox."))),
    # Three temporal positions over a 2x2 token grid: transformers 4 continues the text after the
    # largest position of the video, transformers 5 after start + max(h, w) / merge (they differ here).
    ("qwen2_vl_video_time_dominates", "qwen2_vl_tiny", user(vid("qwen-video-56x56x6"), txt("Describe the video."))),
    ("qwen2_5_vl_one_image", "qwen2_5_vl_tiny", user(img("qwen-300x200.png"), txt("Describe the image in detail."))),
    ("qwen2_5_vl_image_video", "qwen2_5_vl_tiny",
     user(img("qwen-150x100.png"), vid("qwen-video-112x84x4"), txt("Where does the object move?"))),
    ("qwen2_5_vl_text_only", "qwen2_5_vl_tiny", user(txt("Tell me a short story about a red fox."))),
    ("qwen2_5_vl_video_time_dominates", "qwen2_5_vl_tiny",
     user(vid("qwen-video-112x84x6"), txt("Where does the object move?"))),
]


# ---------------------------------------------------------------------------------------------
# JSON: keys sorted, written by hf_fixtures' writer (objects indented, flat lists on one line).

def canonical(obj):
    if isinstance(obj, dict):
        return {str(k): canonical(obj[k]) for k in sorted(obj, key=str)}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    return obj


def write_json(path, obj):
    with open(path, "w") as f:
        f.write(hf.dumps(canonical(obj)) + "\n")


# ---------------------------------------------------------------------------------------------
# Tiny checkpoints

def make_tokenizer():
    vocab = {w: i for i, w in enumerate(WORDS)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIALS])
    assert tok.get_vocab_size() == VOCAB and all(tok.token_to_id(t) == i for t, i in SPECIAL_IDS.items())
    kw = dict(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token="<unk>")
    if TF5:
        # transformers 5's Qwen2Tokenizer rebuilds a byte-level BPE from vocab + merges when it
        # loads, so the generic tokenizers backend is what keeps this WordLevel model intact.
        return transformers.PreTrainedTokenizerFast(**kw)
    # transformers 4's Qwen2VLProcessor accepts only Qwen2Tokenizer(Fast).
    return transformers.Qwen2TokenizerFast(**kw)


def rope_kwargs():
    if TF5:
        return {"rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]}}
    return {"rope_theta": 10000.0, "rope_scaling": {"type": "mrope", "mrope_section": [2, 3, 3]}}


def text_kwargs(tied):
    kw = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, hidden_act="silu", max_position_embeddings=1024, rms_norm_eps=1e-6,
              initializer_range=INIT_STD, bos_token_id=ENDOFTEXT, eos_token_id=IM_END, pad_token_id=ENDOFTEXT,
              use_sliding_window=False, **rope_kwargs())
    if not TF5:
        kw["tie_word_embeddings"] = tied
    return kw


def token_kwargs():
    return dict(image_token_id=IMAGE_PAD, video_token_id=VIDEO_PAD, vision_start_token_id=VISION_START,
                vision_end_token_id=VISION_END)


def build_config(name):
    if name == "qwen2_vl_tiny":
        cls, tied = Qwen2VLConfig, False
        vision = dict(depth=2, embed_dim=32, num_heads=2, mlp_ratio=2, hidden_act="quick_gelu", hidden_size=64,
                      in_channels=3, patch_size=14, temporal_patch_size=2, spatial_merge_size=2,
                      initializer_range=INIT_STD)
    else:
        cls, tied = Qwen2_5_VLConfig, True
        vision = dict(depth=3, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                      hidden_act="silu", in_channels=3, patch_size=14, temporal_patch_size=2, spatial_merge_size=2,
                      window_size=112, fullatt_block_indexes=[1], tokens_per_second=2, initializer_range=INIT_STD)
    if TF5:  # nested text_config, the layout transformers 5 writes
        return cls(text_config=text_kwargs(tied), vision_config=vision, tie_word_embeddings=tied, **token_kwargs())
    return cls(vision_config=vision, **text_kwargs(tied), **token_kwargs())  # flat, as Qwen's own configs


def perturb(model, seed):
    """Norm weights around 1 and biases around 0 (transformers starts them at exactly 1 and 0)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            elif "norm" in name or "ln_q" in name:
                p.copy_(1 + torch.randn(p.shape, generator=g) * 0.1)


def make_processor(name, tokenizer):
    image_processor = Qwen2VLImageProcessor(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS, patch_size=14,
                                            temporal_patch_size=2, merge_size=2)
    video_processor = Qwen2VLVideoProcessor(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS, patch_size=14,
                                            temporal_patch_size=2, merge_size=2, fps=VIDEO_FPS, min_frames=2,
                                            max_frames=8)
    cls = Qwen2VLProcessor if name == "qwen2_vl_tiny" else Qwen2_5_VLProcessor
    return cls(image_processor=image_processor, tokenizer=tokenizer, video_processor=video_processor,
               chat_template=CHAT_TEMPLATE)


def build_checkpoints(era_dir):
    out = {}
    for seed, (name, model_cls) in enumerate([("qwen2_vl_tiny", Qwen2VLForConditionalGeneration),
                                              ("qwen2_5_vl_tiny", Qwen2_5_VLForConditionalGeneration)], start=201):
        path = os.path.join(era_dir, name)
        shutil.rmtree(path, ignore_errors=True)
        torch.manual_seed(seed)
        model = model_cls(build_config(name))
        perturb(model, seed)
        model.generation_config = GenerationConfig(bos_token_id=ENDOFTEXT, eos_token_id=IM_END,
                                                   pad_token_id=ENDOFTEXT)
        model.save_pretrained(path)
        make_processor(name, make_tokenizer()).save_pretrained(path)
        out[name] = (path, model_cls)
    return out


def checkpoint_facts(path):
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    with safe_open(os.path.join(path, "model.safetensors"), "pt") as st:
        tensors = {k: [str(st.get_slice(k).get_dtype()), list(st.get_slice(k).get_shape())] for k in st.keys()}
        metadata = st.metadata()
    files = sorted(os.listdir(path))
    size = sum(os.path.getsize(os.path.join(path, f)) for f in files)
    prefixes = sorted({".".join(k.split(".")[:2]) if k.startswith("model.") else k.split(".")[0] for k in tensors})
    # transformers 4.57 writes "architectures" inside text_config only (Qwen2VLConfig.__setattr__ sends
    # every key the text config also has there), so the top level may lack it.
    where = "top_level" if "architectures" in config else "text_config"
    archs = config.get("architectures") or config.get("text_config", {}).get("architectures")
    return {"files": files, "bytes": size, "architecture": archs[0], "architectures_key_at": where,
            "config_top_level_keys": sorted(config), "config": config, "tensor_prefixes": prefixes,
            "tensors": tensors, "safetensors_metadata": metadata}


# ---------------------------------------------------------------------------------------------
# Records

def sample_indices(n):
    return [round(i * (n - 1) / (SAMPLES - 1)) for i in range(SAMPLES)] if n > 1 else [0] * min(n, 1)


def tensor_record(t):
    a = np.ascontiguousarray(t.detach().to(torch.float32).numpy())
    flat = a.reshape(-1)
    idx = sample_indices(flat.size)
    return {"shape": list(a.shape), "sha256": hashlib.sha256(a.astype("<f4").tobytes()).hexdigest(),
            "sample_index": idx, "sample": [f32(flat[i]) for i in idx]}


def feature_record(t):
    rec = tensor_record(t)
    rec["first_rows"] = [[f32(v) for v in t[r].float()] for r in range(min(2, t.shape[0]))]
    return rec


def split_features(out):
    """get_image_features / get_video_features: transformers 4 returns the per-item tuple, 5 an
    output object whose pooler_output is that tuple."""
    return out.pooler_output if hasattr(out, "pooler_output") else out


def window_partition(model, grid):
    """Qwen2.5-VL's windows (of the merged-token grid) for one call of the vision tower."""
    v = model.config.vision_config
    if TF5:
        from transformers.vision_utils import get_vision_window_index
        window_index, cu = get_vision_window_index(grid, spatial_merge_size=v.spatial_merge_size,
                                                   window_size=v.window_size, patch_size=v.patch_size)
    else:
        window_index, cu = model.model.visual.get_window_index(grid)
        cu = torch.unique_consecutive(torch.tensor(cu, dtype=torch.int32))
    cu = [int(c) for c in cu]
    return {"vit_merger_window_size": v.window_size // v.spatial_merge_size // v.patch_size,
            "windows": len(cu) - 1, "cu_window_seqlens": cu, "window_index": [int(i) for i in window_index]}


def rope_index(model, inputs):
    kw = {"input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"],
          "image_grid_thw": inputs.get("image_grid_thw"), "video_grid_thw": inputs.get("video_grid_thw")}
    if isinstance(model, Qwen2_5_VLForConditionalGeneration):
        kw["second_per_grid_ts"] = inputs.get("second_per_grid_ts")
    if TF5:
        kw["mm_token_type_ids"] = inputs["mm_token_type_ids"]
    with torch.no_grad():
        positions, deltas = model.model.get_rope_index(**kw)
    return positions[:, 0, :].tolist(), int(deltas.reshape(-1)[0])


def forward_logits(model, inputs):
    model.model.rope_deltas = None  # the model caches it between calls
    with torch.no_grad():
        return model(**inputs).logits[0, -1].float()


def greedy(model, inputs):
    """Greedy tokens through generate (KV cache), the top-2 gap at each step, and the same tokens by
    full recompute without a cache (unless a near-tie lets the float order decide)."""
    model.model.rope_deltas = None
    config = GenerationConfig(max_new_tokens=GREEDY_STEPS, do_sample=False, num_beams=1, eos_token_id=None,
                              pad_token_id=ENDOFTEXT)
    with torch.no_grad():
        out = model.generate(**inputs, generation_config=config, return_dict_in_generate=True, output_logits=True)
    n = inputs["input_ids"].shape[1]
    ids = out.sequences[0, n:].tolist()
    assert len(ids) == GREEDY_STEPS, ids
    gaps = []
    for step in out.logits:
        top2 = torch.topk(step[0].float(), 2).values
        gaps.append(f32(top2[0] - top2[1]))
    step_inputs = dict(inputs)
    for k in range(GREEDY_STEPS):
        if IMAGE_PAD in ids[:k] or VIDEO_PAD in ids[:k]:
            break  # a generated pad token would ask for a feature the recompute does not have
        nxt = int(torch.argmax(forward_logits(model, step_inputs)))
        if nxt != ids[k]:
            assert gaps[k] < NEAR_TIE, f"cache and recompute disagree at step {k} with gap {gaps[k]}"
            break
        for key in ("input_ids", "attention_mask", "mm_token_type_ids"):
            if key in step_inputs:
                fill = nxt if key == "input_ids" else (1 if key == "attention_mask" else 0)
                t = step_inputs[key]
                step_inputs[key] = torch.cat([t, torch.full((1, 1), fill, dtype=t.dtype)], dim=1)
    return ids, gaps


MODEL_INPUTS = ("input_ids", "attention_mask", "mm_token_type_ids", "pixel_values", "image_grid_thw",
                "pixel_values_videos", "video_grid_thw", "second_per_grid_ts")


def run_case(name, model, processor, messages, images, videos):
    prompt = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    content = messages[0]["content"]
    case_images = [c["image"] for c in content if c["type"] == "image"]
    case_videos = [c["video"] for c in content if c["type"] == "video"]
    call = {"text": [prompt], "return_tensors": "pt"}
    if case_images:
        call["images"] = [images[i] for i in case_images]
    if case_videos:
        # Frames already sampled: no sampling, the stated frame rate as metadata (what transformers 5
        # derives second_per_grid_ts from) and as fps (what transformers 4 derives it from).
        call["videos"] = [videos[v][1] for v in case_videos]
        call["video_metadata"] = [{"fps": VIDEO_FPS, "total_num_frames": len(videos[v][0]),
                                   "frames_indices": list(range(len(videos[v][0])))} for v in case_videos]
        call["do_sample_frames"] = False
        call["fps"] = VIDEO_FPS
    batch = processor(**call)
    inputs = {k: batch[k] for k in MODEL_INPUTS if k in batch and batch[k] is not None}
    if "second_per_grid_ts" in inputs and not torch.is_tensor(inputs["second_per_grid_ts"]):
        inputs["second_per_grid_ts"] = torch.tensor(inputs["second_per_grid_ts"], dtype=torch.float32)

    rec = {"name": name, "messages": messages, "prompt_text": prompt, "images": case_images,
           "videos": [{"name": v, "frames": videos[v][0], "fps": VIDEO_FPS} for v in case_videos],
           "processor_call": {k: v for k, v in call.items() if k in ("do_sample_frames", "fps")},
           "input_ids": inputs["input_ids"][0].tolist(),
           "image_grid_thw": inputs["image_grid_thw"].tolist() if "image_grid_thw" in inputs else [],
           "video_grid_thw": inputs["video_grid_thw"].tolist() if "video_grid_thw" in inputs else [],
           "second_per_grid_ts": ([f32(v) for v in inputs["second_per_grid_ts"].reshape(-1)]
                                  if "second_per_grid_ts" in inputs else None),
           "mm_token_type_ids": inputs["mm_token_type_ids"][0].tolist() if "mm_token_type_ids" in inputs else None,
           "pixel_values": tensor_record(inputs["pixel_values"]) if "pixel_values" in inputs else None,
           "pixel_values_videos": (tensor_record(inputs["pixel_values_videos"])
                                   if "pixel_values_videos" in inputs else None)}
    tv = getattr(processor, "torchvision_image_processor", None)
    if tv is not None and "pixel_values" in inputs:
        pv_tv = tv(images=call["images"], return_tensors="pt")["pixel_values"]
        rec["pixel_values_torchvision_max_abs_diff"] = f32((pv_tv - inputs["pixel_values"]).abs().max())
    positions, delta = rope_index(model, inputs)
    rec["position_ids"] = positions
    rec["rope_delta"] = delta

    feats = {"images": [], "videos": []}
    windows = {}
    with torch.no_grad():
        if "pixel_values" in inputs:
            items = split_features(model.model.get_image_features(inputs["pixel_values"], inputs["image_grid_thw"]))
            feats["images"] = [feature_record(t) for t in items]
            if isinstance(model, Qwen2_5_VLForConditionalGeneration):
                windows["images"] = window_partition(model, inputs["image_grid_thw"])
        if "pixel_values_videos" in inputs:
            items = split_features(model.model.get_video_features(inputs["pixel_values_videos"],
                                                                  inputs["video_grid_thw"]))
            feats["videos"] = [feature_record(t) for t in items]
            if isinstance(model, Qwen2_5_VLForConditionalGeneration):
                windows["videos"] = window_partition(model, inputs["video_grid_thw"])
    rec["vision_features"] = feats
    rec["window_attention"] = windows or None

    logits = forward_logits(model, inputs)
    top = torch.topk(logits, TOP_K)
    rec["last_logits"] = [f32(v) for v in logits]
    rec["top_ids"] = top.indices.tolist()
    rec["top_logits"] = [f32(v) for v in top.values]
    ids, gaps = greedy(model, inputs)
    rec["greedy_ids"] = ids
    rec["greedy_gaps"] = gaps
    rec["near_ties"] = [k for k, g in enumerate(gaps) if g < NEAR_TIE]
    ties = f"  NEAR-TIES {rec['near_ties']}" if rec["near_ties"] else ""
    wins = {k: v["windows"] for k, v in windows.items()}
    print(f"  {name:34} n={len(rec['input_ids']):4} delta={delta:4} min gap {min(gaps):.2e}"
          + (f" windows {wins}" if wins else "") + ties)
    return rec


def load(path, model_cls):
    model, info = model_cls.from_pretrained(path, dtype=torch.float32, attn_implementation="eager",
                                            output_loading_info=True)
    model.eval()
    loading = {k: sorted(str(x) for x in v) for k, v in sorted(info.items())}
    return model, load_processor(path), loading


def load_processor(path):
    """The processor with the Pillow image backend. Neither era takes that choice through AutoProcessor
    here (transformers 5 forwards backend="pil" to the video processor too, which rejects it; 4's
    use_fast=False also asks for the slow Qwen2Tokenizer, which needs vocab.json + merges.txt), so the
    image processor is loaded on its own and put in place of the default (torchvision) one."""
    processor = AutoProcessor.from_pretrained(path)
    processor.torchvision_image_processor = processor.image_processor
    if TF5:
        processor.image_processor = AutoImageProcessor.from_pretrained(path, backend="pil")
    else:
        processor.image_processor = AutoImageProcessor.from_pretrained(path, use_fast=False)
    return processor


def processor_facts(processor):
    ip, vp = processor.image_processor, processor.video_processor
    return {"processor_class": type(processor).__name__, "image_processor_class": type(ip).__name__,
            "image_backend": "pil",
            "default_image_processor_class": type(getattr(processor, "torchvision_image_processor", ip)).__name__,
            "video_processor_class": type(vp).__name__, "video_backend": "torchvision",
            "tokenizer_class": type(processor.tokenizer).__name__}


# ---------------------------------------------------------------------------------------------
# Defaults: what a config.json or preprocessor config that leaves a key out means.

def jsonable(v):
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if type(v).__name__ == "SizeDict":  # transformers 5's size object: its set fields
        return {k: x for k, x in sorted(vars(v).items()) if x is not None}
    return str(v)


TEXT_KEYS = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
             "num_key_value_heads", "hidden_act", "max_position_embeddings", "rms_norm_eps", "rope_theta",
             "rope_scaling", "rope_parameters", "tie_word_embeddings", "bos_token_id", "eos_token_id",
             "pad_token_id", "use_sliding_window", "sliding_window", "max_window_layers", "attention_dropout",
             "head_dim")
VISION_KEYS = ("model_type", "depth", "embed_dim", "hidden_size", "intermediate_size", "out_hidden_size", "hidden_act",
               "mlp_ratio", "num_heads", "in_channels", "patch_size", "spatial_merge_size", "temporal_patch_size",
               "window_size", "fullatt_block_indexes", "tokens_per_second", "rope_parameters", "initializer_range")


def config_defaults():
    out = {}
    for cls in (Qwen2VLConfig, Qwen2_5_VLConfig):
        c = cls()
        text = c.text_config
        vision = {k: getattr(c.vision_config, k) for k in VISION_KEYS if hasattr(c.vision_config, k)}
        out[cls.__name__] = {
            **{k: getattr(c, k) for k in ("image_token_id", "video_token_id", "vision_start_token_id",
                                          "vision_end_token_id")},
            "tie_word_embeddings": c.tie_word_embeddings,
            "text_config": {k: jsonable(getattr(text, k, None)) for k in TEXT_KEYS if hasattr(text, k)},
            "vision_config": jsonable(vision),
            # The text rotary embedding's own fallback when the config has no mrope_section.
            "mrope_section_if_absent": [16, 24, 24] if TF5 else "required (rope_scaling['mrope_section'])",
        }
    return out


def processor_defaults():
    """Called before any processor is built: transformers 4.57's Qwen2VLVideoProcessor(min_pixels=...,
    max_pixels=...) writes them into the class-level `size` dict, changing later instances' defaults."""
    ip = Qwen2VLImageProcessor()
    vp = Qwen2VLVideoProcessor()
    keys = ("size", "min_pixels", "max_pixels", "patch_size", "temporal_patch_size", "merge_size", "image_mean",
            "image_std", "resample", "rescale_factor", "do_resize", "do_rescale", "do_normalize", "do_convert_rgb")
    vkeys = keys + ("fps", "num_frames", "min_frames", "max_frames", "do_sample_frames")
    return {"Qwen2VLImageProcessor": {k: jsonable(getattr(ip, k)) for k in keys if hasattr(ip, k)},
            "Qwen2VLVideoProcessor": {k: jsonable(getattr(vp, k)) for k in vkeys if hasattr(vp, k)}}


def versions():
    v = hf.versions()
    for pkg in ("jinja2",):
        try:
            v[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            v[pkg] = None
    return v


# ---------------------------------------------------------------------------------------------
# Optional: sparkmm's own Qwen2-VL checkpoints (checkpoints/qwen2_vl_ours_*), when they exist.

OURS_PREFIXES = {"qwen2_vl_ours_": ("qwen2_vl_one_image", "qwen2_vl_tiny"),
                 "qwen2_5_vl_ours_": ("qwen2_5_vl_one_image", "qwen2_5_vl_tiny")}


def ours_records(ours_roots, era_dir, images, videos):
    """Every <root>/qwen2_vl_ours_* (and qwen2_5_vl_ours_*) directory, run on that family's one-image
    case; nothing when there are none."""
    recs = []
    found = sorted((name, os.path.join(root, name)) for root in ours_roots if os.path.isdir(root)
                   for name in os.listdir(root))
    for name, path in found:
        prefix = next((p for p in OURS_PREFIXES if name.startswith(p)), None)
        if prefix is None or not os.path.isdir(path):
            continue
        case, hf_name = OURS_PREFIXES[prefix]
        messages = dict((n, m) for n, _, m in CASES)[case]
        hf_processor_dir = os.path.join(era_dir, hf_name)
        with open(os.path.join(path, "config.json")) as f:
            config = json.load(f)
        arch = (config.get("architectures") or config.get("text_config", {}).get("architectures"))[0]
        if ERA == "tf4" and "rope_parameters" in config.get("text_config", {}):
            # A transformers-5 config (nested, rope settings in rope_parameters): 4.57 does not read
            # rope_parameters, so it cannot run this file; recorded as such, never silently left out.
            recs.append({"checkpoint": name, "resource": "/" + os.path.relpath(path, RESOURCES).replace(os.sep, "/"),
                         "architecture": arch, "skipped": "transformers 4.57 reads no text_config.rope_parameters"
                         " (this is the transformers 5 layout)"})
            continue
        model_cls = Qwen2_5_VLForConditionalGeneration if arch.startswith("Qwen2_5") else Qwen2VLForConditionalGeneration
        model, info = model_cls.from_pretrained(path, dtype=torch.float32, attn_implementation="eager",
                                                output_loading_info=True)
        model.eval()
        loading = {k: sorted(str(x) for x in v) for k, v in sorted(info.items())}
        # Their own processor when the directory has one, else the HF tiny checkpoint's.
        source = path if os.path.exists(os.path.join(path, "tokenizer.json")) and any(
            os.path.exists(os.path.join(path, f)) for f in ("preprocessor_config.json", "processor_config.json")) \
            else hf_processor_dir
        processor = load_processor(source)
        rec = run_case(f"{name}:{case}", model, processor, messages, images, videos)
        rec.update({"checkpoint": name, "case": case, "resource": "/" + os.path.relpath(path, RESOURCES).replace(os.sep, "/"),
                    "architecture": arch, "loading_info": loading, "files": sorted(os.listdir(path)),
                    "processor_from": "/" + os.path.relpath(source, RESOURCES).replace(os.sep, "/")})
        recs.append(rec)
    return recs


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(RESOURCES, "hf"), help="root of the fixtures (default: %(default)s)")
    ap.add_argument("--ours", nargs="*", default=sorted(glob.glob(os.path.join(RESOURCES, "checkpoints*"))),
                    help="folders that may hold our writer's qwen2_vl_ours_* / qwen2_5_vl_ours_* checkpoints "
                         "(default: %(default)s)")
    args = ap.parse_args()
    started = time.time()
    torch.manual_seed(0)
    torch.set_num_threads(1)  # one summation order, so a rerun writes the same bytes
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    defaults = {"config_defaults": config_defaults(), "processor_defaults": processor_defaults()}
    images, videos = ensure_media(os.path.join(args.out, IMAGE_DIR_NAME))
    era_dir = os.path.join(args.out, ERA)
    os.makedirs(era_dir, exist_ok=True)
    print(f"transformers {transformers.__version__} ({ERA}), torch {torch.__version__} -> {era_dir}")

    checkpoints, loaded = {}, {}
    for name, (path, model_cls) in build_checkpoints(era_dir).items():
        model, processor, loading = load(path, model_cls)
        facts = checkpoint_facts(path)
        facts.update(processor_facts(processor))
        facts["resource"] = f"/hf/{ERA}/{name}"
        facts["loading_info"] = loading
        eos = model.generation_config.eos_token_id
        facts["eos_token_ids"] = sorted([eos] if isinstance(eos, int) else eos or [])
        checkpoints[name] = facts
        loaded[name] = (model, processor)
        print(f"  {name}: {facts['bytes']} bytes, {len(facts['tensors'])} tensors, {facts['tensor_prefixes']}")

    cases = [dict(run_case(name, *loaded[ckpt], messages, images, videos), checkpoint=ckpt)
             for name, ckpt, messages in CASES]
    ours = ours_records(args.ours, era_dir, images, videos)

    write_json(os.path.join(era_dir, "qwen2vl_fixtures.json"), {
        "era": ERA, "generator": "engine/src/test/python/qwen2vl_fixtures.py", "versions": versions(),
        "constants": {"greedy_steps": GREEDY_STEPS, "near_tie": NEAR_TIE, "samples": SAMPLES, "top_k": TOP_K,
                      "attention": "eager", "compute_dtype": "float32", "init_std": INIT_STD,
                      "min_pixels": MIN_PIXELS, "max_pixels": MAX_PIXELS, "video_fps": VIDEO_FPS},
        "special_tokens": SPECIAL_IDS, "vocab_size": VOCAB, "chat_template": CHAT_TEMPLATE,
        "image_dir": "/hf/" + IMAGE_DIR_NAME.replace(os.sep, "/"),
        "checkpoints": checkpoints, **defaults, "cases": cases, "ours": ours})
    print(f"done in {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
