#!/usr/bin/env python3
"""Exports media encoders of sparkmm's tiny test checkpoints (and, for the benchmark, a CLIP
ViT-L/14-336 sized LLaVA tower with random weights) to ONNX with torch.onnx.export.

What each graph covers is what the family's processor output feeds and what the language model
takes (io.sparkmm.engine.encoders.EncoderPort of the family):

- llava: pixel_values float[1, 3, S, S] -> image_features float[1, N, text hidden]: the CLIP tower
  up to config.vision_feature_layer (one index or a list, concatenated), the CLS token dropped for
  vision_feature_select_strategy "default", then the multi-modal projector. The batch dim is dynamic.
- unsupported-op.onnx: LLaVA's names around one op ONNX Runtime lacks (the bad-input test).
- qwen2_audio: input_features float[1, 128, 3000] and feature_attention_mask int64[1, 3000] ->
  audio_features float[1, 750, text hidden]: the Whisper-style audio tower with the padding frames
  masked out of attention (as Qwen2AudioForConditionalGeneration masks them), its average pool and
  the projector. The engine keeps the first num_audio_tokens rows.

- qwen2_vl / qwen2_5_vl: pixel_values float[t*h*w, 3*2*14*14] (the processor's flattened patches) ->
  image_features float[t*h*w/4, text hidden]: the vision tower and its patch merger for ONE grid
  (t, h, w). The tower's rotary positions and attention blocks (2.5: its windows) are built from
  grid_thw by Python loops, which tracing bakes into the grid it ran with, so the grid is a constant
  of the graph and is recorded in the model's metadata_props as sparkmm.grid_thw = "t,h,w"; the
  engine refuses (per request) images of any other grid.

Weights are upcast to float32 (the engine computes its own encoders in float32 too).

Run from the repository root, in the venv of requirements-hf-fixtures-tf5.txt plus
requirements-onnx-export.txt:
    python engine/src/test/python/onnx_encoder_export.py tiny            # the committed test graphs
    python engine/src/test/python/onnx_encoder_export.py clip-l OUT_DIR  # OUT_DIR/clip-l-336{,.onnx} for
                                                                         # io.sparkmm.engine.bench.OnnxEncoderBenchmark
"""

import json
import os
import sys

import torch
from torch import nn
from transformers import (LlavaForConditionalGeneration, Qwen2_5_VLForConditionalGeneration,
                          Qwen2AudioForConditionalGeneration, Qwen2VLForConditionalGeneration)

OUT = "engine/src/test/resources/onnx"
LLAVA = "engine/src/test/resources/checkpoints-llava"
QWEN2AUDIO = "engine/src/test/resources/checkpoints-qwen2audio/qwen2_audio_tiny"
QWEN2VL = "engine/src/test/resources/checkpoints-qwen2vl"
# Qwen2-VL: the grid of a 112x112 image (8x8 patches of 14 pixels, one temporal patch), 16 tokens after
# the merger; 2.5-VL: a 224x224 image, so that its 112-pixel windows (window_size) split it in four
QWEN2VL_GRID = (1, 8, 8)
QWEN25VL_GRID = (1, 16, 16)
OPSET = 18


class LlavaImageEncoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        cfg = model.config
        self.tower = model.model.vision_tower
        self.projector = model.model.multi_modal_projector
        layers = cfg.vision_feature_layer
        self.layers = [layers] if isinstance(layers, int) else list(layers)
        self.drop_cls = cfg.vision_feature_select_strategy == "default"

    def forward(self, pixel_values):
        hidden = self.tower(pixel_values, output_hidden_states=True, return_dict=True).hidden_states
        picked = [hidden[i][:, 1:] if self.drop_cls else hidden[i] for i in self.layers]
        return self.projector(torch.cat(picked, dim=-1))


