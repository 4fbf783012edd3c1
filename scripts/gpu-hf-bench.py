#!/usr/bin/env python3
"""HF baseline on the GPU machine (PyTorch + transformers 5, no network), run by scripts/gpu-check.sh.

For Qwen2-0.5B and Qwen2-1.5B *shapes* (random init, BF16: the machine cannot download weights, and
throughput depends on shapes only): save_pretrained to /tmp/hf-bench/<name>, time HF generate on 256
requests of 512 input / 128 output tokens in static batches, and save the last-position logits of 8
prompts (prompts.json + ref_logits.f32, 8 x vocab little-endian float32) so that
io.sparkmm.engine.gpu.CudaThroughputBench can compare the engine against HF on the same weights.
Writes a CSV (model,metric,value,unit) to argv[1] (default $OUT/hf-bench.csv).
"""
import json
import os
import sys
import time

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

# Hyper-parameters as in the published config.json of Qwen/Qwen2-0.5B and Qwen/Qwen2-1.5B (the
# model cards' tables: 0.5B = 24 layers, 14 query / 2 KV heads, hidden 896; 1.5B = 28 layers,
# 12 query / 2 KV heads, hidden 1536). Both tie the embeddings: the Qwen2 release table lists
# "tie embedding: yes" for 0.5B and 1.5B and "no" only from 7B up, so 1.5B ties too.
# vocab 151936 is the padded embedding size of both (tokenizer has 151646 ids); rope theta 1e6,
# rms eps 1e-6, SiLU MLP, no sliding window (use_sliding_window false in both configs).
COMMON = dict(
    vocab_size=151936,
    rope_theta=1000000.0,
    rms_norm_eps=1e-6,
    hidden_act="silu",
    max_position_embeddings=131072,  # as published (the card states 32K usable context)
    use_sliding_window=False,
    bos_token_id=151643,
    eos_token_id=151643,
    attention_dropout=0.0,
    initializer_range=0.02,
)
MODELS = {
    "qwen2-0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                       num_attention_heads=14, num_key_value_heads=2, max_window_layers=24,
                       tie_word_embeddings=True),
    "qwen2-1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                       num_attention_heads=12, num_key_value_heads=2, max_window_layers=28,
                       tie_word_embeddings=True),
}

REQUESTS, PROMPT, OUTPUT, STATIC_BATCH = 256, 512, 128, 64
ROOT = "/tmp/hf-bench"


def build(name):
    """Random-init BF16 model of the named shape, saved to ROOT/name (config.json, model.safetensors)."""
    cfg = Qwen2Config(**COMMON, **MODELS[name])
    # transformers 5 keeps rope settings in rope_parameters; make sure the 1e6 theta landed there
    # (the legacy rope_theta kwarg is converted by v5, but a silent 10000 would skew the comparison)
    if isinstance(getattr(cfg, "rope_parameters", None), dict):
        cfg.rope_parameters["rope_theta"] = COMMON["rope_theta"]
    torch.manual_seed(0)
    # initialize directly on the GPU in BF16: a CPU FP32 init of 1.5B parameters alone takes tens of
    # seconds of the stage's 100 s
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = Qwen2ForCausalLM(cfg).to(dtype=torch.bfloat16).eval()  # no-op unless the default was ignored
    torch.set_default_dtype(torch.float32)
    out = os.path.join(ROOT, name)
    model.save_pretrained(out)
    return model, out


@torch.inference_mode()
def reference_logits(model, out):
    """Last-position logits (float32) of 8 fixed prompts of varied lengths, for the Java side."""
    g = torch.Generator().manual_seed(1)
    prompts = [torch.randint(0, 150000, (n,), generator=g).tolist() for n in (1, 7, 16, 33, 64, 100, 257, 512)]
    rows = []
    for p in prompts:
        ids = torch.tensor([p], device="cuda")
        rows.append(model(input_ids=ids).logits[0, -1].float().cpu())
    torch.stack(rows).numpy().astype("<f4").tofile(os.path.join(out, "ref_logits.f32"))
    with open(os.path.join(out, "prompts.json"), "w") as f:
        json.dump(prompts, f)


@torch.inference_mode()
def generate_throughput(model):
    """HF generate, greedy, static batches of 64 equal-length prompts (no padding), exactly 128 new tokens."""
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(0, 150000, (REQUESTS, PROMPT), generator=g).cuda()
    kw = dict(do_sample=False, max_new_tokens=OUTPUT, min_new_tokens=OUTPUT, pad_token_id=151643)
    model.generate(ids[:8], attention_mask=torch.ones_like(ids[:8]), max_new_tokens=8, do_sample=False,
                   pad_token_id=151643)  # warm-up: cuBLAS handles, caching allocator
    torch.cuda.synchronize()
    start = time.perf_counter()
    generated = 0
    for b in range(0, REQUESTS, STATIC_BATCH):
        batch = ids[b:b + STATIC_BATCH]
        out = model.generate(batch, attention_mask=torch.ones_like(batch), **kw)
        generated += (out.shape[1] - PROMPT) * out.shape[0]
    torch.cuda.synchronize()
    return time.perf_counter() - start, generated


@torch.inference_mode()
def decode_batch1(model):
    """Batch-1 decode tok/s: (129-token minus 1-token generate time) / 128, so prefill cancels out."""
    ids = torch.randint(0, 150000, (1, PROMPT), generator=torch.Generator().manual_seed(3)).cuda()
    times = []
    for n in (1, OUTPUT + 1):
        torch.cuda.synchronize()
        t = time.perf_counter()
        model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=n,
                       min_new_tokens=n, pad_token_id=151643)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return OUTPUT / (times[1] - times[0])


def main():
    csv_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.environ.get("OUT", "/tmp"), "hf-bench.csv")
    os.makedirs(ROOT, exist_ok=True)
    with open(csv_path, "w") as csv:
        csv.write("model,metric,value,unit\n")
        for name in MODELS:
            model, out = build(name)
            reference_logits(model, out)
            rows = [("decode_tok_s_batch1", decode_batch1(model), "tok/s")]
            secs, generated = generate_throughput(model)
            rows += [("throughput_out_tok_s", generated / secs, "tok/s"),
                     ("throughput_total_tok_s", (generated + REQUESTS * PROMPT) / secs, "tok/s"),
                     ("wall_256x512x128_s", secs, "s")]
            for metric, value, unit in rows:
                line = f"{name},{metric},{value:.3f},{unit}"
                print(line, flush=True)
                csv.write(line + "\n")
            csv.flush()
            del model
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
