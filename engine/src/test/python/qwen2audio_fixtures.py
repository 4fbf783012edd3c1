#!/usr/bin/env python3
"""Hugging Face transformers as the oracle of sparkmm's Qwen2-Audio processor and audio encoder.

What it records (engine/src/test/resources/qwen2audio/qwen2audio_fixtures.json):

- processor: Qwen2AudioProcessor (Qwen2-Audio's WhisperFeatureExtractor settings: 128 mels, 16 kHz,
  hop 160, n_fft 400, 30 s, return_attention_mask) on synthetic clips of many lengths, from 1 sample
  to 35 s: the number of <|AUDIO|> tokens in the expanded input_ids, the feature_attention_mask sum,
  the input_features shape and some of their values (the first 8 of mel row 0, 64 evenly spaced
  values of the whole [128, 3000] block, and the mean).
- encoder: a tiny random Qwen2AudioForConditionalGeneration (saved under
  engine/src/test/resources/checkpoints-qwen2audio/qwen2_audio_tiny, with the processor's
  save_pretrained files: tokenizer, processor_config.json) run on the processor's output
  for a few clips; a forward hook on multi_modal_projector catches the audio tower's output and the
  projector's output exactly as the model computes them (feature mask, padding mask, avg-pool); the
  valid rows (the first num_audio_tokens) are recorded as rows 0, 1, n-2, n-1 in full plus 64 evenly
  spaced values of the valid block; and the whole model's logits at the first and last prompt
  positions (the audio rows merged into the Qwen2 decoder's input embeddings), and 6 greedy tokens
  (eos disabled) with the smallest top-2 logit gap on the way.
- the checkpoint's tensor names (transformers 5 saves the decoder under
  language_model.model.model.* and the head as language_model.lm_head.weight).

The clips are generated, not stored: sample i of clip(n, seed) is
0.4 sin(2 pi 440 i / 16000) + 0.2 (u_i - 0.5), u_i = (s_i >> 8) / 2^24 with the 32-bit LCG
s_{i+1} = 1664525 s_i + 1013904223, s_0 = seed, computed in double and rounded to float32, so the
Java test regenerates the very same samples (TestAudio in the engine tests).

Run from the repository root (the venv of requirements-hf-fixtures-tf5.txt):
    /tmp/venv-qa/bin/python engine/src/test/python/qwen2audio_fixtures.py
Floats are shortest float32 decimals and keys sorted: a second run writes the same bytes.
"""

import json
import os
import sys

import numpy as np
import torch
import transformers
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (PreTrainedTokenizerFast, Qwen2AudioConfig, Qwen2AudioForConditionalGeneration,
                          Qwen2AudioProcessor, WhisperFeatureExtractor)

RATE = 16000
OUT = "engine/src/test/resources/qwen2audio"
CKPT = "engine/src/test/resources/checkpoints-qwen2audio/qwen2_audio_tiny"
# Qwen/Qwen2-Audio-7B(-Instruct)'s preprocessor_config.json, the feature extractor part.
FEATURE_CONFIG = {"chunk_length": 30, "feature_size": 128, "hop_length": 160, "n_fft": 400, "n_samples": 480000,
                  "nb_max_frames": 3000, "padding_side": "right", "padding_value": 0.0,
                  "return_attention_mask": True, "sampling_rate": 16000}
# Clip lengths in samples: partial hops, the 0.1 s .. 30 s range, both parities of the conv output, > 30 s.
PROCESSOR_SAMPLES = [1, 159, 160, 161, 320, 1600, 3200, 8000, 16000, 16160, 16161, 116800, 160000, 479840,
                     479999, 480000, 480001, 560000]
ENCODER_SAMPLES = [16000, 16160, 116800, 560000]
WORDS = ["what", "is", "this", "sound", "?", "hello"]
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|audio_bos|>", "<|AUDIO|>", "<|audio_eos|>"]
PROMPT = "<|audio_bos|><|AUDIO|><|audio_eos|> what is this sound ?"
GREEDY_STEPS = 6


def clip(n, seed):
    i = np.arange(n, dtype=np.float64)
    s = np.empty(n, dtype=np.uint64)
    state = seed & 0xFFFFFFFF
    for j in range(n):
        s[j] = state
        state = (1664525 * state + 1013904223) & 0xFFFFFFFF
    u = (s >> np.uint64(8)).astype(np.float64) / float(1 << 24)
    return (0.4 * np.sin(2 * np.pi * 440.0 * i / RATE) + 0.2 * (u - 0.5)).astype(np.float32)


def f32(x):
    return [float(np.format_float_positional(np.float32(v), unique=True, trim="-")) if np.isfinite(v) else None
            for v in np.asarray(x, dtype=np.float32).ravel()]


def spaced(flat, k=64):
    flat = np.asarray(flat, dtype=np.float32).ravel()
    idx = np.linspace(0, flat.size - 1, k).round().astype(int)
    return {"index": idx.tolist(), "value": f32(flat[idx])}


