#!/usr/bin/env python3
"""Hugging Face transformers as the oracle of sparkmm's LLaVA-OneVision multi-image and video paths.

Two checkpoints, both reloaded as a user would (AutoProcessor with the Pillow image backend, the model
in F32 with eager attention):
- tiny/: the one transformers itself wrote (llava_onevision_fixtures.py): 28-pixel tiles, a 2 x 2
  feature grid, so a video frame pools to one feature;
- checkpoints-llava-onevision/llava_onevision_ours/: the one sparkmm's Java writer
  (TinyLlavaOnevisionCheckpoint, Hub layout, BF16 weights, tied head) wrote: 42-pixel tiles, a 3 x 3
  grid pooled to 2 x 2 per frame (the bilinear pooling interpolates and clamps). Its loading info
  (missing / unexpected / mismatched keys) is recorded; the Java test requires it empty.

Cases: several images in one prompt (each padded to a square with the mean colour, one patch, side^2 + 1
tokens), videos (4, 3 and 1 frames), an image with a video (the image keeps AnyRes), chat prompts through
the checkpoint's template with video entries, and plain "<image> ... <video> ..." prompts. Per case:
prompt text, expanded input ids, per item the sha256 of the float32 pixel values, the last-position
logits and 8 greedy tokens (eos off, top-2 gaps).

Video frames are deterministic PNGs under llava_onevision/images/ (the Java test packs them losslessly
into a video file, so its decoder sees the same pixels). HF's video processor resizes with torchvision
only; sparkmm resizes with Pillow's algorithm. So HF's processor is fed the frames already resized by
Pillow (bicubic) to the tile size, where its own resize is the identity (checked below), and the Java
side must give the same pixel values bit for bit. How far HF's torchvision resize is from that is
recorded separately ("torchvision_video"): the processor's output on the raw frames with rescale and
normalize off (resized byte values), to be compared in byte levels.

Run from the repository root, after (re)writing the Java checkpoint with the engine's test classpath:

    mvn -q -o -pl engine -am test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
    java -cp engine/target/classes:kernels/target/classes:processors/target/classes:$(cat engine/target/cp.txt) \
        io.sparkmm.engine.models.llavaonevision.TinyLlavaOnevisionCheckpoint \
        engine/src/test/resources/checkpoints-llava-onevision/llava_onevision_ours
    /tmp/venv-tf5/bin/python engine/src/test/python/llava_onevision_video_fixtures.py

(LlavaOnevisionVideoConformanceTest checks that the writer still makes the committed bytes.)
"""
import base64
import hashlib
import json
import os
import sys

import numpy as np
import torch
import transformers
from PIL import Image
from transformers import AutoImageProcessor, AutoProcessor, GenerationConfig, LlavaOnevisionForConditionalGeneration

RES = sys.argv[1] if len(sys.argv) > 1 else "engine/src/test/resources"
HF_TINY = os.path.join(RES, "llava_onevision", "tiny")
OURS = os.path.join(RES, "checkpoints-llava-onevision", "llava_onevision_ours")
IMAGES = os.path.join(RES, "llava_onevision", "images")
OUT = os.path.join(RES, "llava_onevision", "video_fixtures.json")
torch.set_num_threads(1)
GREEDY_STEPS = 8

# name: (frames, width, height, seed); frames are <name>-f<i>.png
VIDEOS = {"ovv-40x30x4": (4, 40, 30, 5), "ovv-50x36x3": (3, 50, 36, 6), "ovv-28x28x1": (1, 28, 28, 7)}


def f32(v):
    return float(np.format_float_positional(np.float32(v), unique=True))


