#!/usr/bin/env python3
"""Hugging Face transformers as the oracle of sparkmm's Qwen2.5-Omni thinker (text output only).

Writes:
- engine/src/test/resources/checkpoints-qwen25omni/qwen25_omni_thinker_tiny: a tiny random
  Qwen2_5OmniThinkerForConditionalGeneration saved by transformers (save_pretrained) with its
  Qwen2_5OmniProcessor (WordLevel tokenizer with the Omni special tokens, Whisper feature extractor
  with Qwen2.5-Omni-7B's settings, Qwen2-VL image and video processors).
- engine/src/test/resources/qwen25omni/qwen25omni_fixtures.json: per case (audio only, image, video,
  and image + video with its own audio track + a separate clip with use_audio_in_video) the
  processor's expanded input_ids, feature_attention_mask sums, valid input_features (spaced values),
  image/video grids, video_second_per_grid, the model's TMRoPE position ids and rope delta
  (get_rope_index), the audio tower's and vision tower's outputs (rows and spaced values), the logits
  at the first and last prompt positions and greedy tokens (eos disabled).

Media are generated, not stored: audio clip(n, seed) is Qwen2AudioTestClips' LCG tone; image and
frame pixel (x, y, c) of pattern(w, h, seed) is (7x + 13y + 50c + 31 seed + x*y) mod 256.

Run from the repository root with the venv of requirements-hf-fixtures-tf5.txt:
    /tmp/venv-qa/bin/python engine/src/test/python/qwen25omni_fixtures.py
"""

import json
import os
import shutil
import sys

import numpy as np
import torch
import transformers
from safetensors import safe_open
from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers
from transformers import (PreTrainedTokenizerFast, Qwen2_5OmniProcessor, Qwen2_5OmniThinkerConfig,
                          Qwen2_5OmniThinkerForConditionalGeneration, Qwen2VLImageProcessor, Qwen2VLVideoProcessor,
                          WhisperFeatureExtractor)

RATE = 16000
OUT = "engine/src/test/resources/qwen25omni"
CKPT = "engine/src/test/resources/checkpoints-qwen25omni/qwen25_omni_thinker_tiny"
# Qwen/Qwen2.5-Omni-7B's preprocessor_config.json, the feature extractor part (300 s, 30000 frames).
FEATURE_CONFIG = dict(chunk_length=300, feature_size=128, hop_length=160, n_fft=400, n_samples=4800000,
                      nb_max_frames=30000, padding_side="right", padding_value=0.0, return_attention_mask=True,
                      sampling_rate=16000)
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>",
            "<|IMAGE|>", "<|VIDEO|>", "<|vision_bos|>", "<|vision_eos|>"]
WORDS = ["<unk>", "what", "is", "this", "sound", "?", "in", "the", "image", "video", "and", "clip", "hello",
         "describe", "user", "assistant", "system", "you", "are", "a", "helpful", "."]
EXTRA = {"audio_token": "<|AUDIO|>", "image_token": "<|IMAGE|>", "video_token": "<|VIDEO|>",
         "audio_bos_token": "<|audio_bos|>", "audio_eos_token": "<|audio_eos|>",
         "vision_bos_token": "<|vision_bos|>", "vision_eos_token": "<|vision_eos|>"}
GREEDY_STEPS = 5
# A Qwen-Omni-style chat template written for this script (the Hub's one adds a long default system
# prompt): media entries become the Omni placeholders with their begin/end tokens.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}\n"
    "{%- if loop.first and message['role'] != 'system' -%}\n"
    "{{- '<|im_start|>system\\nyou are a helpful assistant .<|im_end|>\\n' -}}\n"
    "{%- endif -%}\n"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}\n"
    "{%- if message['content'] is string -%}\n"
    "{{- message['content'] -}}\n"
    "{%- else -%}\n"
    "{%- for item in message['content'] -%}\n"
    "{%- if item['type'] == 'image' -%}{{- '<|vision_bos|><|IMAGE|><|vision_eos|>' -}}\n"
    "{%- elif item['type'] == 'audio' -%}{{- '<|audio_bos|><|AUDIO|><|audio_eos|>' -}}\n"
    "{%- elif item['type'] == 'video' -%}{{- '<|vision_bos|><|VIDEO|><|vision_eos|>' -}}\n"
    "{%- elif item['type'] == 'text' -%}{{- item['text'] -}}\n"
    "{%- endif -%}\n"
    "{%- endfor -%}\n"
    "{%- endif -%}\n"
    "{{- '<|im_end|>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}\n")
VIDEO_FPS = 2.0

