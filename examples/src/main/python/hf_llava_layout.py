"""Writes a trained default model in the real Hugging Face layout of LlavaForConditionalGeneration:
config.json, model.safetensors (by hand: 8-byte little-endian header length, JSON header, raw F32
tensors), tokenizer.json (word-level vocabulary in the HF tokenizers format), tokenizer_config.json
(chat template, eos), generation_config.json, preprocessor_config.json (CLIPImageProcessor) and
processor_config.json.
"""
import json
import os
import struct

import torch

from shape_task import BOS, CHAT_TEMPLATE, CLIP_MEAN, CLIP_STD, EOS, IMAGE, PAD, SPECIALS, UNK


def write_safetensors(path, tensors):
    """safetensors by hand: u64 LE header length, JSON header (sorted names, F32, byte offsets
    into the data section), then the raw little-endian tensors in header order. The header is
    space-padded to a multiple of 8 so tensor data stays aligned, as the reference writer does."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        arr = tensors[name].detach().to(torch.float32).contiguous().numpy().astype("<f4")
        raw = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def added_token(tid, content):
    return {"id": tid, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def write_checkpoint(out, cfg, w, vocab):
    os.makedirs(out, exist_ok=True)
    tokens = (cfg.image_size // cfg.patch) ** 2
    v = len(vocab)
    text_config = {
        "attention_bias": False, "attention_dropout": 0.0, "bos_token_id": vocab[BOS],
        "eos_token_id": vocab[EOS], "head_dim": cfg.t_hidden // cfg.t_heads, "hidden_act": "silu",
        "hidden_size": cfg.t_hidden, "initializer_range": 0.02, "intermediate_size": cfg.t_inter,
        "max_position_embeddings": cfg.max_pos, "mlp_bias": False, "model_type": "llama",
        "num_attention_heads": cfg.t_heads, "num_hidden_layers": cfg.t_layers,
        "num_key_value_heads": cfg.t_kv_heads, "pad_token_id": vocab[PAD], "pretraining_tp": 1,
        "rms_norm_eps": cfg.rms_eps, "rope_scaling": None, "rope_theta": cfg.rope_theta,
        "tie_word_embeddings": False, "torch_dtype": "float32", "use_cache": True, "vocab_size": v,
    }
    vision_config = {
        "attention_dropout": 0.0, "dropout": 0.0, "hidden_act": "quick_gelu", "hidden_size": cfg.v_hidden,
        "image_size": cfg.image_size, "initializer_factor": 1.0, "initializer_range": 0.02,
        "intermediate_size": cfg.v_inter, "layer_norm_eps": cfg.ln_eps, "model_type": "clip_vision_model",
        "num_attention_heads": cfg.v_heads, "num_channels": 3, "num_hidden_layers": cfg.v_layers,
        "patch_size": cfg.patch, "projection_dim": cfg.v_hidden, "torch_dtype": "float32",
    }
    write_json(os.path.join(out, "config.json"), {
        "architectures": ["LlavaForConditionalGeneration"], "image_seq_length": tokens,
        "image_token_index": vocab[IMAGE], "model_type": "llava", "multimodal_projector_bias": True,
        "projector_hidden_act": "gelu", "text_config": text_config, "tie_word_embeddings": False,
        "torch_dtype": "float32", "transformers_version": "4.52.4", "vision_config": vision_config,
        "vision_feature_layer": cfg.feature_layer, "vision_feature_select_strategy": "default",
    })
    write_json(os.path.join(out, "generation_config.json"), {
        "bos_token_id": vocab[BOS], "do_sample": False, "eos_token_id": vocab[EOS],
        "pad_token_id": vocab[PAD],
    })
    specials = SPECIALS + [IMAGE]
    # Word level: the pre-tokenizer splits on whitespace only (so "image." and "USER:" are single
    # words, as in the vocabulary); special tokens such as <image> are matched before that. The
    # WordPiece decoder (with a prefix no word has) rejoins words with single spaces.
    write_json(os.path.join(out, "tokenizer.json"), {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added_token(vocab[t], t) for t in specials],
        "normalizer": None,
        "pre_tokenizer": {"type": "WhitespaceSplit"},
        "post_processor": None,
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": False},
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": UNK},
    })
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "add_bos_token": False, "add_eos_token": False,
        "added_tokens_decoder": {str(vocab[t]): {"content": t, "lstrip": False, "normalized": False,
                                                 "rstrip": False, "single_word": False, "special": True}
                                 for t in specials},
        "bos_token": BOS, "chat_template": CHAT_TEMPLATE, "clean_up_tokenization_spaces": False,
        "eos_token": EOS, "extra_special_tokens": {"image_token": IMAGE}, "image_token": IMAGE,
        "model_max_length": cfg.max_pos, "pad_token": PAD, "processor_class": "LlavaProcessor",
        "tokenizer_class": "PreTrainedTokenizerFast", "unk_token": UNK,
    })
    write_json(os.path.join(out, "preprocessor_config.json"), {
        "crop_size": {"height": cfg.image_size, "width": cfg.image_size}, "do_center_crop": True,
        "do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True,
        "image_mean": CLIP_MEAN, "image_std": CLIP_STD, "image_processor_type": "CLIPImageProcessor",
        "processor_class": "LlavaProcessor", "resample": 3, "rescale_factor": 1 / 255,
        "size": {"shortest_edge": cfg.image_size},
    })
    write_json(os.path.join(out, "processor_config.json"), {
        "image_token": IMAGE, "num_additional_image_tokens": 1, "patch_size": cfg.patch,
        "processor_class": "LlavaProcessor", "vision_feature_select_strategy": "default",
    })
    write_safetensors(os.path.join(out, "model.safetensors"), {k: x.data for k, x in w.items()})
