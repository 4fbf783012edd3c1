"""Records what Hugging Face's Qwen2-VL video processor produces, as fixtures for
Qwen2VlVideoProcessorTest and Qwen2VlFrameSelectionTest.

Run from the repository root with the transformers 5.18 venv (torch, torchvision, Pillow, numpy) and
ffmpeg (with libx264) on the PATH:

    /tmp/venv-tf5/bin/python processors/src/test/python/record_qwen2vl_video_fixtures.py \
        processors/src/test/resources/qwen2vl

In transformers 5.18 `Qwen2VLVideoProcessor` only has the torchvision backend (tvF.resize, bicubic,
antialias=True); there is no Pillow video processor. So each pixel case is recorded twice:
  * "tv": HF's processor end to end (torchvision resize). Our Java port resizes with Pillow's
    algorithm, so it can only match this within a tolerance; the script records the largest byte
    difference between torchvision's and Pillow's resized frames so the test can bound it.
  * "pil": every frame resized with PIL bicubic to the size HF's own resize step picks, then fed to the
    same HF processor with do_resize=False, so rescale/normalize/pad/patchify are HF's code. Java must
    match this one bit for bit (sha256 of the float32 pixel_values bytes).

Outputs (deterministic: a second run is byte-identical, except the MP4 if ffmpeg's version changes):
  qwen2vl_video_<name>.png           the frames of each synthetic video stacked vertically (a filmstrip)
  qwen2vl_video<k>_video_preprocessor_config.json
  qwen2vl_video_sampling.mp4         a 23-frame 30 fps H.264 clip for the decoder + frame selection check
  qwen2vl_video_fixtures.json        the cases, a sample_frames sweep and the MP4's expected indices
"""
import hashlib
import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import PIL
import torch
import torchvision
import torchvision.transforms.v2.functional as tvF
import transformers
from PIL import Image
from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor
from transformers.video_utils import VideoMetadata

warnings.simplefilter("ignore", FutureWarning)
OUT = Path(sys.argv[1])
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(20240611)
SAMPLES = 256


def f(x):
    return float(np.float32(x))


def video(n, w, h):
    """Gradients that drift from frame to frame, a moving bar, and noise: every frame differs."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    frames = []
    for t in range(n):
        r = 255 * ((x + 7 * t) % w) / max(w - 1, 1)
        g = 255 * y / max(h - 1, 1)
        b = np.where(((x + t) // 3 + y // 2) % 2 == 0, 230.0, 20.0)
        img = np.stack([r, g, b], axis=-1)
        bar = (3 * t) % max(h - 2, 1)
        img[bar:bar + 2, :, :] = [255, 255 - 20 * t % 256, 0]
        img += rng.normal(0, 18, img.shape)
        frames.append(np.clip(np.rint(img), 0, 255).astype(np.uint8))
    return np.stack(frames)


CONFIGS = [
    # what an empty video_preprocessor_config.json gives: the Python class defaults
    {"video_processor_type": "Qwen2VLVideoProcessor"},
    # small patches so the arrays stay small; legacy min_pixels/max_pixels keys
    {"video_processor_type": "Qwen2VLVideoProcessor", "patch_size": 4, "temporal_patch_size": 2, "merge_size": 2,
     "min_pixels": 256, "max_pixels": 4096, "resample": 3, "do_rescale": True,
     "rescale_factor": 0.00392156862745098, "do_normalize": True},
    # frame sampling on, by fps; size{} form
    {"video_processor_type": "Qwen2VLVideoProcessor", "patch_size": 4, "temporal_patch_size": 2, "merge_size": 2,
     "size": {"shortest_edge": 512, "longest_edge": 2048}, "do_sample_frames": True, "fps": 12,
     "min_frames": 4, "max_frames": 64},
    # temporal patch 3, other mean/std, sampling by num_frames
    {"video_processor_type": "Qwen2VLVideoProcessor", "patch_size": 6, "temporal_patch_size": 3, "merge_size": 2,
     "size": {"shortest_edge": 300, "longest_edge": 3000}, "image_mean": [0.5, 0.5, 0.5],
     "image_std": [0.5, 0.5, 0.5], "do_sample_frames": True, "num_frames": 5},
    # the qwen-vl-utils total-video pixel cap, with a tiny token budget so it bites
    {"video_processor_type": "Qwen2VLVideoProcessor", "patch_size": 4, "temporal_patch_size": 2, "merge_size": 2,
     "size": {"shortest_edge": 256, "longest_edge": 4096}, "cap_pixels_per_frame": True, "max_video_tokens": 20},
]

# name, config index, frames, width, height, metadata (None: HF's default), extra call kwargs
CASES = [
    ("v5_100x75", 0, 5, 100, 75, None, {}),
    ("v8_64x64", 1, 8, 64, 64, None, {}),
    ("v1_50x40", 1, 1, 50, 40, None, {}),
    ("v17_48x36_fps30", 2, 17, 48, 36, {"total_num_frames": 17, "fps": 30.0}, {}),
    ("v7_30x42_t3", 3, 7, 30, 42, {"total_num_frames": 7, "fps": 10.0}, {}),
    ("v8_64x64_cap", 4, 8, 64, 64, None, {}),
    ("v6_40x30_meta", 1, 6, 40, 30, {"total_num_frames": 6, "fps": 25.0}, {}),
    ("v9_40x30_kwargs", 1, 9, 40, 30, {"total_num_frames": 9, "fps": 3.0},
     {"do_sample_frames": True, "fps": 1.5, "min_frames": 2, "min_pixels": 600, "max_pixels": 900}),
]


def target_size(proc, frames_t, cfg_call):
    """The (h, w) HF's resize step picks: its own resize() on a uint8 tensor of the frames."""
    size = proc._standardize_kwargs(**{**{k: getattr(proc, k, None) for k in proc.valid_kwargs.__annotations__},
                                       **cfg_call})["size"]
    out = proc.resize(frames_t[None], size=size, resample=proc.resample,
                      factor=proc.patch_size * proc.merge_size, temporal_factor=proc.temporal_patch_size,
                      cap_pixels_per_frame=cfg_call.get("cap_pixels_per_frame", proc.cap_pixels_per_frame))
    return out, list(out.shape[-2:])


