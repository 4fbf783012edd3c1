#!/usr/bin/env python3
"""Hugging Face transformers as the oracle of sparkmm's model math and processors.

For every architecture sparkmm runs (LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM,
LlavaForConditionalGeneration with a CLIP tower and a Llama decoder) this builds a tiny random
config, instantiates transformers' own model class from a fixed seed, and writes it with
`save_pretrained` (safetensors, F32; one Llama in BF16), together with a tiny word-level
tokenizer and, for LLaVA, the processor (CLIPImageProcessor + LlavaProcessor with a chat
template), all through transformers' own classes, so each transformers era writes its own file
layout. It then reloads each directory the way a user would, runs transformers' processor on the
committed test images, the model's forward and greedy `generate`, and records:

- the input ids after the processor's placeholder expansion, and the pixel values (shape, sha256
  of the float32 bytes, 32 evenly spaced values) of the Pillow backend, and in transformers 5 of
  the default torchvision backend too;
- the last-position logits (all of them, and the top 20 ids);
- the 8 greedy tokens (eos disabled), the gap between the top two logits at every step, and the
  steps where that gap is below 1e-4 (near-ties, where any other float order may pick the other);
- for LLaVA, rows of the projected image features;
- each config class's defaults (what a config.json that leaves a key out means).

The same is recorded for the checkpoints our Java writers made (src/test/resources/checkpoints*),
which transformers must load with no missing, unexpected or mismatched keys: the lists are in the
fixtures and a Java test asserts they are empty.

Output: <out>/<era>/<name>/ (the checkpoints), <out>/<era>/fixtures.json and versions.json, where
era is tf4 or tf5 (transformers' major version); the images are <out>/images/*.png. Everything is
deterministic: a second run rewrites the same bytes.

Run (from the repository root; the wheels come from this machine's local index):
    python3 -m venv /tmp/venv-tf5
    /tmp/venv-tf5/bin/pip install --no-deps -r engine/src/test/python/requirements-hf-fixtures-tf5.txt
    /tmp/venv-tf5/bin/python engine/src/test/python/hf_fixtures.py
    python3 -m venv /tmp/venv-tf4
    /tmp/venv-tf4/bin/pip install --no-deps -r engine/src/test/python/requirements-hf-fixtures-tf4.txt
    /tmp/venv-tf4/bin/python engine/src/test/python/hf_fixtures.py
"""
import argparse
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import sys
import time
import types


def _tolerate_tf4_hub_pin():
    """transformers 4.57 refuses, at import, any huggingface-hub but <1.0, and this machine's index
    only has 1.x. Nothing here touches the Hub (every path is a local directory), so its import-time
    version check is skipped for that era; versions.json records what actually ran."""
    if importlib.metadata.version("transformers").startswith("4."):
        stub = types.ModuleType("transformers.dependency_versions_check")
        stub.dep_version_check = lambda pkg, hint=None: None
        sys.modules[stub.__name__] = stub


_tolerate_tf4_hub_pin()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from PIL import Image  # noqa: E402
from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers, processors  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForCausalLM, AutoProcessor, CLIPImageProcessor, CLIPVisionConfig, GenerationConfig, LlamaConfig,
    LlamaForCausalLM, LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor, MistralConfig,
    MistralForCausalLM, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM)

ERA = "tf" + transformers.__version__.split(".")[0]
TF5 = ERA == "tf5"
HERE = os.path.dirname(os.path.abspath(__file__))
RESOURCES = os.path.normpath(os.path.join(HERE, "..", "resources"))

GREEDY_STEPS = 8
NEAR_TIE = 1e-4
TOP_K = 20
SAMPLES = 32
INIT_STD = 0.1  # transformers' 0.02 gives logits so flat that every step is a near-tie

SPECIALS = ["<unk>", "<s>", "</s>", "<pad>"]
BOS, EOS, PAD = 1, 2, 3
WORDS = ("the a an cat dog sat on mat quick brown fox jumps over lazy what is in this picture image describe "
         "? . , USER: ASSISTANT: and of to red green blue yellow small big left right shape color circle "
         "square star triangle background black white gray compare these two how many are there").split()
