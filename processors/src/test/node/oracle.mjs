// Conformance oracle and benchmark partner for the Java processors: runs transformers.js's
// CLIPImageProcessor, Qwen2VLImageProcessor and WhisperFeatureExtractor, built straight from config
// objects (nothing is downloaded, no model is needed), on inputs written by the JUnit test.
//
//   node oracle.mjs run <manifest.json>
//     manifest: { clipConfig, whisperConfig, images: [{ input: "a.png", output: "a.f32" }],
//                 audio: [{ input: "a.f32", output: "b.f32" }],
//                 qwen2vlConfigs: { name: <preprocessor_config.json object> },
//                 qwen2vl: [{ config: "name", input: "a.jpg", output: "a.f32", decoded: "a.u8" }] }
//     (paths relative to the manifest; every section is optional)
//     writes each output as raw little-endian float32: pixel_values [3, H, W] of one CLIP image,
//     input_features [n_mels, 3000] of one clip, pixel_values [n, 3 * t * p * p] of one Qwen2-VL
//     image (and, if `decoded` is given, the decoded input converted to RGB as raw uint8 HWC, so a
//     decoder difference can be told apart from a resize difference); prints a JSON summary
//     (shapes, Qwen2-VL image_grid_thw) on stdout.
//
//   node oracle.mjs bench <manifest.json> <iterations>
//     decodes the images once (outside the clock), then times the CLIP image processor alone on
//     the raw pixels, one image at a time, and prints { images, seconds, imagesPerSecond }.
//
//   node oracle.mjs bench-qwen2vl <manifest.json> <iterations>
//     times read + decode + Qwen2VLImageProcessor per file of manifest.qwen2vl (one at a time,
//     after one warm-up pass), and prints { images, seconds, imagesPerSecond }.
//
//   node oracle.mjs bench-whisper <manifest.json> <iterations>
//     reads the raw float32 clips of manifest.audio once (outside the clock), then times the
//     WhisperFeatureExtractor of manifest.whisperConfig alone, one clip at a time, after one
//     warm-up pass, and prints { clips, seconds, clipsPerSecond }.
//
//   node oracle.mjs bench-onevision <manifest.json> <iterations>
//     the same for manifest.onevision with transformers.js's LlavaOnevisionImageProcessor, built from
//     manifest.onevisionConfig (in transformers.js 4.3.1 it is the generic ImageProcessor: it resizes
//     the whole image to `size` and makes no AnyRes tiles, so it does less work than HF's Python class).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  env, CLIPImageProcessor, Qwen2VLImageProcessor, WhisperFeatureExtractor, RawImage, LlavaOnevisionImageProcessor,
} from '@huggingface/transformers';

env.allowRemoteModels = false;
env.useFSCache = false;

const [mode, manifestPath, iterationsArg] = process.argv.slice(2);
if (!['run', 'bench', 'bench-qwen2vl', 'bench-whisper', 'bench-onevision'].includes(mode) || !manifestPath) {
  console.error('usage: node oracle.mjs run|bench|bench-qwen2vl|bench-whisper|bench-onevision <manifest.json> [iterations]');
  process.exit(2);
}
const dir = path.dirname(path.resolve(manifestPath));
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const at = (p) => path.resolve(dir, p);

// A lossless PNG decoded by sharp: the same RGB bytes the Java side reads with ImageIO.
async function readImage(file) {
  const image = await RawImage.fromBlob(new Blob([readFileSync(file)]));
  if (image.channels !== 3) {
    throw new Error(`${file}: expected RGB, got ${image.channels} channels`);
  }
  return image;
}

function writeFloats(file, data) {
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  writeFileSync(file, Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength));
}

// Qwen2-VL inputs may be gray or RGBA: the processor's do_convert_rgb turns them into RGB itself.
async function readAnyImage(file) {
  return RawImage.fromBlob(new Blob([readFileSync(file)]));
}

const imageProcessor = manifest.clipConfig ? new CLIPImageProcessor(manifest.clipConfig) : null;
const qwenProcessors = Object.fromEntries(Object.entries(manifest.qwen2vlConfigs ?? {})
  .map(([name, config]) => [name, new Qwen2VLImageProcessor(config)]));

