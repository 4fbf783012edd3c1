package io.sparkmm.engine.models.qwen25omni;

import io.sparkmm.engine.models.FamilyProcessor;
import io.sparkmm.engine.models.ProcessorSettings;
import io.sparkmm.engine.models.qwen2audio.Qwen2AudioLengths;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.audio.WhisperFeatureExtractor;
import io.sparkmm.processors.audio.WhisperFeatureExtractorConfig;
import io.sparkmm.processors.cache.ItemTensor;
import io.sparkmm.processors.cache.ProcessedItem;
import io.sparkmm.processors.image.Qwen2VlImageProcessor;
import io.sparkmm.processors.image.Qwen2VlImageProcessorConfig;
import io.sparkmm.processors.image.Qwen2VlPatches;
import io.sparkmm.processors.media.AudioClip;
import io.sparkmm.processors.media.MediaIO;
import io.sparkmm.processors.media.MediaLimits;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.media.RgbImage;
import io.sparkmm.processors.media.VideoClip;
import io.sparkmm.processors.prompt.ItemReplacement;
import io.sparkmm.processors.prompt.PromptReplacement;
import io.sparkmm.processors.video.Qwen2VlVideoProcessor;
import io.sparkmm.processors.video.Qwen2VlVideoProcessorConfig;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Qwen2_5OmniProcessor's behaviour (transformers 5.18) for the thinker. Audio: decoded to mono 16 kHz,
 * Whisper log-mel features over the extractor's window (300 s for Qwen2.5-Omni-7B; a longer clip is
 * truncated to it, as transformers does), kept only for the valid frames (the tower reads nothing
 * else), and {@code <|AUDIO|>} expanded to ((L - 1) / 2 + 1 - 2) / 2 + 1 tokens. Images: the Qwen2-VL
 * image processor, {@code <|IMAGE|>} expanded to t*h*w/4. Videos: the Qwen2-VL video processor with
 * the Omni processor's own pixel budget (128*28*28 .. 768*28*28 a frame, which transformers passes
 * over the video processor's saved size), a file sampled at {@code fps} (2 by default), seconds per
 * temporal patch = temporal_patch_size / fps, and {@code <|VIDEO|>} expanded to t*h*w/4 tokens.
 *
 * <p>With {@code use_audio_in_video} (a per-request setting, vLLM's and transformers' name) the
 * video's own audio track is decoded from the same file and the {@code <|VIDEO|>} becomes
 * {@code <|audio_bos|>}, the video and audio tokens interleaved in chunks of seconds_per_chunk
 * ({@link TmropeIndex#interleave}), {@code <|audio_eos|>}; the prompt must hold
 * {@code <|vision_bos|><|VIDEO|><|vision_eos|>} around it, as transformers requires. A video without
 * an audio track is then an error naming the file (no silent fallback to vision only).
 */
final class Qwen25OmniProcessor implements FamilyProcessor {

    static final String INPUT_FEATURES = "input_features";
    static final String FEATURE_FRAMES = "feature_frames";
    static final String PIXEL_VALUES = "pixel_values";
    static final String GRID_THW = "grid_thw";
    static final String SECOND_PER_GRID = "video_second_per_grid";
    static final String USE_AUDIO_IN_VIDEO = "use_audio_in_video";
    static final Set<String> KWARGS = Set.of(USE_AUDIO_IN_VIDEO, "min_pixels", "max_pixels", "fps");
    /** Qwen2_5OmniProcessorKwargs' video defaults (size shortest/longest edge) and its hard-coded fps. */
    static final int VIDEO_MIN_PIXELS = 128 * 28 * 28;
    static final int VIDEO_MAX_PIXELS = 768 * 28 * 28;
    static final double DEFAULT_FPS = 2.0;

    private final Qwen25OmniConfig config;
    private final WhisperFeatureExtractor extractor;
    private final Qwen2VlImageProcessor images;
    private final Qwen2VlVideoProcessorConfig videoConfig;
    private final TmropeIndex index;
    private final String fingerprint;
    private final PromptReplacement audio;
    private final PromptReplacement image;
    private final PromptReplacement video;

    private Qwen25OmniProcessor(Qwen25OmniConfig config, WhisperFeatureExtractor extractor, Qwen2VlImageProcessor images,
                                Qwen2VlVideoProcessorConfig videoConfig, String fingerprint) {
        this.config = config;
        this.extractor = extractor;
        this.images = images;
        this.videoConfig = videoConfig;
        this.fingerprint = fingerprint;
        this.index = new TmropeIndex(config.vision().mergeSize(), config.positionIdPerSeconds(), config.positionsPerChunk());
        this.audio = new PromptReplacement("audio", "<|AUDIO|>", config.audioTokenId(), config.audioTokenId());
        this.image = new PromptReplacement("image", "<|IMAGE|>", config.imageTokenId(), config.imageTokenId());
        this.video = new PromptReplacement("video", "<|VIDEO|>", config.videoTokenId(), config.videoTokenId());
    }

    /**
     * Settings from preprocessor_config.json / video_preprocessor_config.json (the Hub) or the
     * feature_extractor, image_processor and video_processor entries of processor_config.json
     * (transformers 5).
     */
    static Qwen25OmniProcessor load(Path dir, Qwen25OmniConfig config) {
        var processor = ProcessorSettings.processorConfig(dir);
        ProcessorSettings fe = ProcessorSettings.find(dir, ProcessorSettings.PREPROCESSOR_CONFIG, processor, "feature_extractor");
        ProcessorSettings img = ProcessorSettings.find(dir, ProcessorSettings.PREPROCESSOR_CONFIG, processor, "image_processor");
        ProcessorSettings vid = ProcessorSettings.find(dir, "video_preprocessor_config.json", processor, "video_processor");
        if (fe == null || img == null) {
            throw new IllegalArgumentException("Qwen2.5-Omni model " + dir + " has no feature extractor or image processor"
                    + " settings (preprocessor_config.json, or processor_config.json's entries)");
        }
        vid = vid != null ? vid : img;
        WhisperFeatureExtractorConfig fc = WhisperFeatureExtractorConfig.fromJson(fe.node(), fe.source());
        if (fc.featureSize() != config.audio().numMelBins()) {
            throw new IllegalArgumentException(fe.source() + ": the feature extractor makes " + fc.featureSize()
                    + " mels but the audio tower takes " + config.audio().numMelBins());
        }
        Qwen2VlImageProcessorConfig ic = Qwen2VlImageProcessorConfig.fromJson(img.node(), img.source());
        Qwen2VlVideoProcessorConfig vc = Qwen2VlVideoProcessorConfig.fromJson(vid.node(), vid.source());
        var v = config.vision();
        for (int[] g : new int[][] {{ic.patchSize(), ic.mergeSize(), ic.temporalPatchSize()},
            {vc.patchSize(), vc.mergeSize(), vc.temporalPatchSize()}}) {
            if (g[0] != v.patchSize() || g[1] != v.mergeSize() || g[2] != v.temporalPatchSize()) {
                throw new IllegalArgumentException(dir + ": the image/video processor's patch/merge/temporal sizes "
                        + g[0] + "/" + g[1] + "/" + g[2] + " differ from the vision tower's");
            }
        }
        return new Qwen25OmniProcessor(config, new WhisperFeatureExtractor(fc), new Qwen2VlImageProcessor(ic), vc,
                fe.node() + "|" + img.node() + "|" + vid.node());
    }

    @Override
    public List<String> modalities() {
        return List.of("image", "audio", "video");
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    @Override
    public Set<String> processorKwargs() {
        return KWARGS;
    }

    @Override
    public ProcessedItem process(String hash, String modality, MediaSource bytes, MediaLimits limits) {
        return process(hash, modality, bytes, limits, ProcessorKwargs.NONE);
    }

    @Override
    public ProcessedItem process(String hash, String modality, MediaSource bytes, MediaLimits limits,
                                 ProcessorKwargs kwargs) {
        kwargs.requireOnly(KWARGS, "Qwen2.5-Omni's processor");
        switch (modality) {
            case "audio" -> {
                AudioClip clip = MediaIO.readAudio(bytes, extractor.config().samplingRate(), limits);
                return processedAudio(hash, bytes.name(), clip.samples());
            }
            case "image" -> {
                return processedImage(hash, MediaIO.readImage(bytes, limits), kwargs);
            }
            case "video" -> {
                double fps = fps(kwargs);
                Qwen2VlVideoProcessor sampler = new Qwen2VlVideoProcessor(videoConfig.withSamplingRule(fps, null))
                        .withOverrides(null, null, true, null, null, null, null);
                VideoClip clip = MediaIO.readVideo(bytes, sampler.videoSampling(), limits);
                if (clip.numFrames() == 0) {
                    throw new IllegalArgumentException("video " + bytes.name() + " has no decodable frames");
                }
                float[] track = null;
                if (useAudioInVideo(kwargs)) {
                    track = videoAudio(bytes, limits);
                }
                return processedVideo(hash, bytes.name(), clip.frames(), track, kwargs);
            }
            default -> throw new IllegalArgumentException("this Qwen2.5-Omni model takes image, audio and video, not "
                    + modality);
        }
    }

    private float[] videoAudio(MediaSource bytes, MediaLimits limits) {
        try {
            return MediaIO.readAudio(bytes, extractor.config().samplingRate(), limits).samples();
        } catch (RuntimeException e) {
            if (String.valueOf(e.getMessage()).contains("no audio stream")) {
                throw new IllegalArgumentException("video " + bytes.name() + " has no audio track, but use_audio_in_video"
                        + " is on; turn it off (mm_processor_kwargs {\"use_audio_in_video\": false}) to use the frames only", e);
            }
            throw e;
        }
    }

    /** An audio item of mono samples at 16 kHz. */
    ProcessedItem processedAudio(String hash, String name, float[] samples) {
        Map<String, ItemTensor> t = new HashMap<>();
        putFeatures(t, name, samples);
        return new ProcessedItem(hash, "audio", t);
    }

    ProcessedItem processedImage(String hash, RgbImage rgb, ProcessorKwargs kwargs) {
        Qwen2VlImageProcessor p = images;
        Integer min = kwargs.optionalPositiveInt("min_pixels");
        Integer max = kwargs.optionalPositiveInt("max_pixels");
        if (min != null || max != null) {
            Qwen2VlImageProcessorConfig c = images.config();
            p = new Qwen2VlImageProcessor(new Qwen2VlImageProcessorConfig(c.patchSize(), c.temporalPatchSize(),
                    c.mergeSize(), min != null ? min : c.minPixels(), max != null ? max : c.maxPixels(), c.doResize(),
                    c.resample(), c.doRescale(), c.rescaleFactor(), c.doNormalize(), c.imageMean(), c.imageStd()));
        }
        Qwen2VlPatches patches = p.process(rgb);
        return new ProcessedItem(hash, "image", Map.of(
                PIXEL_VALUES, new ItemTensor(patches.pixelValues(), new int[] {patches.numPatches(), p.patchDim()}),
                GRID_THW, ItemTensor.ofInts(new int[] {patches.gridT(), patches.gridH(), patches.gridW()}, 3)));
    }

    /**
     * A video item of already chosen frames (taken to be {@code fps} apart) and, for use_audio_in_video,
     * its audio track (mono 16 kHz; null for none).
     */
    ProcessedItem processedVideo(String hash, String name, List<RgbImage> frames, float[] track, ProcessorKwargs kwargs) {
        if (useAudioInVideo(kwargs) != (track != null)) {
            throw new IllegalArgumentException("video " + name + ": use_audio_in_video needs the video's audio track");
        }
        Integer min = kwargs.optionalPositiveInt("min_pixels");
        Integer max = kwargs.optionalPositiveInt("max_pixels");
        Qwen2VlVideoProcessor p = new Qwen2VlVideoProcessor(videoConfig).withOverrides(
                min != null ? min : VIDEO_MIN_PIXELS, max != null ? max : VIDEO_MAX_PIXELS);
        Qwen2VlPatches patches = p.process(frames);
        Map<String, ItemTensor> t = new HashMap<>();
        t.put(PIXEL_VALUES, new ItemTensor(patches.pixelValues(), new int[] {patches.numPatches(), p.patchDim()}));
        t.put(GRID_THW, ItemTensor.ofInts(new int[] {patches.gridT(), patches.gridH(), patches.gridW()}, 3));
        t.put(SECOND_PER_GRID, new ItemTensor(new float[] {(float) (videoConfig.temporalPatchSize() / fps(kwargs))},
                new int[] {1}));
        if (track != null) {
            putFeatures(t, "the audio track of video " + name, track);
        }
        return new ProcessedItem(hash, "video", t);
    }

    private void putFeatures(Map<String, ItemTensor> t, String name, float[] samples) {
        int valid = extractor.numValidFrames(samples.length);
        if (Qwen2AudioLengths.audioTokens(valid) <= 0) {
            throw new IllegalArgumentException("audio " + name + " is too short: " + samples.length + " samples make "
                    + valid + " mel frames, and Qwen2.5-Omni needs at least 3 for one audio token");
        }
        // the valid frames of the full window's features, without transforming the window's padding
        t.put(INPUT_FEATURES, new ItemTensor(extractor.extractFrames(samples, valid),
                new int[] {extractor.numMels(), valid}));
        t.put(FEATURE_FRAMES, ItemTensor.ofInts(new int[] {valid}, 1));
    }

    /** TMRoPE for this config: the video-with-audio layout here and the model's prompt positions. */
    TmropeIndex index() {
        return index;
    }

    WhisperFeatureExtractor extractor() {
        return extractor;
    }

    static boolean useAudioInVideo(ProcessorKwargs kwargs) {
        Object v = kwargs.values().get(USE_AUDIO_IN_VIDEO);
        if (v == null) {
            return false;
        }
        if (!(v instanceof Boolean b)) {
            throw new IllegalArgumentException("mm_processor_kwargs: \"use_audio_in_video\" must be true or false, got " + v);
        }
        return b;
    }

    private static double fps(ProcessorKwargs kwargs) {
        return kwargs.positiveNumber("fps", DEFAULT_FPS);
    }

    @Override
    public PromptReplacement placeholder(String modality) {
        return switch (modality) {
            case "audio" -> audio;
            case "image" -> image;
            case "video" -> video;
            default -> throw new IllegalArgumentException("this Qwen2.5-Omni model takes image, audio and video, not "
                    + modality);
        };
    }

    @Override
    public ItemReplacement replacement(ProcessedItem item) {
        if (item.modality().equals("audio")) {
            return ItemReplacement.repeat(config.audioTokenId(), audioTokens(item));
        }
        int[] g = item.tensor(GRID_THW).ints();
        int n = config.visionTokens(g[0], g[1], g[2]);
        int token = item.modality().equals("video") ? config.videoTokenId() : config.imageTokenId();
        if (!item.tensors().containsKey(INPUT_FEATURES)) {
            return ItemReplacement.repeat(token, n);
        }
        int a = audioTokens(item);
        int[] ids = new int[n + a + 2];
        ids[0] = config.audioStartTokenId();
        int p = 1;
        for (int[] seg : layout(item)) {
            for (int i = seg[1]; i < seg[2]; i++) {
                ids[p++] = seg[0] == 0 ? token : config.audioTokenId();
            }
        }
        ids[p] = config.audioEndTokenId();
        boolean[] embed = new boolean[ids.length];
        for (int i = 1; i < ids.length - 1; i++) {
            embed[i] = true;
        }
        return new ItemReplacement(ids, embed);
    }

    /** The interleaving of a video-with-audio item: segments {0 video / 1 audio, from, to}. */
    List<int[]> layout(ProcessedItem item) {
        int[] g = item.tensor(GRID_THW).ints();
        float spg = item.tensor(SECOND_PER_GRID).data()[0];
        return index.interleave(index.vision(0, g[0], g[1], g[2], spg)[0], 0, audioTokens(item));
    }

    static int audioTokens(ProcessedItem item) {
        return Qwen2AudioLengths.audioTokens(item.tensor(FEATURE_FRAMES).ints()[0]);
    }

    /** The most tokens one item can take: a 300 s clip, or a video at the budget and max_frames with its audio. */
    long maxTokensPerItem() {
        long audioMax = Qwen2AudioLengths.audioTokens(extractor.numFrames());
        int factor = images.config().patchSize() * images.config().mergeSize();
        long image = Math.max(1, images.config().maxPixels() / ((long) factor * factor));
        long steps = (videoConfig.maxFrames() + videoConfig.temporalPatchSize() - 1) / videoConfig.temporalPatchSize();
        long video = steps * Math.max(1, VIDEO_MAX_PIXELS / ((long) factor * factor)) + audioMax + 2;
        return Math.max(audioMax, Math.max(image, video));
    }
}