TEXT_VOCAB = 200  # specials, words, then filler words w0, w1, ...
IMAGE_TOKEN = "<image>"
LLAVA_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'user' %}{{ 'USER: ' }}{% else %}{{ 'ASSISTANT: ' }}"
    "{% endif %}{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for item in message['content'] %}{% if item['type'] == 'image' %}{{ '<image>\n' }}"
    "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ ' ' }}{% else %}{{ eos_token }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}")

# (name, width, height): landscape downscale, portrait upscale with odd sides, square at crop size.
IMAGES = [("landscape-48x36.png", 48, 36), ("portrait-21x40.png", 21, 40), ("square-32x32.png", 32, 32)]

TEXT_PROMPTS = [
    {"ids": [BOS, 5, 17, 42]},
    {"text": "the quick brown fox jumps over the lazy dog"},
    {"ids": [BOS] + list(range(20, 59))},
]
LLAVA_PROMPTS = [
    {"text": "USER: <image>\nwhat is in this picture ? ASSISTANT:", "images": [0]},
    {"text": "USER: <image> <image> compare these two ASSISTANT:", "images": [1, 2]},
]
# The prompts the retired decoder_oracle.py ran on our writers' text checkpoints.
OUR_TEXT_PROMPTS = [{"ids": [1]}, {"ids": [5, 17, 42]},
                    {"ids": [100, 3, 3, 3, 250, 7, 61, 12, 200, 9, 31, 77, 4]}, {"ids": list(range(20, 60))}]
OUR_LLAVA_PROMPTS = [
    {"text": "USER: <image>\nWhat is in the picture? ASSISTANT:", "images": [0]},
    {"text": "<image> and <image>: which one is larger?", "images": [1, 2]},
]


# ---------------------------------------------------------------------------------------------
# Small JSON writer: objects indented, lists of numbers or strings on one line (readable diffs).

def f32(v):
    """The shortest decimal that reads back as this float32."""
    return float(np.format_float_positional(np.float32(v), unique=True))