def summary(pv):
    flat = np.ascontiguousarray(pv, dtype=np.float32).reshape(-1)
    idx = np.linspace(0, flat.size - 1, SAMPLES).round().astype(np.int64)
    return {"sha256": hashlib.sha256(flat.tobytes()).hexdigest(), "indices": [int(i) for i in idx],
            "values": [f(flat[i]) for i in idx], "min": f(flat.min()), "max": f(flat.max()),
            "sum": float(flat.astype(np.float64).sum())}


manifest = {"class": "Qwen2VLVideoProcessor", "transformers": transformers.__version__, "torch": torch.__version__,
            "torchvision": torchvision.__version__, "pillow": PIL.__version__, "configs": [], "cases": []}
for k, cfg in enumerate(CONFIGS):
    name = f"qwen2vl_video{k}_video_preprocessor_config.json"
    (OUT / name).write_text(json.dumps(cfg, indent=2) + "\n")
    manifest["configs"].append(name)

for name, k, n, w, h, meta, call in CASES:
    frames = video(n, w, h)
    png = f"qwen2vl_video_{name}.png"
    Image.fromarray(frames.reshape(n * h, w, 3), "RGB").save(OUT / png)
    cfg = {a: b for a, b in CONFIGS[k].items() if a != "video_processor_type"}
    proc = Qwen2VLVideoProcessor(**cfg)
    kw = dict(call, return_metadata=True, cap_pixels_per_frame=cfg.get("cap_pixels_per_frame", False))
    if meta is not None:
        kw["video_metadata"] = dict(meta)
    out = proc(videos=[frames], return_tensors="pt", **kw)
    md = out["video_metadata"][0]
    sampled = [int(i) for i in (md.frames_indices if md.frames_indices is not None else range(n))]
    kept = frames[sampled]
    kept_t = torch.from_numpy(kept).permute(0, 3, 1, 2).contiguous()
    tv_resized, (rh, rw) = target_size(proc, kept_t, dict(call, **{"cap_pixels_per_frame": kw["cap_pixels_per_frame"]}))
    pil = np.stack([np.asarray(Image.fromarray(fr).resize((rw, rh), Image.BICUBIC)) for fr in kept])
    pil_kw = {a: b for a, b in kw.items() if a not in ("video_metadata",)}
    pil_kw.update(do_resize=False, do_sample_frames=False)
    pil_out = proc(videos=[pil], return_tensors="pt", **pil_kw)
    tv_bytes = tv_resized[0].permute(0, 2, 3, 1).numpy().astype(np.int16)
    diff = np.abs(tv_bytes - pil.astype(np.int16))
    pv = out["pixel_values_videos"].numpy()
    assert pil_out["pixel_values_videos"].shape == pv.shape
    manifest["cases"].append({
        "name": name, "config": manifest["configs"][k], "frames": png, "num_frames": n, "width": w, "height": h,
        "metadata": meta, "kwargs": call, "sampled_indices": sampled, "resized": [rh, rw],
        "video_grid_thw": [int(v) for v in out["video_grid_thw"][0]], "shape": list(pv.shape),
        # processing_qwen2_5_vl.py: temporal_patch_size / metadata.sampled_fps
        "sampled_fps": md.sampled_fps, "second_per_grid_ts": proc.temporal_patch_size / md.sampled_fps,
        "tv_vs_pil_max_byte_diff": int(diff.max()), "tv_vs_pil_bytes_differing": int((diff > 0).sum()),
        "tv_vs_pil_max_value_diff": f(np.abs(pv - pil_out["pixel_values_videos"].numpy()).max()),
        "pil": summary(pil_out["pixel_values_videos"].numpy()), "tv": summary(pv),
    })