def frame(w, h, seed, t):
    y, x = np.mgrid[0:h, 0:w]
    xs = x - 3 * t  # the content moves from frame to frame
    r = (xs * 255 // max(w - 1, 1) + 29 * seed + 60 * ((xs // 6 + y // 5) % 2)) % 256
    g = (y * 255 // max(h - 1, 1) + 53 * seed + 17 * t) % 256
    b = ((np.abs(xs) * 5 + y * 11) * (seed + 2)) % 256
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def ensure_videos():
    out = {}
    for name, (n, w, h, seed) in VIDEOS.items():
        frames = []
        for t in range(n):
            path = os.path.join(IMAGES, f"{name}-f{t}.png")
            px = frame(w, h, seed, t)
            if os.path.exists(path):
                assert (np.asarray(Image.open(path).convert("RGB")) == px).all(), path
            else:
                Image.fromarray(px).save(path)
            frames.append(px)
        out[name] = np.stack(frames)
    return out


def pil_resized(video, side):
    return np.stack([np.asarray(Image.fromarray(f).resize((side, side), Image.BICUBIC)) for f in video])


def sha(t):
    return hashlib.sha256(t.contiguous().numpy().astype("<f4").tobytes()).hexdigest()


def load(path):
    model, info = LlavaOnevisionForConditionalGeneration.from_pretrained(
        path, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    model.eval()
    processor = AutoProcessor.from_pretrained(path)
    processor.image_processor = AutoImageProcessor.from_pretrained(path, backend="pil")
    return model, processor, {k: sorted(str(x) for x in v) for k, v in sorted(info.items())}


def run_case(name, ckpt, model, processor, videos, content, chat):
    """content: list of ("image", png) / ("video", name) / ("text", str), in prompt order."""
    side = processor.video_processor.size["height"]
    ids_of = processor.tokenizer.convert_tokens_to_ids
    image_id, video_id = ids_of("<image>"), ids_of("<video>")
    pil_images = [Image.open(os.path.join(IMAGES, v)).convert("RGB") for k, v in content if k == "image"]
    vids = [pil_resized(videos[v], side) for k, v in content if k == "video"]
    if chat:
        entries = [{"type": k} if k != "text" else {"type": "text", "text": v} for k, v in content]
        prompt = processor.apply_chat_template([{"role": "user", "content": entries}], add_generation_prompt=True)
    else:
        prompt = " ".join("<image>" if k == "image" else "<video>" if k == "video" else v for k, v in content)
    kwargs = {}
    if pil_images:
        kwargs["images"] = [pil_images]  # one prompt: batch_num_images = [number of its images]
    if vids:
        kwargs["videos"] = vids
    inputs = processor(text=[prompt], return_tensors="pt", **kwargs)
    items = []
    if pil_images:
        n = len(pil_images)
        for i in range(n):
            patches = int(inputs["pixel_values"].shape[1]) if n == 1 else 1
            items.append({"modality": "image", "num_patches": patches,
                          "image_size": inputs["image_sizes"][i].tolist(),
                          "pixel_sha256": sha(inputs["pixel_values"][i][:patches])})
    if vids:
        # the identity: HF's video processor leaves Pillow-resized frames as they are
        plain = processor.video_processor(videos=vids, do_rescale=False, do_normalize=False,
                                          return_tensors="pt")["pixel_values_videos"]
        for v in range(len(vids)):
            assert (plain[v].permute(0, 2, 3, 1).numpy() == vids[v]).all(), "torchvision resize not the identity"
            items.append({"modality": "video", "frames": int(inputs["pixel_values_videos"].shape[1]),
                          "pixel_sha256": sha(inputs["pixel_values_videos"][v])})
    with torch.no_grad():
        logits = model(**inputs).logits[0, -1].float()
        config = GenerationConfig(max_new_tokens=GREEDY_STEPS, do_sample=False, num_beams=1, eos_token_id=None,
                                  pad_token_id=processor.tokenizer.pad_token_id)
        out = model.generate(**inputs, generation_config=config, return_dict_in_generate=True, output_logits=True)
    n = inputs["input_ids"].shape[1]
    ids = inputs["input_ids"][0].tolist()
    return {"name": name, "checkpoint": ckpt, "chat": chat, "prompt_text": prompt,
            "content": [[k, v] for k, v in content], "input_ids": ids, "items": items,
            "image_tokens": ids.count(image_id), "video_tokens": ids.count(video_id),
            "last_logits": [f32(v) for v in logits.tolist()], "greedy_ids": out.sequences[0, n:].tolist(),
            "greedy_gaps": [f32(torch.topk(s[0].float(), 2).values.diff().abs()[0]) for s in out.logits]}


# A template in the style of the released llava-hf OneVision checkpoints (media rendered before the text,
# picked with selectattr, the assistant's text inside {% generation %}), rendered by jinja2 as transformers
# configures it, for the Java renderer to match with image and video entries.
RELEASED_STYLE_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + ' '}}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>' }}{% endfor %}"
    "{% if message['role'] != 'assistant' %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ '\n' + content['text'] }}{% endfor %}"
    "{% else %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{% generation %}{{ '\n' + content['text'] }}{% endgeneration %}{% endfor %}{% endif %}{% endif %}"
    "{{ '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def template_cases(tokenizer):
    q = {"type": "text", "text": "what happens ?"}
    convs = {
        "video": [{"role": "user", "content": [{"type": "video"}, q]}],
        "image and video": [{"role": "system", "content": "you are a helpful assistant ."},
                            {"role": "user", "content": [q, {"type": "video"}, {"type": "image"}]}],
        "two images, answer, video": [
            {"role": "user", "content": [{"type": "image"}, {"type": "image"}, q]},
            {"role": "assistant", "content": [{"type": "text", "text": "a cat ."}]},
            {"role": "user", "content": [{"type": "video"}, q]}],
    }
    return [{"name": name, "messages": msgs,
             "rendered": tokenizer.apply_chat_template(msgs, chat_template=RELEASED_STYLE_TEMPLATE, tokenize=False,
                                                       add_generation_prompt=True)}
            for name, msgs in convs.items()]


def main():
    videos = ensure_videos()
    doc = {"generator": "engine/src/test/python/llava_onevision_video_fixtures.py",
           "versions": {"transformers": transformers.__version__, "torch": torch.__version__},
           "videos": {k: {"frames": v[0], "width": v[1], "height": v[2]} for k, v in VIDEOS.items()},
           "loading_info": {}, "cases": []}
    Q = "what is in this image ?"
    for ckpt, path in (("hf_tiny", HF_TINY), ("ours", OURS)):
        model, processor, info = load(path)
        doc["loading_info"][ckpt] = info
        cases = []
        if ckpt == "hf_tiny":
            cases += [
                ("tiny two images plain", [("image", "ov-40x30.png"), ("image", "ov-9x100.png"), ("text", Q)], False),
                ("tiny video plain", [("video", "ovv-40x30x4"), ("text", Q)], False),
                ("tiny image and video plain", [("image", "ov-150x12.png"), ("video", "ovv-50x36x3"), ("text", Q)], False),
            ]
        else:
            cases += [
                ("ours video chat", [("video", "ovv-40x30x4"), ("text", Q)], True),
                ("ours one-frame video chat", [("video", "ovv-28x28x1"), ("text", Q)], True),
                ("ours three images plain", [("image", "ov-40x30.png"), ("text", "left"), ("image", "ov-150x12.png"),
                                             ("image", "ov-26x26.png"), ("text", Q)], False),
                ("ours image and video chat", [("image", "ov-9x100.png"), ("video", "ovv-50x36x3"), ("text", Q)], True),
                ("ours two images and video chat", [("image", "ov-40x30.png"), ("image", "ov-26x26.png"),
                                                    ("video", "ovv-40x30x4"), ("text", Q)], True),
            ]
            # HF's token count of a lone image of extreme sizes (the bad-input test's rows); {height, width}
            sizes = [[1, 1], [20, 20000], [20000, 20], [300, 400]]
            counts = processor._get_num_multimodal_tokens(image_sizes=sizes)["num_image_tokens"]
            doc["lone_image_tokens"] = [{"height": h, "width": w, "tokens": n} for (h, w), n in zip(sizes, counts)]
            # HF's own video resize (torchvision) on the raw frames, as byte values
            raw = processor.video_processor(videos=[videos["ovv-40x30x4"]], do_rescale=False, do_normalize=False,
                                            return_tensors="pt")["pixel_values_videos"][0]
            as_bytes = raw.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
            pil = pil_resized(videos["ovv-40x30x4"], processor.video_processor.size["height"])
            doc["torchvision_video"] = {
                "video": "ovv-40x30x4", "shape": list(as_bytes.shape),
                "resized_rgb_b64": base64.b64encode(as_bytes.tobytes()).decode(),
                "max_byte_diff_vs_pillow": int(np.abs(as_bytes.astype(int) - pil.astype(int)).max())}
        if ckpt == "ours":
            doc["released_style_template"] = {"template": RELEASED_STYLE_TEMPLATE,
                                              "cases": template_cases(processor.tokenizer)}
        for name, content, chat in cases:
            doc["cases"].append(run_case(name, ckpt, model, processor, videos, content, chat))
    with open(OUT, "w") as f:
        json.dump(doc, f, sort_keys=True, indent=None)
        f.write("\n")
    for c in doc["cases"]:
        print(c["name"], len(c["input_ids"]), c["image_tokens"], c["video_tokens"], c["greedy_ids"], min(c["greedy_gaps"]))
    print(doc["loading_info"], doc["torchvision_video"]["max_byte_diff_vs_pillow"])


if __name__ == "__main__":
    main()
