#!/usr/bin/env python3
"""Hugging Face transformers as the oracle of sparkmm's LLaVA-OneVision family (images).

It builds one tiny LlavaOnevisionForConditionalGeneration with transformers' own classes from a fixed
seed and writes it with `save_pretrained` (transformers 5 layout, F32) together with its processor:
- text: Qwen2, hidden 64, 2 layers, 4 heads, 2 kv heads, intermediate 128, untied lm_head;
- vision: SigLIP, hidden 32, intermediate 64, 2 layers, 2 heads, image 28 / patch 14 (2 x 2 features
  a tile), vision_feature_layer -1, strategy "full";
- AnyRes on 28-pixel tiles over PINPOINTS with anyres_max_2, so bigger grids are shrunk bilinearly;
- a word-level tokenizer with <image> as a special token and a Qwen-style chat template (below).
Weights start at std 0.1 and norm weights / biases / image_newline are perturbed so every path counts.

Then it reloads the directory as a user would (AutoProcessor with the Pillow image backend, the model
with eager attention, F32) and runs each case: one image and a question through the chat template,
the processor's expansion (and once a plain prompt "<image> question" without the template), the pixel values (sha256 of the float32 bytes), the last-position logits (all) and 8 greedy tokens (eos off, top-2 gaps).
The images are deterministic PNGs written under <out>/images/ (also checked on later runs).

Output: engine/src/test/resources/llava_onevision/ (tiny/ and fixtures.json). Run from the repository
root in the venv of requirements-hf-fixtures-tf5.txt:

    /tmp/venv-tf5/bin/python engine/src/test/python/llava_onevision_fixtures.py
"""
import hashlib
import json
import os
import shutil
import sys

import numpy as np
import torch
import transformers
from PIL import Image
from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers
from transformers import (AutoImageProcessor, AutoProcessor, GenerationConfig, LlavaOnevisionConfig,
                          LlavaOnevisionForConditionalGeneration, LlavaOnevisionProcessor)
from transformers.models.llava_onevision.image_processing_pil_llava_onevision import (
    LlavaOnevisionImageProcessorPil)
from transformers.models.llava_onevision.video_processing_llava_onevision import LlavaOnevisionVideoProcessor

OUT = sys.argv[1] if len(sys.argv) > 1 else "engine/src/test/resources/llava_onevision"
torch.set_num_threads(1)

WORDS = ("<unk> user assistant system you are a helpful . , ? what is in this image picture describe the "
         "colour shape left right top bottom big small").split()
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]
VOCAB = 96
WORDS = WORDS + [f"w{i}" for i in range(VOCAB - len(SPECIALS) - len(WORDS))]
IDS = {t: len(WORDS) + i for i, t in enumerate(SPECIALS)}
TILE = 28
PINPOINTS = [[28, 28], [28, 56], [56, 28], [56, 56], [28, 84], [84, 28], [84, 84], [28, 112], [112, 28]]
ASPECT = "anyres_max_2"
GREEDY_STEPS = 8
INIT_STD = 0.1

CHAT_TEMPLATE = (
    "{%- for message in messages -%}\n"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}\n"
    "{%- if message['content'] is string -%}{{- message['content'] -}}{%- else -%}\n"
    "{%- for item in message['content'] -%}\n"
    "{%- if item['type'] == 'image' -%}{{- '<image>\\n' -}}\n"
    "{%- elif item['type'] == 'text' -%}{{- item['text'] -}}{%- endif -%}\n"
    "{%- endfor -%}{%- endif -%}\n"
    "{{- '<|im_end|>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}\n")

# name: (width, height, seed); sizes chosen for one tile, a 2 x 2 canvas shrunk by anyres_max_2,
# and the two extreme aspect ratios (1 x 4 canvases, cropped hard by the unpadding)
IMAGES = {"ov-40x30.png": (40, 30, 1), "ov-26x26.png": (26, 26, 2), "ov-150x12.png": (150, 12, 3),
          "ov-9x100.png": (9, 100, 4)}
QUESTION = "what is in this image ?"


def f32(v):
    return float(np.format_float_positional(np.float32(v), unique=True))


def pattern(w, h, seed):
    y, x = np.mgrid[0:h, 0:w]
    r = (x * 255 // max(w - 1, 1) + 37 * seed + 40 * ((x // 5 + y // 4) % 2)) % 256
    g = (y * 255 // max(h - 1, 1) + 71 * seed) % 256
    b = ((x * 7 + y * 13) * (seed + 1)) % 256
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def ensure_images():
    os.makedirs(os.path.join(OUT, "images"), exist_ok=True)
    for name, (w, h, seed) in IMAGES.items():
        path = os.path.join(OUT, "images", name)
        px = pattern(w, h, seed)
        if os.path.exists(path):
            assert (np.asarray(Image.open(path).convert("RGB")) == px).all(), path
        else:
            Image.fromarray(px).save(path)


def make_tokenizer():
    tok = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIALS])
    assert all(tok.token_to_id(t) == i for t, i in IDS.items())
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>",
                                                pad_token="<|endoftext|>", unk_token="<unk>",
                                                extra_special_tokens={"image_token": "<image>",
                                                                      "video_token": "<video>"})


