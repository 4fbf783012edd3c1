#!/usr/bin/env python3
"""Hugging Face transformers as the oracle on sparkmm's own tiny Qwen2.5-Omni checkpoint.

The checkpoint (engine/src/test/resources/checkpoints-qwen25omni/qwen25_omni_ours_hub_bf16) is written
by the Java class TinyQwen25OmniCheckpoint (see Qwen25OmniOracleCheckpoints for the command) in the
Hub's whole-Omni layout (config.json of model_type qwen2_5_omni with thinker_config and
enable_audio_output false; tensors thinker.model.*, thinker.lm_head.weight, thinker.audio_tower.*,
thinker.visual.*) with BF16 weights, a byte-level BPE tokenizer with Omni's media tokens,
chat_template.json and one flat preprocessor_config.json (feature extractor + image processor).

It loads as Qwen2_5OmniForConditionalGeneration through the generic PreTrainedModel.from_pretrained:
that class's own from_pretrained only adds loading spk_dict.pt, the talker's speaker table for audio
output, which a text-only checkpoint has no use for. The script asserts no missing, unexpected or
mismatched keys and that AutoProcessor reads our files as a Qwen2_5OmniProcessor, then records, per
case (an audio clip; an image; a video with its own audio track, use_audio_in_video): the processor's
input_ids, the thinker's TMRoPE position ids and rope delta (get_rope_index), its logits (weights upcast
to float32, as sparkmm computes) at the first and last prompt positions, and 6 greedy tokens with eos
disabled with the smallest top-2 gap on the way.

Media are qwen25omni_fixtures.py's (clip, pattern). Run from the repository root:
    /tmp/venv-qa/bin/python engine/src/test/python/qwen25omni_ours_fixtures.py
(requirements-hf-fixtures-tf5.txt); writes engine/src/test/resources/qwen25omni/qwen25omni_ours_fixtures.json.
"""

import json
import os
import sys

import numpy as np
import torch
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qwen25omni_fixtures import VIDEO_FPS, clip, f32, pattern  # noqa: E402

CKPT = "engine/src/test/resources/checkpoints-qwen25omni/qwen25_omni_ours_hub_bf16"
OUT = "engine/src/test/resources/qwen25omni/qwen25omni_ours_fixtures.json"
GREEDY_STEPS = 6
AUDIO = "<|audio_bos|><|AUDIO|><|audio_eos|>"
IMAGE = "<|vision_bos|><|IMAGE|><|vision_eos|>"
VIDEO = "<|vision_bos|><|VIDEO|><|vision_eos|>"
# (name, prompt, clips [(samples, seed)], images [(w, h, seed)], videos [(frames, w, h, seed)], use_audio_in_video);
# with use_audio_in_video the video's own track is the first clip
CASES = [
    ("audio", AUDIO + "What is the sound in this audio clip?", [(52800, 3)], [], [], False),
    ("image", IMAGE + "What is in the image?", [], [(84, 56, 1)], [], False),
    ("video_with_audio", VIDEO + "Describe the video and its sound.", [(40000, 13)], [], [(4, 336, 336, 2)], True),
]


def main():
    torch.set_num_threads(2)
    processor = transformers.AutoProcessor.from_pretrained(CKPT)
    assert type(processor).__name__ == "Qwen2_5OmniProcessor", type(processor)
    cls = transformers.Qwen2_5OmniForConditionalGeneration
    model, info = transformers.PreTrainedModel.from_pretrained.__func__(
        cls, CKPT, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    assert type(model) is cls, type(model)
    assert not model.config.enable_audio_output and not hasattr(model, "talker")
    # the thinker_config's own torch_dtype (bfloat16, as the Hub's has it) wins over dtype= for parts of the
    # thinker; upcasting BF16 to float32 is exact, so this is the float32 model of the same weights
    model = model.float().eval()
    loading = {k: sorted(str(x) for x in v) for k, v in info.items() if k != "error_msgs"}
    loading["error_msgs"] = [str(x) for x in info.get("error_msgs", [])]
    for k, v in loading.items():
        assert not v, f"{k}: {v}"
    thinker = model.thinker
    pad_id = processor.tokenizer.convert_tokens_to_ids("<|endoftext|>")
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
        pos, delta = thinker.get_rope_index(
            out["input_ids"], out.get("image_grid_thw"), out.get("video_grid_thw"), out["attention_mask"],
            in_video, out["feature_attention_mask"].sum(-1) if clips else None,
            torch.tensor(out["video_second_per_grid"]) if videos else None)
        with torch.no_grad():
            logits = thinker(**out, use_audio_in_video=in_video).logits[0]
            gen = thinker.generate(**out, use_audio_in_video=in_video, max_new_tokens=GREEDY_STEPS, do_sample=False,
                                   output_scores=True, return_dict_in_generate=True, eos_token_id=None,
                                   pad_token_id=pad_id)
        case = {"name": name, "prompt": prompt, "use_audio_in_video": in_video,
                "clips": [list(c) for c in clips], "images": [list(i) for i in images],
                "videos": [list(v) for v in videos], "input_ids": ids.tolist(),
                "position_ids": pos[:, 0, :].tolist(), "rope_delta": int(delta.reshape(-1)[0]),
                "first_logits": f32(logits[0].numpy()), "last_logits": f32(logits[-1].numpy()),
                "greedy_tokens": gen.sequences[0, ids.shape[0]:].tolist(),
                "greedy_min_gap": float(min((sc[0].topk(2).values[0] - sc[0].topk(2).values[1]).item()
                                            for sc in gen.scores))}
        cases.append(case)
        print(name, len(case["input_ids"]), case["greedy_tokens"], case["greedy_min_gap"], file=sys.stderr)

    doc = {"generator": "engine/src/test/python/qwen25omni_ours_fixtures.py", "checkpoint": CKPT,
           "loaded_as": cls.__name__ + " (PreTrainedModel.from_pretrained; no spk_dict.pt)",
           "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                        "numpy": np.__version__},
           "loading_info": loading, "cases": cases}
    with open(OUT, "w") as f:
        json.dump(doc, f, sort_keys=True, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