# sample_frames sweep: HF's own method on explicit metadata
sweep = []
proc = Qwen2VLVideoProcessor()
for total, vfps, kw in [(17, 30.0, {"fps": 12}), (17, 30.0, {"fps": 25}), (17, 30.0, {"fps": 2}),
                        (300, 30.0, {"fps": 2}), (300, 29.97, {"fps": 2.0}), (1000, 24.0, {"fps": 1}),
                        (5000, 30.0, {"fps": 2}), (5000, 30.0, {"fps": 2, "max_frames": 100}),
                        (7, 10.0, {"num_frames": 5, "temporal_patch_size": 3}), (7, 10.0, {"num_frames": 3}),
                        (10, 30.0, {"num_frames": 8}), (100, 25.0, {"num_frames": 33}), (30, 30.0, {"num_frames": 26}),
                        (4, 30.0, {"fps": 2}), (3, 30.0, {"fps": 2}), (1, 30.0, {"fps": 2}),
                        (9, 3.0, {"fps": 1.5, "min_frames": 2}), (50, 30.0, {}), (6, 30.0, {"num_frames": 8}),
                        (1, 30.0, {"num_frames": 1}), (61, 29.97, {"fps": 4.5, "temporal_patch_size": 3}),
                        (34, 30.0, {"num_frames": 14}), (1234, 23.976, {"fps": 2, "max_frames": 768})]:
    case = {"total": total, "video_fps": vfps, "kwargs": kw}
    try:
        idx = proc.sample_frames(VideoMetadata(total_num_frames=total, fps=vfps), **kw)
        raw = [int(i) for i in idx]
        case["raw"] = raw
        if raw and raw[-1] >= total:
            case["hf_fails"] = f"index {raw[-1]} out of range for {total} frames"
    except (ValueError, ZeroDivisionError, TypeError) as e:
        case["error"] = f"{type(e).__name__}: {e}"
    sweep.append(case)
manifest["sample_frames"] = sweep

# an MP4 for the decoder: HF's sample_frames on the container's metadata, as HF's loaders report it
mp4 = OUT / "qwen2vl_video_sampling.mp4"
subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=30",
                "-frames:v", "23", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-bf", "0", "-g", "30",
                "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", str(mp4)], check=True)
probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                   "stream=nb_frames,r_frame_rate", "-of", "json", str(mp4)],
                                  check=True, capture_output=True, text=True).stdout)["streams"][0]
num, den = (int(v) for v in probe["r_frame_rate"].split("/"))
total, vfps = int(probe["nb_frames"]), num / den
mp4_cases = []
for kw in [{"fps": 2}, {"fps": 12}, {"num_frames": 10}, {"fps": 30, "max_frames": 16}]:
    idx = [int(i) for i in proc.sample_frames(VideoMetadata(total_num_frames=total, fps=vfps), **kw)]
    mp4_cases.append({"kwargs": kw, "indices": idx})
manifest["mp4"] = {"file": mp4.name, "total_frames": total, "fps": vfps, "cases": mp4_cases}

text = "{\n" + ",\n".join(
    f' "{k}": ' + (json.dumps(v) if not isinstance(v, list) or not v or not isinstance(v[0], dict)
                   else "[\n" + ",\n".join("  " + json.dumps(x) for x in v) + "\n ]")
    for k, v in manifest.items()) + "\n}\n"
(OUT / "qwen2vl_video_fixtures.json").write_text(text)
print("wrote", len(manifest["cases"]), "cases,", len(sweep), "sample_frames cases; transformers",
      transformers.__version__, "torch", torch.__version__, "torchvision", torchvision.__version__)
for c in manifest["cases"]:
    print(c["name"], c["sampled_indices"], c["resized"], c["video_grid_thw"], "tv-pil bytes max",
          c["tv_vs_pil_max_byte_diff"], "n", c["tv_vs_pil_bytes_differing"], "value", c["tv_vs_pil_max_value_diff"],
          "spgt", c["second_per_grid_ts"])