def tokenizer():
    vocab = {t: i for i, t in enumerate(SPECIALS + WORDS + ["<unk>"])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens(SPECIALS)
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>"), vocab


def tiny_model(vocab):
    torch.manual_seed(1234)
    config = Qwen2AudioConfig(
        audio_config={"model_type": "qwen2_audio_encoder", "d_model": 32, "encoder_layers": 2,
                      "encoder_attention_heads": 2, "encoder_ffn_dim": 64, "num_mel_bins": 128,
                      "max_source_positions": 1500},
        text_config={"model_type": "qwen2", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                     "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": len(vocab),
                     "max_position_embeddings": 4096, "rope_theta": 10000.0, "tie_word_embeddings": False},
        audio_token_id=vocab["<|AUDIO|>"])
    model = Qwen2AudioForConditionalGeneration(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            # std 0.1 (not 0.02) so the encoder's output is far from its biases; norms near 1, perturbed.
            if "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(0.1 * torch.randn_like(p))
    return model


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    tok, vocab = tokenizer()
    fe = WhisperFeatureExtractor(**{k: v for k, v in FEATURE_CONFIG.items() if k != "n_samples"
                                    and k != "nb_max_frames"})
    processor = Qwen2AudioProcessor(feature_extractor=fe, tokenizer=tok)
    audio_id = vocab["<|AUDIO|>"]

    processor_cases = []
    for n in PROCESSOR_SAMPLES:
        out = processor(text=PROMPT, audio=[clip(n, n)], sampling_rate=RATE, return_tensors="np")
        feats = out["input_features"][0]
        processor_cases.append({
            "samples": n, "seed": n,
            "audio_tokens": int((out["input_ids"][0] == audio_id).sum()),
            "input_ids": out["input_ids"][0].tolist(),
            "feature_mask_sum": int(out["feature_attention_mask"][0].sum()),
            "feature_mask_length": int(out["feature_attention_mask"].shape[-1]),
            "features_shape": list(feats.shape),
            "features_row0_first8": f32(feats[0, :8]),
            "features_spaced": spaced(feats),
            "features_mean": float(feats.astype(np.float64).mean()),
        })

    model = tiny_model(vocab)
    model.save_pretrained(CKPT)
    # The tokenizer and the feature extractor's settings beside the weights, as a user's download has them.
    processor.save_pretrained(CKPT)
    from safetensors import safe_open
    with safe_open(os.path.join(CKPT, "model.safetensors"), "np") as f:
        tensor_names = sorted(f.keys())
    model = Qwen2AudioForConditionalGeneration.from_pretrained(CKPT, attn_implementation="eager",
                                                               dtype=torch.float32).eval()
    caught = {}
    model.model.multi_modal_projector.register_forward_hook(
        lambda m, inp, out: caught.update(encoder=inp[0].detach(), projected=out.detach()))
    encoder_cases = []
    for n in ENCODER_SAMPLES:
        out = processor(text=PROMPT, audio=[clip(n, n)], sampling_rate=RATE, return_tensors="pt")
        with torch.no_grad():
            logits = model(**out).logits[0]
        k = int((out["input_ids"][0] == audio_id).sum())
        case = {"samples": n, "seed": n, "audio_tokens": k, "input_ids": out["input_ids"][0].tolist(),
                "pooled_rows": int(caught["encoder"].shape[1]), "last_logits": f32(logits[-1].numpy()),
                "first_logits": f32(logits[0].numpy())}
        for key in ("encoder", "projected"):
            valid = caught[key][0, :k].numpy()
            case[key] = {"shape": list(valid.shape),
                         "rows": {str(r): f32(valid[r]) for r in sorted({0, 1, k - 2, k - 1})},
                         "spaced": spaced(valid)}
        with torch.no_grad():
            gen = model.generate(**out, max_new_tokens=GREEDY_STEPS, do_sample=False, output_scores=True,
                                 return_dict_in_generate=True, eos_token_id=None, pad_token_id=vocab["<|endoftext|>"])
        case["greedy_tokens"] = gen.sequences[0, out["input_ids"].shape[1]:].tolist()
        # The smallest top-1 / top-2 logit gap over the steps: a near-tie would make the tokens fragile.
        case["greedy_min_gap"] = float(min((sc[0].topk(2).values[0] - sc[0].topk(2).values[1]).item()
                                           for sc in gen.scores))
        encoder_cases.append(case)

    doc = {"generator": "engine/src/test/python/qwen2audio_fixtures.py",
           "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                        "numpy": np.__version__},
           "feature_config": FEATURE_CONFIG, "tensor_names": tensor_names, "prompt": PROMPT, "vocab": vocab,
           "processor": processor_cases, "encoder_cases": encoder_cases}
    with open(os.path.join(OUT, "qwen2audio_fixtures.json"), "w") as f:
        json.dump(doc, f, sort_keys=True, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "preprocessor_config.json"), "w") as f:
        json.dump(dict(FEATURE_CONFIG, feature_extractor_type="WhisperFeatureExtractor",
                       processor_class="Qwen2AudioProcessor"), f, sort_keys=True, indent=1)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