AUDIO = "<|audio_bos|><|AUDIO|><|audio_eos|>"
IMAGE = "<|vision_bos|><|IMAGE|><|vision_eos|>"
VIDEO = "<|vision_bos|><|VIDEO|><|vision_eos|>"
# (name, prompt, clips [(samples, seed)], images [(w, h, seed)], videos [(frames, w, h, seed)], use_audio_in_video)
# The video's own audio track, when used, is the clip listed at its place among the clips (HF takes
# the audios in prompt order, a video's track where the video is).
CASES = [
    ("audio", AUDIO + " what is this sound ?", [(52800, 3)], [], [], False),
    ("audio_long", "hello " + AUDIO + " what is this sound ?", [(88000, 5)], [], [], False),
    ("image", IMAGE + " what is in the image ?", [], [(84, 56, 1)], [], False),
    ("video", VIDEO + " describe the video .", [], [], [(6, 336, 336, 2)], False),
    ("mixed_audio_in_video", IMAGE + " and " + VIDEO + " and " + AUDIO + " describe the video and clip .",
     [(64000, 7), (24000, 11)], [(56, 84, 4)], [(8, 336, 336, 6)], True),
    # uneven interleaving: more audio chunks than video chunks, then more video chunks than audio ones
    ("audio_outlasts_video", "hello " + VIDEO + " describe", [(88000, 13)], [], [(4, 336, 336, 8)], True),
    ("video_outlasts_audio", VIDEO + " describe", [(17000, 15)], [], [(10, 336, 336, 9)], True),
]


def clip(n, seed):
    i = np.arange(n, dtype=np.float64)
    s = np.empty(n, dtype=np.uint64)
    state = seed & 0xFFFFFFFF
    for j in range(n):
        s[j] = state
        state = (1664525 * state + 1013904223) & 0xFFFFFFFF
    u = (s >> np.uint64(8)).astype(np.float64) / float(1 << 24)
    return (0.4 * np.sin(2 * np.pi * 440.0 * i / RATE) + 0.2 * (u - 0.5)).astype(np.float32)


def pattern(w, h, seed):
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    return ((7 * x + 13 * y + 50 * c + 31 * seed + x * y) % 256).astype(np.uint8)


def f32(x):
    return [float(np.format_float_positional(np.float32(v), unique=True, trim="-"))
            for v in np.asarray(x, dtype=np.float32).ravel()]


def spaced(a, k=64):
    flat = np.asarray(a, dtype=np.float32).ravel()
    idx = np.linspace(0, flat.size - 1, k).round().astype(int)
    return {"index": idx.tolist(), "value": f32(flat[idx]), "shape": list(np.asarray(a).shape)}


def rows(a):
    a = np.asarray(a, dtype=np.float32)
    n = a.shape[0]
    return {str(r): f32(a[r]) for r in sorted({0, 1, n - 2, n - 1})}


def tokenizer():
    vocab = {t: i for i, t in enumerate(SPECIALS + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIALS])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>", extra_special_tokens=EXTRA)
    return fast, vocab