function qwenProcessor(item) {
  const processor = qwenProcessors[item.config];
  if (!processor) {
    throw new Error(`${item.input}: no qwen2vlConfigs entry named ${item.config}`);
  }
  return processor;
}

if (mode === 'bench-qwen2vl' || mode === 'bench-onevision') {
  const iterations = Number(iterationsArg ?? 1);
  const onevision = mode === 'bench-onevision' ? new LlavaOnevisionImageProcessor(manifest.onevisionConfig) : null;
  const items = onevision ? manifest.onevision : manifest.qwen2vl;
  // The clock covers what a pipeline pays per file: read, decode, preprocess.
  const one = async (item) => (await (onevision ?? qwenProcessor(item))(await readAnyImage(at(item.input)))).pixel_values;
  let sink = 0;
  for (const item of items) {
    sink += (await one(item)).data[0];
  }
  const start = process.hrtime.bigint();
  let count = 0;
  for (let i = 0; i < iterations; i++) {
    for (const item of items) {
      sink += (await one(item)).data[0];
      count++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(JSON.stringify({ images: count, seconds, imagesPerSecond: count / seconds, sink }));
} else if (mode === 'bench-whisper') {
  const iterations = Number(iterationsArg ?? 1);
  const extractor = new WhisperFeatureExtractor(manifest.whisperConfig);
  const clips = (manifest.audio ?? []).map((item) => {
    const bytes = readFileSync(at(item.input));
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
  });
  let sink = 0;
  for (const clip of clips) {
    sink += (await extractor(clip)).input_features.data[0];
  }
  const start = process.hrtime.bigint();
  let count = 0;
  for (let i = 0; i < iterations; i++) {
    for (const clip of clips) {
      sink += (await extractor(clip)).input_features.data[0];
      count++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(JSON.stringify({ clips: count, seconds, clipsPerSecond: count / seconds, sink }));
} else if (mode === 'run') {
  const summary = { images: [], audio: [], qwen2vl: [] };
  for (const item of manifest.images ?? []) {
    const { pixel_values } = await imageProcessor(await readImage(at(item.input)));
    writeFloats(at(item.output), pixel_values.data);
    summary.images.push({ input: item.input, dims: pixel_values.dims });
  }
  const extractor = manifest.whisperConfig ? new WhisperFeatureExtractor(manifest.whisperConfig) : null;
  for (const item of manifest.audio ?? []) {
    const bytes = readFileSync(at(item.input));
    const samples = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
    const { input_features } = await extractor(samples);
    writeFloats(at(item.output), input_features.data);
    summary.audio.push({ input: item.input, dims: input_features.dims });
  }
  for (const item of manifest.qwen2vl ?? []) {
    const image = await readAnyImage(at(item.input));
    const decodedChannels = image.channels;
    if (item.decoded) {
      const rgb = image.clone().rgb();
      writeFileSync(at(item.decoded), Buffer.from(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength));
    }
    // One image per call: transformers.js tiles a batch of one over temporal_patch_size, so a
    // batch of two stills would be read as one two-frame clip.
    const { pixel_values, image_grid_thw } = await qwenProcessor(item)(image);
    writeFloats(at(item.output), pixel_values.data);
    summary.qwen2vl.push({
      input: item.input, dims: pixel_values.dims, decodedChannels,
      image_grid_thw: Array.from(image_grid_thw.data, Number),
    });
  }
  process.stdout.write(JSON.stringify(summary));
} else {
  const iterations = Number(iterationsArg ?? 1);
  const images = [];
  for (const item of manifest.images) {
    images.push(await readImage(at(item.input)));
  }
  // Warm-up: one pass over every image, as the Java side does before its clock starts.
  for (const image of images) {
    await imageProcessor(image);
  }
  const start = process.hrtime.bigint();
  let count = 0;
  for (let i = 0; i < iterations; i++) {
    for (const image of images) {
      await imageProcessor(image);
      count++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(JSON.stringify({ images: count, seconds, imagesPerSecond: count / seconds }));
}