class Qwen2AudioEncoderGraph(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.tower = model.model.audio_tower
        self.projector = model.model.multi_modal_projector

    def forward(self, input_features, feature_attention_mask):
        frames = feature_attention_mask.sum(-1)
        conv_len = (frames - 1) // 2 + 1  # the stride-2 conv's output length, as the model computes it
        positions = torch.arange(input_features.shape[-1] // 2, device=input_features.device)[None, :]
        padded = positions >= conv_len[:, None]
        mask = torch.where(padded[:, None, None, :], torch.finfo(torch.float32).min, 0.0).to(torch.float32)
        hidden = self.tower(input_features, attention_mask=mask).last_hidden_state
        return self.projector(hidden)


class Qwen2VlImageEncoder(nn.Module):
    def __init__(self, model, grid):
        super().__init__()
        self.tower = model.model.visual
        self.grid = torch.tensor([list(grid)])

    def forward(self, pixel_values):
        out = self.tower(pixel_values, grid_thw=self.grid)
        # transformers 5 returns the merger's output as pooler_output, 4.x the tensor itself
        return out if isinstance(out, torch.Tensor) else out.pooler_output


def export(module, args, path, input_names, output_name, dynamic_batch):
    module.eval()
    dynamic = {n: {0: "batch"} for n in input_names} if dynamic_batch else None
    if dynamic:
        dynamic[output_name] = {0: "batch"}
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=input_names, output_names=[output_name],
                          dynamic_axes=dynamic, opset_version=OPSET, dynamo=False)
    print(path, os.path.getsize(path), "bytes")


def llava(ckpt_dir, path):
    model = LlavaForConditionalGeneration.from_pretrained(ckpt_dir, dtype=torch.float32, attn_implementation="eager")
    size = model.config.vision_config.image_size
    export(LlavaImageEncoder(model), (torch.randn(1, 3, size, size),), path, ["pixel_values"], "image_features", True)


def qwen2_audio(ckpt_dir, path):
    model = Qwen2AudioForConditionalGeneration.from_pretrained(ckpt_dir, dtype=torch.float32,
                                                               attn_implementation="eager")
    mask = torch.zeros(1, 3000, dtype=torch.long)
    mask[:, :1000] = 1
    export(Qwen2AudioEncoderGraph(model), (torch.randn(1, 128, 3000), mask), path,
           ["input_features", "feature_attention_mask"], "audio_features", False)


def qwen2_vl(ckpt_dir, path, cls, grid):
    model = cls.from_pretrained(ckpt_dir, dtype=torch.float32, attn_implementation="eager")
    t, h, w = grid
    patch_dim = 3 * model.config.vision_config.temporal_patch_size * model.config.vision_config.patch_size ** 2
    export(Qwen2VlImageEncoder(model, grid), (torch.randn(t * h * w, patch_dim),), path, ["pixel_values"],
           "image_features", False)
    import onnx
    graph = onnx.load(path)
    entry = graph.metadata_props.add()
    entry.key, entry.value = "sparkmm.grid_thw", ",".join(str(d) for d in grid)
    onnx.save(graph, path)
    print(path, os.path.getsize(path), "bytes, grid", grid)


def clip_l(out_dir):
    """LLaVA-1.5's vision side at full size (CLIP ViT-L/14-336, feature layer -2, CLS dropped, a
    1024 -> 4096 -> 4096 projector) in front of a 1-layer text stub, random weights: the checkpoint
    (bfloat16 safetensors, as LLaVA-1.5 ships; the engine upcasts) and vision_encoder.onnx exported
    from the very same bfloat16-rounded weights in float32. About 0.7 GB + 1.3 GB, written where the
    benchmark says, never committed."""
    from transformers import CLIPImageProcessor, CLIPVisionConfig, LlamaConfig, LlavaConfig
    torch.manual_seed(0)
    vision = CLIPVisionConfig(hidden_size=1024, intermediate_size=4096, num_attention_heads=16, num_hidden_layers=24,
                              image_size=336, patch_size=14, projection_dim=768, hidden_act="quick_gelu")
    # the text stub only has to load: one layer, one KV head, a 64-token vocabulary
    text = LlamaConfig(hidden_size=4096, intermediate_size=64, num_attention_heads=32, num_key_value_heads=1,
                       num_hidden_layers=1, vocab_size=64, bos_token_id=1, eos_token_id=2, pad_token_id=0)
    cfg = LlavaConfig(vision_config=vision, text_config=text, image_token_index=63, vision_feature_layer=-2,
                      vision_feature_select_strategy="default", projector_hidden_act="gelu")
    model = LlavaForConditionalGeneration(cfg).eval().to(torch.bfloat16)
    ckpt = os.path.join(out_dir, "clip-l-336")
    model.save_pretrained(ckpt)
    CLIPImageProcessor(size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336}).save_pretrained(ckpt)
    model = model.to(torch.float32)
    export(LlavaImageEncoder(model), (torch.randn(1, 3, 336, 336),), os.path.join(out_dir, "clip-l-336.onnx"),
           ["pixel_values"], "image_features", True)


def unsupported_op(path):
    """A graph with LLaVA's input and output names whose one node is an op ONNX Runtime does not have:
    loading it must fail at engine start, naming the file."""
    import onnx
    from onnx import TensorProto, helper
    node = helper.make_node("SparkmmNoSuchOp", ["pixel_values"], ["image_features"], domain="io.sparkmm.test")
    graph = helper.make_graph([node], "unsupported",
                              [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("image_features", TensorProto.FLOAT, [1, 16, 64])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid("io.sparkmm.test", 1)], ir_version=9)
    onnx.save(model, path)
    print(path, os.path.getsize(path), "bytes")


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "tiny"
    if what == "clip-l":
        clip_l(sys.argv[2])
        return
    os.makedirs(OUT, exist_ok=True)
    for name in ["llava-llama-default-bf16", "llava-mistral-layers-f16", "llava-qwen2-full-f32"]:
        llava(os.path.join(LLAVA, name), os.path.join(OUT, name + ".onnx"))
    qwen2_audio(QWEN2AUDIO, os.path.join(OUT, "qwen2_audio_tiny.onnx"))
    qwen2_vl(os.path.join(QWEN2VL, "qwen2_vl_ours_hub_bf16"), os.path.join(OUT, "qwen2_vl_ours_hub_bf16-1x8x8.onnx"),
             Qwen2VLForConditionalGeneration, QWEN2VL_GRID)
    qwen2_vl(os.path.join(QWEN2VL, "qwen2_5_vl_ours_tf5_f16"),
             os.path.join(OUT, "qwen2_5_vl_ours_tf5_f16-1x16x16.onnx"), Qwen2_5_VLForConditionalGeneration, QWEN25VL_GRID)
    unsupported_op(os.path.join(OUT, "unsupported-op.onnx"))


if __name__ == "__main__":
    main()
