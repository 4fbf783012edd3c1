// Conformance oracle and benchmark partner for the Java processors: runs transformers.js's
// CLIPImageProcessor and WhisperFeatureExtractor, built straight from config objects (nothing is
// downloaded, no model is needed), on inputs written by the JUnit test.
//
//   node oracle.mjs run <manifest.json>
//     manifest: { clipConfig, whisperConfig, images: [{ input: "a.png", output: "a.f32" }],
//                 audio: [{ input: "a.f32", output: "b.f32" }] }  (paths relative to the manifest)
//     writes each output as raw little-endian float32: pixel_values [3, H, W] of one image,
//     input_features [n_mels, 3000] of one clip; prints a JSON summary (shapes) on stdout.
//
//   node oracle.mjs bench <manifest.json> <iterations>
//     decodes the images once (outside the clock), then times the image processor alone on the
//     raw pixels, one image at a time, and prints { images, seconds, imagesPerSecond }.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { env, CLIPImageProcessor, WhisperFeatureExtractor, RawImage } from '@huggingface/transformers';

env.allowRemoteModels = false;
env.useFSCache = false;

const [mode, manifestPath, iterationsArg] = process.argv.slice(2);
if (!['run', 'bench'].includes(mode) || !manifestPath) {
  console.error('usage: node oracle.mjs run|bench <manifest.json> [iterations]');
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

const imageProcessor = new CLIPImageProcessor(manifest.clipConfig);

if (mode === 'run') {
  const summary = { images: [], audio: [] };
  for (const item of manifest.images ?? []) {
    const { pixel_values } = await imageProcessor(await readImage(at(item.input)));
    writeFloats(at(item.output), pixel_values.data);
    summary.images.push({ input: item.input, dims: pixel_values.dims });
  }
  const extractor = new WhisperFeatureExtractor(manifest.whisperConfig);
  for (const item of manifest.audio ?? []) {
    const bytes = readFileSync(at(item.input));
    const samples = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
    const { input_features } = await extractor(samples);
    writeFloats(at(item.output), input_features.data);
    summary.audio.push({ input: item.input, dims: input_features.dims });
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
