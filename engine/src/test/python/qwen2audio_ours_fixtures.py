#!/usr/bin/env python3
"""Hugging Face transformers as the oracle on sparkmm's own tiny Qwen2-Audio checkpoint.

The checkpoint (engine/src/test/resources/checkpoints-qwen2audio/qwen2_audio_ours_hub_bf16) is
written by the Java class TinyQwen2AudioCheckpoint (see Qwen2AudioOracleCheckpoints for the
command), in the Hub's layout (language_model.model.*, language_model.lm_head.weight, audio_tower.*,
multi_modal_projector.*) with BF16 weights. This script checks that transformers loads it with no
missing, unexpected or mismatched keys, that its processor reads our tokenizer and
preprocessor_config.json, and records transformers' numbers on it, per transformers era:

- input_ids of the processor for two clips (text mode, "<|audio_bos|><|AUDIO|><|audio_eos|>" prompt)
  and of apply_chat_template + processor for a chat turn with both clips;
- the same for 2 s of digital silence (a valid clip: the bad-input tests expect an answer, not an error);
- the whole model's logits (weights upcast to float32, as sparkmm computes) at the first and last
  prompt positions, and 6 greedy tokens with eos disabled, with the smallest top-2 gap on the way.

The clips are clip(n, seed) of qwen2audio_fixtures.py (regenerated bit for bit by the Java tests).
Run from the repository root, once per era; each run writes its own section of
engine/src/test/resources/qwen2audio/qwen2audio_ours_fixtures.json:
    /tmp/venv-qa/bin/python engine/src/test/python/qwen2audio_ours_fixtures.py    # transformers 5.18
    /tmp/venv-tf4/bin/python engine/src/test/python/qwen2audio_ours_fixtures.py   # transformers 4.57
(requirements-hf-fixtures-tf5.txt / -tf4.txt).
"""

import importlib.metadata
import json
import os
import sys
import types

if importlib.metadata.version("transformers").startswith("4."):
    # transformers 4.57 pins huggingface-hub < 1.0 at import time and the local index has only 1.x;
    # nothing here touches the Hub (local directories only), so that check is skipped, as hf_fixtures.py does
    _stub = types.ModuleType("transformers.dependency_versions_check")
    _stub.dep_version_check = lambda pkg, hint=None: None
    sys.modules[_stub.__name__] = _stub

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qwen2audio_fixtures import RATE, clip, f32  # noqa: E402

CKPT = "engine/src/test/resources/checkpoints-qwen2audio/qwen2_audio_ours_hub_bf16"
OUT = "engine/src/test/resources/qwen2audio/qwen2audio_ours_fixtures.json"
PROMPT = "<|audio_bos|><|AUDIO|><|audio_eos|>What is the sound in this audio clip?"
CHAT_TEXT = "Describe the sound in this audio clip."
SAMPLES = [16160, 116800]
GREEDY_STEPS = 6
SILENT_SAMPLES = 32000


def run(model, processor, text, clips, pad_id):
    out = processor(text=text, audio=clips, sampling_rate=RATE, return_tensors="pt")
    out.pop("token_type_ids", None)   # transformers 4's fast tokenizer adds them; the model takes none
    with torch.no_grad():
        logits = model(**out).logits[0]
        gen = model.generate(**out, max_new_tokens=GREEDY_STEPS, do_sample=False, output_scores=True,
                             return_dict_in_generate=True, eos_token_id=None, pad_token_id=pad_id)
    return {"input_ids": out["input_ids"][0].tolist(),
            "first_logits": f32(logits[0].numpy()), "last_logits": f32(logits[-1].numpy()),
            "greedy_tokens": gen.sequences[0, out["input_ids"].shape[1]:].tolist(),
            "greedy_min_gap": float(min((s[0].topk(2).values[0] - s[0].topk(2).values[1]).item()
                                        for s in gen.scores))}


def main():
    torch.set_num_threads(1)
    era = "tf" + transformers.__version__.split(".")[0]
    processor = transformers.AutoProcessor.from_pretrained(CKPT)
    assert type(processor).__name__ == "Qwen2AudioProcessor", type(processor)
    model, info = transformers.Qwen2AudioForConditionalGeneration.from_pretrained(
        CKPT, dtype=torch.float32, attn_implementation="eager", output_loading_info=True) \
        if era != "tf4" else transformers.Qwen2AudioForConditionalGeneration.from_pretrained(
        CKPT, torch_dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    model.eval()
    loading = {k: sorted(str(x) for x in v) for k, v in info.items() if k != "error_msgs"}
    loading["error_msgs"] = [str(x) for x in info.get("error_msgs", [])]
    for k, v in loading.items():
        assert not v, f"{k}: {v}"
    pad_id = processor.tokenizer.convert_tokens_to_ids("<|endoftext|>")
    cases = []
    for n in SAMPLES:
        case = run(model, processor, PROMPT, [clip(n, n)], pad_id)
        case.update({"samples": n, "seed": n})
        cases.append(case)
    messages = [{"role": "user", "content": [{"type": "audio", "audio_url": "a.wav"},
                                             {"type": "audio", "audio_url": "b.wav"},
                                             {"type": "text", "text": CHAT_TEXT}]}]
    chat_text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    chat = run(model, processor, chat_text, [clip(n, n) for n in SAMPLES], pad_id)
    chat.update({"samples": SAMPLES, "seeds": SAMPLES, "text": CHAT_TEXT, "rendered": chat_text})
    # Bad-input oracle: 2 s of digital silence is a valid clip (the log-mel floor everywhere), not an error.
    silent = run(model, processor, PROMPT, [np.zeros(SILENT_SAMPLES, dtype=np.float32)], pad_id)
    silent.update({"samples": SILENT_SAMPLES})

    doc = {}
    if os.path.exists(OUT):
        with open(OUT) as f:
            doc = json.load(f)
    doc["generator"] = "engine/src/test/python/qwen2audio_ours_fixtures.py"
    doc["checkpoint"] = CKPT
    doc["prompt"] = PROMPT
    doc[era] = {"versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                             "numpy": np.__version__},
                "loading_info": loading, "cases": cases, "chat": chat, "silent": silent}
    with open(OUT, "w") as f:
        json.dump(doc, f, sort_keys=True, indent=1)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