def dumps(obj, indent=0):
    pad = " " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad} {json.dumps(k)}: {dumps(v, indent + 1)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        return "[\n" + ",\n".join(f"{pad} {dumps(v, indent + 1)}" for v in obj) + "\n" + pad + "]"
    return json.dumps(obj, separators=(",", ":")) if isinstance(obj, list) else json.dumps(obj)


def write_json(path, obj):
    with open(path, "w") as f:
        f.write(dumps(obj) + "\n")


# ---------------------------------------------------------------------------------------------
# Inputs: images and tokenizer

def ensure_images(image_dir):
    """Creates the test images once (integer formulas, so the pixels are fixed); later runs check them."""
    os.makedirs(image_dir, exist_ok=True)
    for name, w, h in IMAGES:
        y, x = np.mgrid[0:h, 0:w]
        r = (x * 255 // max(w - 1, 1) + 40 * ((x // 3 + y // 3) % 2)) % 256
        g = (y * 255 // max(h - 1, 1) + 17 * ((x * y) % 7)) % 256
        b = ((x - w // 2) ** 2 + (y - h // 2) ** 2 < (min(w, h) // 3) ** 2) * 200 + (x + 2 * y) % 50
        pixels = np.stack([r, g, b], axis=-1).astype(np.uint8)
        path = os.path.join(image_dir, name)
        if not os.path.exists(path):
            Image.fromarray(pixels, "RGB").save(path, optimize=False)
        with Image.open(path) as im:
            assert np.array_equal(np.asarray(im.convert("RGB")), pixels), f"{path} changed"


def load_images(image_dir):
    out = []
    for name, _, _ in IMAGES:
        with Image.open(os.path.join(image_dir, name)) as im:
            im.load()
            out.append(im.copy())
    return out


def make_tokenizer(with_image):
    vocab = SPECIALS + WORDS
    vocab += [f"w{i}" for i in range(TEXT_VOCAB - len(vocab))]
    tok = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(vocab)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIALS])
    if with_image:
        tok.add_special_tokens([AddedToken(IMAGE_TOKEN, special=True, normalized=False)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", BOS)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>")


# ---------------------------------------------------------------------------------------------
# Tiny configs and models

def rope(theta, scaling=None):
    """Rope keys as each era writes them: transformers 5 folds theta and scaling into rope_parameters."""
    if TF5:
        params = {"rope_type": "default", "rope_theta": theta}
        params.update(scaling or {})
        return {"rope_parameters": params}
    return {"rope_theta": theta, "rope_scaling": scaling}


def text_kwargs(vocab, **extra):
    kw = dict(vocab_size=vocab, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
              max_position_embeddings=128, bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD,
              initializer_range=INIT_STD)
    kw.update(extra)
    return kw


def text_specs():
    """Each covers a different path: GQA + llama3 rope + eps 1e-5; biases + linear rope in BF16;
    tied head + Qwen2's q/k/v biases; MQA with head_dim != hidden / heads."""
    llama3 = {"rope_type": "llama3", "factor": 4.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
              "original_max_position_embeddings": 32}
    return [
        ("llama-gqa-llama3rope-f32", LlamaConfig, LlamaForCausalLM, torch.float32, 101,
         text_kwargs(TEXT_VOCAB, num_key_value_heads=2, rms_norm_eps=1e-5, **rope(10000.0, llama3))),
        ("llama-bias-linearrope-bf16", LlamaConfig, LlamaForCausalLM, torch.bfloat16, 102,
         text_kwargs(TEXT_VOCAB, num_key_value_heads=4, attention_bias=True, mlp_bias=True,
                     **rope(10000.0, {"rope_type": "linear", "factor": 2.0}))),
        ("qwen2-tied-f32", Qwen2Config, Qwen2ForCausalLM, torch.float32, 103,
         text_kwargs(TEXT_VOCAB, num_key_value_heads=2, tie_word_embeddings=True, **rope(1000000.0))),
        ("mistral-mqa-headdim-f32", MistralConfig, MistralForCausalLM, torch.float32, 104,
         text_kwargs(TEXT_VOCAB, num_key_value_heads=1, head_dim=24, **rope(10000.0))),
    ]


def llava_config():
    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                              image_size=32, patch_size=8, projection_dim=32, hidden_act="quick_gelu",
                              initializer_range=INIT_STD)
    text = LlamaConfig(**text_kwargs(TEXT_VOCAB + 1, num_key_value_heads=2, **rope(10000.0)))
    return LlavaConfig(vision_config=vision, text_config=text, image_token_index=TEXT_VOCAB,
                       vision_feature_layer=-2, vision_feature_select_strategy="default",
                       projector_hidden_act="gelu", image_seq_length=16)


def perturb(model, seed):
    """transformers starts norms at 1 and biases at 0, which would leave those paths untested."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            elif "norm" in name:  # RMSNorm, LayerNorm, CLIP's pre_layrnorm
                p.copy_(1 + torch.randn(p.shape, generator=g) * 0.1)


def save_model(model, out, dtype):
    if dtype != torch.float32:
        model = model.to(dtype)
    model.save_pretrained(out)


def build_hf_checkpoints(era_dir):
    """Writes every HF checkpoint of this era; returns [(name, dir, kind)]."""
    made = []
    for name, config_cls, model_cls, dtype, seed, kw in text_specs():
        out = os.path.join(era_dir, name)
        shutil.rmtree(out, ignore_errors=True)
        torch.manual_seed(seed)
        model = model_cls(config_cls(**kw))
        perturb(model, seed)
        save_model(model, out, dtype)
        make_tokenizer(False).save_pretrained(out)
        made.append((name, out, "text"))

    name = "llava-clip-llama-f32"
    out = os.path.join(era_dir, name)
    shutil.rmtree(out, ignore_errors=True)
    config = llava_config()
    torch.manual_seed(105)
    model = LlavaForConditionalGeneration(config)
    perturb(model, 105)
    save_model(model, out, torch.float32)
    side = config.vision_config.image_size
    image_processor = CLIPImageProcessor(size={"shortest_edge": side}, crop_size={"height": side, "width": side})
    # num_additional_image_tokens=1 (the class token) as llava-hf's checkpoints say: transformers 5's default
    # of 0 would expand <image> to one placeholder fewer than the features its own model produces.
    LlavaProcessor(image_processor=image_processor, tokenizer=make_tokenizer(True),
                   patch_size=config.vision_config.patch_size, vision_feature_select_strategy="default",
                   num_additional_image_tokens=1, chat_template=LLAVA_CHAT_TEMPLATE).save_pretrained(out)
    made.append((name, out, "llava"))
    return made


# ---------------------------------------------------------------------------------------------
# Oracle records

def tensor_record(t):
    a = np.ascontiguousarray(t.detach().to(torch.float32).numpy())
    flat = a.reshape(-1)
    idx = [round(i * (flat.size - 1) / (SAMPLES - 1)) for i in range(SAMPLES)]
    return {"shape": list(a.shape), "sha256": hashlib.sha256(a.astype("<f4").tobytes()).hexdigest(),
            "sample_index": idx, "sample": [f32(flat[i]) for i in idx]}


def greedy(model, inputs, prompt_len):
    """Greedy tokens through generate (KV cache), their raw logits, and the full-recompute check."""
    model.generation_config.eos_token_id = None
    config = GenerationConfig(max_new_tokens=GREEDY_STEPS, do_sample=False, num_beams=1, eos_token_id=None,
                              pad_token_id=PAD)
    out = model.generate(**inputs, generation_config=config, return_dict_in_generate=True, output_logits=True)
    ids = out.sequences[0, prompt_len:].tolist()
    assert len(ids) == GREEDY_STEPS, ids
    gaps = []
    for step in out.logits:
        top2 = torch.topk(step[0].float(), 2).values
        gaps.append(f32(top2[0] - top2[1]))
    # The same tokens by full recompute (no cache), unless a near-tie lets the float order decide.
    # transformers cannot recompute past a generated image token (it would want a feature for it).
    seq = inputs["input_ids"]
    image_token = getattr(model.config, "image_token_index", None)
    for k in range(GREEDY_STEPS):
        if image_token in ids[:k]:
            break
        step_inputs = dict(inputs, input_ids=seq, attention_mask=torch.ones_like(seq))
        nxt = int(torch.argmax(model(**step_inputs).logits[0, -1]))
        if nxt != ids[k]:
            assert gaps[k] < NEAR_TIE, f"cache and recompute disagree at step {k} with gap {gaps[k]}"
            break
        seq = torch.cat([seq, torch.tensor([[nxt]])], dim=1)
    return ids, gaps


def prompt_record(model, inputs, prompt):
    with torch.no_grad():
        logits = model(**inputs).logits[0, -1].float()
        ids, gaps = greedy(model, inputs, inputs["input_ids"].shape[1])
    top = torch.topk(logits, TOP_K)
    rec = {}
    if "text" in prompt:
        rec["prompt_text"] = prompt["text"]
    rec["images"] = [IMAGES[i][0] for i in prompt.get("images", [])]
    rec["input_ids"] = inputs["input_ids"][0].tolist()
    rec["top_ids"] = top.indices.tolist()
    rec["top_logits"] = [f32(v) for v in top.values]
    rec["last_logits"] = [f32(v) for v in logits]
    rec["greedy_ids"] = ids
    rec["greedy_gaps"] = gaps
    rec["near_ties"] = [k for k, g in enumerate(gaps) if g < NEAR_TIE]
    return rec


def text_inputs(tokenizer, prompt):
    ids = tokenizer(prompt["text"]).input_ids if "text" in prompt else prompt["ids"]
    t = torch.tensor([ids])
    return {"input_ids": t, "attention_mask": torch.ones_like(t)}


def load_model(path, cls):
    model, info = cls.from_pretrained(path, dtype=torch.float32, attn_implementation="eager",
                                      output_loading_info=True)
    model.eval()
    loading = {k: sorted(str(x) for x in v) for k, v in sorted(info.items())}
    return model, loading


def processors_for(path):
    """The Pillow backend (what sparkmm follows), and in transformers 5 also its default, torchvision."""
    if TF5:
        return AutoProcessor.from_pretrained(path, backend="pil"), AutoProcessor.from_pretrained(path, backend="torchvision")
    return AutoProcessor.from_pretrained(path, use_fast=False), None


def image_records(model, pil, tv, images):
    recs = []
    for (name, _, _), image in zip(IMAGES, images):
        pv = pil.image_processor(images=[image], return_tensors="pt")["pixel_values"]
        rec = {"image": name, "pixel_values": tensor_record(pv[0])}
        if tv is not None:
            pv_tv = tv.image_processor(images=[image], return_tensors="pt")["pixel_values"]
            rec["pixel_values_torchvision"] = tensor_record(pv_tv[0])
            rec["torchvision_max_abs_diff"] = f32((pv_tv - pv).abs().max())
        with torch.no_grad():
            feats = model.get_image_features(pixel_values=pv)
            feats = feats.pooler_output if hasattr(feats, "pooler_output") else feats
            feats = (feats[0] if isinstance(feats, (list, tuple)) else feats[0]).float()
        rows = [0, 1, feats.shape[0] - 1]
        rec["features_shape"] = list(feats.shape)
        rec["feature_rows"] = rows
        rec["features"] = [[f32(v) for v in feats[r]] for r in rows]
        recs.append(rec)
    return recs


def checkpoint_record(name, path, kind, source, resource, images, text_prompts, llava_prompts):
    cls = LlavaForConditionalGeneration if kind == "llava" else AutoModelForCausalLM
    model, loading = load_model(path, cls)
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    eos = model.generation_config.eos_token_id  # what generate stops on; greedy() switches it off
    rec = {"name": name, "source": source, "resource": resource, "architecture": config["architectures"][0],
           "files": sorted(os.listdir(path)), "loading_info": loading,
           "eos_token_ids": sorted([eos] if isinstance(eos, int) else eos or [])}
    if kind == "llava":
        pil, tv = processors_for(path)
        rec["image_token_id"] = model.config.image_token_index
        rec["images"] = image_records(model, pil, tv, images)
        prompts = []
        for p in llava_prompts:
            inputs = pil(text=p["text"], images=[images[i] for i in p["images"]], return_tensors="pt")
            inputs = {k: inputs[k] for k in ("input_ids", "attention_mask", "pixel_values")}
            prompts.append(prompt_record(model, inputs, p))
        if pil.chat_template:
            messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "describe this"}]}]
            rec["chat_prompt_text"] = pil.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    else:
        tok = PreTrainedTokenizerFast.from_pretrained(path)
        prompts = [prompt_record(model, text_inputs(tok, p), p) for p in text_prompts]
    rec["prompts"] = prompts
    ties = [(i, p["near_ties"]) for i, p in enumerate(prompts) if p["near_ties"]]
    worst = min(min(p["greedy_gaps"]) for p in prompts)
    print(f"  {source:4} {name:34} min top-2 gap {worst:.2e}" + (f"  NEAR-TIES {ties}" if ties else ""))
    return rec


def text_defaults(c):
    """A config class's defaults as its modeling code reads them (head_dim and rope_theta resolved)."""
    rope = getattr(c, "rope_parameters", None) or {"rope_theta": c.rope_theta}
    eos = c.eos_token_id
    return {"vocab_size": c.vocab_size, "hidden_size": c.hidden_size, "intermediate_size": c.intermediate_size,
            "num_hidden_layers": c.num_hidden_layers, "num_attention_heads": c.num_attention_heads,
            "num_key_value_heads": c.num_key_value_heads,
            "head_dim": getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads,
            "max_position_embeddings": c.max_position_embeddings, "rms_norm_eps": c.rms_norm_eps,
            "rope_theta": rope["rope_theta"], "tie_word_embeddings": c.tie_word_embeddings,
            "bos_token_id": c.bos_token_id, "eos_token_ids": [eos] if isinstance(eos, int) else eos or [],
            "hidden_act": c.hidden_act}


def config_defaults():
    """What each config class assumes for keys a config.json leaves out."""
    out = {arch: text_defaults(cls()) for arch, cls in
           [("LlamaForCausalLM", LlamaConfig), ("Qwen2ForCausalLM", Qwen2Config), ("MistralForCausalLM", MistralConfig)]}
    llava = LlavaConfig()
    v = llava.vision_config
    out["LlavaForConditionalGeneration"] = {
        "image_token_index": llava.image_token_index, "projector_hidden_act": llava.projector_hidden_act,
        "vision_feature_layer": llava.vision_feature_layer,
        "vision_feature_select_strategy": llava.vision_feature_select_strategy,
        "multimodal_projector_bias": llava.multimodal_projector_bias,
        "vision_config": {k: getattr(v, k) for k in ("hidden_size", "intermediate_size", "num_hidden_layers",
                                                     "num_attention_heads", "image_size", "patch_size",
                                                     "num_channels", "layer_norm_eps", "hidden_act")},
        "text_config": text_defaults(llava.text_config)}
    return out


def versions():
    def v(pkg):
        try:
            return importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            return None
    return {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
            "tokenizers": v("tokenizers"), "safetensors": v("safetensors"), "huggingface_hub": v("huggingface-hub"),
            "numpy": np.__version__, "pillow": v("pillow"), "torchvision": v("torchvision")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(RESOURCES, "hf"), help="root of the fixtures (default: %(default)s)")
    ap.add_argument("--ours", nargs="*", default=[os.path.join(RESOURCES, "checkpoints"),
                                                   os.path.join(RESOURCES, "checkpoints-llava")],
                    help="folders of our writers' checkpoints (default: %(default)s)")
    args = ap.parse_args()
    started = time.time()
    torch.manual_seed(0)
    torch.set_num_threads(1)  # one summation order, so a rerun writes the same bytes
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    image_dir = os.path.join(args.out, "images")
    ensure_images(image_dir)
    images = load_images(image_dir)
    era_dir = os.path.join(args.out, ERA)
    os.makedirs(era_dir, exist_ok=True)
    print(f"transformers {transformers.__version__} ({ERA}), torch {torch.__version__} -> {era_dir}")

    records = []
    for name, path, kind in build_hf_checkpoints(era_dir):
        records.append(checkpoint_record(name, path, kind, "hf", f"/hf/{ERA}/{name}", images, TEXT_PROMPTS,
                                         LLAVA_PROMPTS))
    for root in args.ours:
        for name in sorted(os.listdir(root)):
            path = os.path.join(root, name)
            with open(os.path.join(path, "config.json")) as f:
                kind = "llava" if json.load(f)["architectures"][0] == "LlavaForConditionalGeneration" else "text"
            resource = "/" + os.path.relpath(path, RESOURCES).replace(os.sep, "/")
            records.append(checkpoint_record(name, path, kind, "ours", resource, images, OUR_TEXT_PROMPTS,
                                             OUR_LLAVA_PROMPTS))

    write_json(os.path.join(era_dir, "versions.json"), versions())
    write_json(os.path.join(era_dir, "fixtures.json"), {
        "era": ERA, "generator": "engine/src/test/python/hf_fixtures.py", "greedy_steps": GREEDY_STEPS,
        "near_tie": NEAR_TIE, "attention": "eager", "compute_dtype": "float32", "config_defaults": config_defaults(),
        "checkpoints": records})
    print(f"done in {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