def tiny_model(vocab):
    torch.manual_seed(2505)
    config = Qwen2_5OmniThinkerConfig(
        audio_config={"d_model": 32, "encoder_layers": 2, "encoder_attention_heads": 2, "encoder_ffn_dim": 64,
                      "num_mel_bins": 128, "max_source_positions": 1500, "n_window": 100, "output_dim": 64},
        vision_config={"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2,
                       "out_hidden_size": 64, "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2,
                       "window_size": 56, "fullatt_block_indexes": [1]},
        text_config={"vocab_size": len(vocab), "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                     "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 4096,
                     "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
                     "tie_word_embeddings": False},
        audio_token_index=vocab["<|AUDIO|>"], image_token_index=vocab["<|IMAGE|>"],
        video_token_index=vocab["<|VIDEO|>"], audio_start_token_id=vocab["<|audio_bos|>"],
        audio_end_token_id=vocab["<|audio_eos|>"], vision_start_token_id=vocab["<|vision_bos|>"],
        vision_end_token_id=vocab["<|vision_eos|>"], user_token_id=vocab["user"],
        position_id_per_seconds=25, seconds_per_chunk=2)
    model = Qwen2_5OmniThinkerForConditionalGeneration(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ("norm" in name or "ln_" in name) and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(0.1 * torch.randn_like(p))
    return model


def processor_for(tok):
    fe = WhisperFeatureExtractor(**{k: v for k, v in FEATURE_CONFIG.items() if k not in ("n_samples", "nb_max_frames")})
    image = Qwen2VLImageProcessor(min_pixels=3136, max_pixels=12845056, patch_size=14, temporal_patch_size=2,
                                  merge_size=2)
    video = Qwen2VLVideoProcessor(min_pixels=3136, max_pixels=12845056, patch_size=14, temporal_patch_size=2,
                                  merge_size=2)
    return Qwen2_5OmniProcessor(image_processor=image, video_processor=video, feature_extractor=fe, tokenizer=tok,
                                chat_template=CHAT_TEMPLATE)


def main():
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    tok, vocab = tokenizer()
    processor = processor_for(tok)
    shutil.rmtree(CKPT, ignore_errors=True)
    model = tiny_model(vocab)
    model.save_pretrained(CKPT)
    processor.save_pretrained(CKPT)
    with safe_open(os.path.join(CKPT, "model.safetensors"), "np") as f:
        tensor_names = sorted(f.keys())
    model = Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(CKPT, attn_implementation="eager",
                                                                       dtype=torch.float32).eval()
    caught = {}
    model.audio_tower.register_forward_hook(lambda m, i, o: caught.update(audio=o.last_hidden_state.detach()))
    model.visual.register_forward_hook(
        lambda m, i, o: caught.setdefault("vision", []).append(o.pooler_output.detach()))

    cases = []
    for name, prompt, clips, images, videos, in_video in CASES:
        kwargs = {}
        if clips:
            kwargs["audio"] = [clip(n, s) for n, s in clips]
        if images:
            kwargs["images"] = [pattern(w, h, s) for w, h, s in images]
        if videos:
            kwargs["videos"] = [np.stack([pattern(w, h, s + f) for f in range(t)]) for t, w, h, s in videos]
            kwargs["fps"] = VIDEO_FPS
        out = processor(text=prompt, use_audio_in_video=in_video, return_tensors="pt", **kwargs)
        ids = out["input_ids"][0]
        case = {"name": name, "prompt": prompt, "use_audio_in_video": in_video,
                "clips": [list(c) for c in clips], "images": [list(i) for i in images],
                "videos": [list(v) for v in videos], "input_ids": ids.tolist()}
        if clips:
            mask = out["feature_attention_mask"]
            case["feature_mask_sums"] = mask.sum(-1).tolist()
            case["feature_mask_length"] = int(mask.shape[-1])
            case["features"] = [spaced(out["input_features"][k][:, :int(mask[k].sum())].numpy())
                                for k in range(mask.shape[0])]
        if images:
            case["image_grid_thw"] = out["image_grid_thw"].tolist()
        if videos:
            case["video_grid_thw"] = out["video_grid_thw"].tolist()
            case["video_second_per_grid"] = [float(x) for x in out["video_second_per_grid"]]
        pos, delta = model.get_rope_index(
            out["input_ids"], out.get("image_grid_thw"), out.get("video_grid_thw"), out["attention_mask"],
            in_video, out["feature_attention_mask"].sum(-1) if clips else None,
            torch.tensor(out["video_second_per_grid"]) if videos else None)
        case["position_ids"] = pos[:, 0, :].tolist()
        case["rope_delta"] = int(delta.reshape(-1)[0])
        caught.clear()
        with torch.no_grad():
            logits = model(**out, use_audio_in_video=in_video).logits[0]
        case["first_logits"] = f32(logits[0].numpy())
        case["last_logits"] = f32(logits[-1].numpy())
        if "audio" in caught:
            a = caught["audio"].numpy()
            case["audio_tower"] = {"rows": rows(a), "spaced": spaced(a)}
        if "vision" in caught:
            case["vision_tower"] = [{"rows": rows(v.numpy()), "spaced": spaced(v.numpy())} for v in caught["vision"]]
        with torch.no_grad():
            gen = model.generate(**out, use_audio_in_video=in_video, max_new_tokens=GREEDY_STEPS, do_sample=False,
                                 output_scores=True, return_dict_in_generate=True, eos_token_id=None,
                                 pad_token_id=vocab["<|endoftext|>"])
        case["greedy_tokens"] = gen.sequences[0, ids.shape[0]:].tolist()
        case["greedy_min_gap"] = float(min((sc[0].topk(2).values[0] - sc[0].topk(2).values[1]).item()
                                           for sc in gen.scores))
        cases.append(case)
        print(name, len(case["input_ids"]), case.get("video_grid_thw"), case["greedy_tokens"], file=sys.stderr)

    # chat: a clip, then a video with its own sound, then the question (sparkmm's entry order: image,
    # audio, video, text); transformers takes the audios in order of appearance: the clip, the track
    messages = [{"role": "user", "content": [{"type": "audio"}, {"type": "video"},
                                             {"type": "text", "text": "describe the video and clip ."}]}]
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    chat_clips, chat_video = [(24000, 11), (40000, 21)], (4, 336, 336, 20)
    out = processor(text=text, audio=[clip(n, sd) for n, sd in chat_clips], videos=[np.stack(
        [pattern(chat_video[1], chat_video[2], chat_video[3] + f) for f in range(chat_video[0])])], fps=VIDEO_FPS,
        use_audio_in_video=True, return_tensors="pt")
    with torch.no_grad():
        gen = model.generate(**out, use_audio_in_video=True, max_new_tokens=GREEDY_STEPS, do_sample=False,
                             eos_token_id=None, pad_token_id=vocab["<|endoftext|>"])
    chat = {"messages": messages, "text": text, "clip": list(chat_clips[0]), "video": list(chat_video),
            "video_track": list(chat_clips[1]), "input_ids": out["input_ids"][0].tolist(),
            "greedy_tokens": gen[0, out["input_ids"].shape[1]:].tolist()}
    print("chat", len(chat["input_ids"]), chat["greedy_tokens"], file=sys.stderr)

    doc = {"generator": "engine/src/test/python/qwen25omni_fixtures.py",
           "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                        "numpy": np.__version__},
           "feature_config": FEATURE_CONFIG, "tensor_names": tensor_names, "vocab": vocab, "cases": cases, "chat": chat}
    with open(os.path.join(OUT, "qwen25omni_fixtures.json"), "w") as f:
        json.dump(doc, f, sort_keys=True, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