def build(path):
    text = dict(model_type="qwen2", vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, hidden_act="silu", max_position_embeddings=1024,
                rms_norm_eps=1e-6, initializer_range=INIT_STD, bos_token_id=IDS["<|endoftext|>"],
                eos_token_id=IDS["<|im_end|>"], pad_token_id=IDS["<|endoftext|>"], use_sliding_window=False,
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    vision = dict(model_type="siglip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=2, image_size=TILE, patch_size=14, hidden_act="gelu_pytorch_tanh",
                  layer_norm_eps=1e-6)
    config = LlavaOnevisionConfig(text_config=text, vision_config=vision, image_token_index=IDS["<image>"],
                                  video_token_index=IDS["<video>"], image_grid_pinpoints=PINPOINTS,
                                  vision_aspect_ratio=ASPECT, vision_feature_layer=-1,
                                  vision_feature_select_strategy="full", tie_word_embeddings=False,
                                  initializer_range=INIT_STD)
    torch.manual_seed(301)
    model = LlavaOnevisionForConditionalGeneration(config)
    g = torch.Generator().manual_seed(302)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            elif "norm" in name:
                p.copy_(1 + torch.randn(p.shape, generator=g) * 0.1)
            elif "image_newline" in name:
                p.copy_(torch.randn(p.shape, generator=g))
    model.generation_config = GenerationConfig(bos_token_id=IDS["<|endoftext|>"], eos_token_id=IDS["<|im_end|>"],
                                               pad_token_id=IDS["<|endoftext|>"])
    shutil.rmtree(path, ignore_errors=True)
    model.save_pretrained(path)
    image_processor = LlavaOnevisionImageProcessorPil(size={"height": TILE, "width": TILE},
                                                      image_grid_pinpoints=PINPOINTS)
    # the processor requires a video processor; sparkmm does not take LLaVA-OneVision videos yet
    video_processor = LlavaOnevisionVideoProcessor(size={"height": TILE, "width": TILE})
    processor = LlavaOnevisionProcessor(image_processor=image_processor, tokenizer=make_tokenizer(),
                                        video_processor=video_processor,
                                        num_image_tokens=(TILE // 14) ** 2, vision_feature_select_strategy="full",
                                        chat_template=CHAT_TEMPLATE, vision_aspect_ratio=ASPECT)
    processor.save_pretrained(path)


def run_case(model, processor, image_name, chat):
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": QUESTION}]}]
    # chat: the checkpoint's template renders the prompt; else the user's own text with its <image>
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True) if chat else "<image> " + QUESTION
    image = Image.open(os.path.join(OUT, "images", image_name)).convert("RGB")
    inputs = processor(images=[image], text=[prompt], return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits[0, -1].float()
        config = GenerationConfig(max_new_tokens=GREEDY_STEPS, do_sample=False, num_beams=1, eos_token_id=None,
                                  pad_token_id=IDS["<|endoftext|>"])
        out = model.generate(**inputs, generation_config=config, return_dict_in_generate=True, output_logits=True)
    n = inputs["input_ids"].shape[1]
    gaps = [f32(torch.topk(s[0].float(), 2).values.diff().abs()[0]) for s in out.logits]
    ids = inputs["input_ids"][0].tolist()
    pixels = inputs["pixel_values"][0].contiguous().numpy().astype("<f4").tobytes()
    return {"name": image_name + (" chat" if chat else " plain"), "chat": chat, "question": QUESTION,
            "prompt_text": prompt, "image": image_name, "pixel_sha256": hashlib.sha256(pixels).hexdigest(),
            "image_sizes": inputs["image_sizes"][0].tolist(), "num_patches": int(inputs["pixel_values"].shape[1]),
            "image_tokens": ids.count(IDS["<image>"]), "input_ids": ids,
            "last_logits": [f32(v) for v in logits.tolist()], "greedy_ids": out.sequences[0, n:].tolist(),
            "greedy_gaps": gaps}


def main():
    ensure_images()
    path = os.path.join(OUT, "tiny")
    build(path)
    model, info = LlavaOnevisionForConditionalGeneration.from_pretrained(
        path, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    model.eval()
    processor = AutoProcessor.from_pretrained(path)
    processor.image_processor = AutoImageProcessor.from_pretrained(path, backend="pil")
    doc = {"generator": "engine/src/test/python/llava_onevision_fixtures.py",
           "versions": {"transformers": transformers.__version__, "torch": torch.__version__},
           "loading_info": {k: sorted(str(x) for x in v) for k, v in sorted(info.items())},
           "image_processor_class": type(processor.image_processor).__name__,
           "special_tokens": IDS, "cases": [run_case(model, processor, name, True) for name in IMAGES]
           + [run_case(model, processor, "ov-40x30.png", False)]}
    with open(os.path.join(OUT, "fixtures.json"), "w") as f:
        json.dump(doc, f, sort_keys=True, indent=None)
        f.write("\n")
    for c in doc["cases"]:
        print(c["name"], c["image_sizes"], c["num_patches"], c["image_tokens"], c["greedy_ids"], min(c["greedy_gaps"]))
    print(doc["loading_info"])


if __name__ == "__main__":
    main()
