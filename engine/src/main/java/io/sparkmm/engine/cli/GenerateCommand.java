package io.sparkmm.engine.cli;

import io.sparkmm.engine.Engine;
import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.EngineMetrics;
import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.RequestHandle;
import io.sparkmm.engine.checkpoint.ModelLocation;
import io.sparkmm.engine.checkpoint.GenerationConfig;
import io.sparkmm.engine.generate.GenerationResult;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.ProcessorKwargsJson;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.engine.structured.StructuredOutputs;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.kernels.Backends;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code generate}: one prompt, or every line of a JSONL file, through a checkpoint directory.
 * Requests run through the paged engine (all lines of a file batched together), or with
 * {@code --naive} through the one-at-a-time full-recompute oracle. Output: text, or with
 * {@code --json} one JSON object per request, in input order.
 */
final class GenerateCommand {

    static final String USAGE = """
            generate --model DIR (--prompt TEXT [--chat] [--system TEXT] | --prompt-ids 1,2,3 | --prompts-file FILE.jsonl)
                     [--image PATH]... [--audio PATH]... [--video PATH]... [--max-tokens N] [--temperature T] [--top-p P] [--top-k K] [--min-p P] [--seed S]
                     [--logprobs K] [--max-batched-tokens N] [--max-seqs N] [--kv-blocks N | --kv-cache-bytes B]
                     [--block-size N] [--kv-cache-dtype f32|bf16|f16] [--encoder-cache-rows N] [--no-prefix-cache] [--no-prefix-wait]
                     [--naive] [--device auto|cpu|cpu-reference] [--encoder-onnx FILE.onnx] [--mm-processor-kwargs JSON] [--use-audio-in-video]
                     [--structured-outputs JSON | --response-format JSON] [--json]
              Sampling defaults come from the model's generation_config.json, else temperature 1,
              top-p 1, top-k off; --temperature 0 is greedy. max-tokens defaults to 16.
              A prompts file has one JSON object per line: {"prompt": TEXT} or {"prompt_ids": [..]}, with
              optional "chat", "system", "images", "audio", "video" (a path or a list of paths) and sampling fields (temperature, top_p, top_k, min_p, seed,
              max_tokens, min_tokens, stop, stop_token_ids, ignore_eos, logprobs, repetition_penalty,
              presence_penalty, frequency_penalty, structured_outputs, response_format).
              --structured-outputs '{"json": SCHEMA}' | '{"regex": "..."}' | '{"choice": ["a", "b"]}' |
              '{"json_object": true}' (vLLM's structured_outputs) or --response-format '{"type": "json_schema",
              "json_schema": {"name": "x", "schema": SCHEMA}}' | '{"type": "json_object"}' (OpenAI's) constrain
              every request's output; a line's own "structured_outputs" or "response_format" replaces it.
              --mm-processor-kwargs '{"min_pixels": 3136, "max_pixels": 200704}' sets the model's media
              processor (vLLM's mm_processor_kwargs; a flat object of numbers, strings, booleans) for every
              request; a prompts-file line's own "mm_processor_kwargs" is merged over it (the line's keys
              win, as in vLLM). A key the model's processor does not take fails that request.
              --use-audio-in-video is {"use_audio_in_video": true} in it (Qwen2.5-Omni: a video's own audio track
              is read from the file and interleaved with its frames).
              --no-prefix-wait: a request whose prefix another request is computing right now computes it
              too, instead of waiting a step for it (the tokens are the same either way).
              --encoder-onnx FILE.onnx runs the model's media encoder from an ONNX file with ONNX Runtime instead
              of the checkpoint's tower (LLaVA: pixel_values -> image_features after the projector; Qwen2-Audio:
              input_features + feature_attention_mask -> audio_features after the projector); its inputs and
              outputs are checked against the model before any request runs.""";

    private static final Set<String> VALUED = Set.of("model", "prompt", "system", "prompt-ids", "prompts-file",
            "image", "audio", "video",
            "max-tokens", "temperature", "top-p", "top-k", "min-p", "seed", "logprobs", "device", "encoder-onnx",
            "max-batched-tokens", "max-seqs", "kv-blocks", "kv-cache-bytes", "block-size", "kv-cache-dtype", "encoder-cache-rows",
            "mm-processor-kwargs", "structured-outputs", "response-format");
    private static final Set<String> FLAGS = Set.of("chat", "json", "no-prefix-cache", "no-prefix-wait", "naive",
            "use-audio-in-video");

    private GenerateCommand() {
    }

    static void run(String[] args, PrintStream out, PrintStream err) throws Exception {
        CliArgs a = CliArgs.parse(args, 1, VALUED, FLAGS);
        Path dir = ModelLocation.resolve(a.require("model"));
        if (!Files.isDirectory(dir)) {
            throw new CliArgs.UsageException("--model " + dir + " is not a directory");
        }
        int sources = (a.get("prompt") != null ? 1 : 0) + (a.get("prompt-ids") != null ? 1 : 0)
                + (a.get("prompts-file") != null ? 1 : 0);
        if (sources != 1) {
            throw new CliArgs.UsageException("give exactly one of --prompt, --prompt-ids or --prompts-file");
        }
        if (a.get("prompts-file") != null && !(a.all("image").isEmpty() && a.all("audio").isEmpty() && a.all("video").isEmpty())) {
            throw new CliArgs.UsageException("with --prompts-file, give media per line (\"images\", \"audio\", \"video\")");
        }
        if (a.get("prompt-ids") != null && (a.flag("chat") || a.get("system") != null)) {
            throw new CliArgs.UsageException("--chat and --system apply to --prompt text, not to --prompt-ids");
        }
        if (a.get("kv-blocks") != null && a.get("kv-cache-bytes") != null) {
            throw new CliArgs.UsageException("give --kv-blocks or --kv-cache-bytes, not both");
        }
        EngineConfig engineConfig = engineConfig(a);
        ProcessorKwargs kwargs = processorKwargs(a);
        String device = a.get("device") != null ? a.get("device") : EngineOptions.defaultDevice();
        EngineOptions options = EngineOptions.defaults().withDevice(device).withEngine(engineConfig)
                .withEncoderOnnx(a.get("encoder-onnx"));
        try (LoadedModel loaded = EngineSession.loadModel(dir.toString(), device, options.encoderOnnx())) {
            SamplingParams defaults = samplingParams(a, loaded.checkpoint().generationConfig());
            List<PromptLine> lines = promptLines(a, defaults, kwargs);
            List<EngineResult> results;
            if (a.flag("naive")) {
                MultimodalProcessor processor = new MultimodalProcessor(loaded,
                        new ProcessorCache(options.processorCacheBytes()), options.mediaLimits());
                results = runNaive(loaded, processor, lines);
            } else {
                try (EngineSession session = EngineSession.over(loaded, options,
                        new ProcessorCache(options.processorCacheBytes()))) {
                    results = runEngine(session, lines, err);
                }
            }
            for (EngineResult r : results) {
                if (a.flag("json")) {
                    out.println(ResultJson.write(r));
                } else if (!r.ok()) {
                    out.println("error: " + r.error());
                } else {
                    out.println(r.text() != null ? r.text() : java.util.Arrays.toString(r.tokenIds()));
                }
            }
            if (lines.size() == 1 && !results.get(0).ok()) {
                throw new IllegalArgumentException(results.get(0).error());
            }
        }
    }

    private static List<PromptLine> promptLines(CliArgs a, SamplingParams defaults, ProcessorKwargs kwargs)
            throws Exception {
        if (a.get("prompts-file") != null) {
            Path file = Path.of(a.get("prompts-file"));
            if (!Files.isRegularFile(file)) {
                throw new CliArgs.UsageException("--prompts-file " + file + " is not a file");
            }
            List<PromptLine> lines = new ArrayList<>();
            int n = 0;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                n++;
                if (!line.isBlank()) {
                    lines.add(PromptLine.parse(n, line, defaults, a.flag("chat"), kwargs));
                }
            }
            return lines;
        }
        if (a.get("prompt") != null) {
            return List.of(new PromptLine(1, a.get("prompt"), null, a.flag("chat"), a.get("system"), a.all("image"),
                    a.all("audio"), a.all("video"), defaults, kwargs, null));
        }
        return List.of(new PromptLine(1, null, parseIds(a.get("prompt-ids")), false, null, a.all("image"),
                a.all("audio"), a.all("video"), defaults, kwargs, null));
    }

    /** The flag's settings; its JSON is checked before the model loads, so a typo costs no load time. */
    static ProcessorKwargs processorKwargs(CliArgs a) {
        try {
            ProcessorKwargs kwargs = ProcessorKwargsJson.parse(a.get("mm-processor-kwargs"));
            return a.flag("use-audio-in-video")
                    ? kwargs.overriddenBy(new ProcessorKwargs(java.util.Map.of("use_audio_in_video", true))) : kwargs;
        } catch (IllegalArgumentException e) {
            throw new CliArgs.UsageException("--mm-processor-kwargs: " + e.getMessage());
        }
    }

    /** The engine request of a line; throws for that line only (bad prompt, bad or missing media). */
    private static EngineRequest request(MultimodalProcessor processor, PromptLine line) {
        List<MediaSource> images = line.images().stream().map(MediaSource::ofPath).toList();
        List<MediaSource> audio = line.audio().stream().map(MediaSource::ofPath).toList();
        List<MediaSource> video = line.video().stream().map(MediaSource::ofPath).toList();
        PromptInput input = new PromptInput(line.prompt(), line.promptIds(), line.chat(), line.system(), images, audio, video,
                line.processorKwargs());
        return processor.build("line-" + line.lineNumber(), input, line.sampling());
    }

    private static String lineError(PromptLine line, RuntimeException e) {
        return "line " + line.lineNumber() + ": " + e.getMessage();
    }

    private static List<EngineResult> runEngine(EngineSession session, List<PromptLine> lines, PrintStream err)
            throws Exception {
        List<Object> pending = new ArrayList<>();
        MultimodalProcessor processor = session.requests();
        Engine engine = session.engine();
        for (PromptLine line : lines) {
            String id = "line-" + line.lineNumber();
            if (line.error() != null) {
                pending.add(EngineResult.failed(id, 0, line.error()));
                continue;
            }
            try {
                pending.add(engine.submit(request(processor, line)));
            } catch (RuntimeException e) {
                pending.add(EngineResult.failed(id, 0, lineError(line, e)));
            }
        }
        List<EngineResult> results = new ArrayList<>();
        for (Object p : pending) {
            results.add(p instanceof RequestHandle h ? h.result().get() : (EngineResult) p);
        }
        if (lines.size() > 1) {
            EngineMetrics m = engine.metrics();
            long failed = results.stream().filter(r -> !r.ok()).count();
            err.printf("engine: %d requests (%d failed), %d steps, %d tokens computed, %d generated, "
                            + "%.1f generated tokens/s, prefix-cache hit rate %.1f%%, %d preemptions, "
                            + "KV peak %d of %d blocks (%d bytes)%n",
                    lines.size(), failed, m.steps(), m.scheduledTokens(), m.generatedTokens(),
                    m.generatedTokensPerSecond(), 100 * m.prefixHitRate(), m.preemptions(), m.kvBlocksPeak(),
                    m.kvBlocksTotal(), m.kvCacheBytes());
        }
        return results;
    }

    private static List<EngineResult> runNaive(LoadedModel loaded, MultimodalProcessor processor, List<PromptLine> lines) {
        NaiveGenerator gen = new NaiveGenerator(loaded.model(), loaded.eosTokenIds());
        List<EngineResult> results = new ArrayList<>();
        for (PromptLine line : lines) {
            String id = "line-" + line.lineNumber();
            if (line.error() != null) {
                results.add(EngineResult.failed(id, 0, line.error()));
                continue;
            }
            int[] prompt = null;
            try {
                if (line.sampling().structuredOutputs() != null) {
                    throw new IllegalArgumentException("structured output runs in the paged engine; drop --naive");
                }
                EngineRequest req = request(processor, line);
                prompt = req.promptTokenIds();
                GenerationResult r = gen.generate(prompt, req.media(), line.sampling());
                String text = loaded.hasTokenizer() ? loaded.tokenizer().decode(r.textTokenIds(), true) : null;
                results.add(new EngineResult(id, r.tokenIds(), text, r.finishReason(), null, prompt.length,
                        r.tokenIds().length, 0, r.logprobs(), null));
            } catch (RuntimeException e) {
                results.add(EngineResult.failed(id, prompt == null ? 0 : prompt.length, lineError(line, e)));
            }
        }
        return results;
    }

    static int[] parseIds(String csv) {
        String[] parts = csv.split(",");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new CliArgs.UsageException("--prompt-ids expects comma-separated integers, got '" + parts[i] + "'");
            }
        }
        return ids;
    }

    static EngineConfig engineConfig(CliArgs a) {
        EngineConfig c = EngineConfig.defaults();
        if (a.integer("max-batched-tokens") != null) c = c.withMaxNumBatchedTokens(a.integer("max-batched-tokens"));
        if (a.integer("max-seqs") != null) c = c.withMaxNumSeqs(a.integer("max-seqs"));
        if (a.integer("block-size") != null) c = c.withBlockSize(a.integer("block-size"));
        if (a.integer("kv-blocks") != null) c = c.withNumKvBlocks(a.integer("kv-blocks"));
        if (a.longValue("kv-cache-bytes") != null) c = c.withKvCacheBytes(a.longValue("kv-cache-bytes"));
        if (a.flag("no-prefix-cache")) c = c.withPrefixCaching(false);
        if (a.flag("no-prefix-wait")) c = c.withPrefixWait(false);
        if (a.integer("encoder-cache-rows") != null) c = c.withEncoderCacheRows(a.integer("encoder-cache-rows"));
        if (a.get("kv-cache-dtype") != null) {
            try {
                c = c.withKvCacheDtype(EngineConfig.parseKvDtype(a.get("kv-cache-dtype")));
            } catch (IllegalArgumentException e) {
                throw new CliArgs.UsageException("--" + e.getMessage());
            }
        }
        return c;
    }

    /** The run's constraint from --structured-outputs or --response-format (not both); a bad one is a usage error. */
    static StructuredOutputs structuredOutputs(CliArgs a) {
        String vllm = a.get("structured-outputs");
        String openAi = a.get("response-format");
        if (vllm != null && openAi != null) {
            throw new CliArgs.UsageException("give --structured-outputs or --response-format, not both");
        }
        try {
            if (vllm != null) {
                return StructuredOutputs.parseVllm(vllm);
            }
            return openAi == null ? null : StructuredOutputs.fromOpenAi(new com.fasterxml.jackson.databind.ObjectMapper().readTree(openAi));
        } catch (IllegalArgumentException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CliArgs.UsageException((vllm != null ? "--structured-outputs: " : "--response-format: ") + e.getMessage());
        }
    }

    static SamplingParams samplingParams(CliArgs a, GenerationConfig gen) {
        Double t = a.number("temperature");
        Double p = a.number("top-p");
        Integer k = a.integer("top-k");
        Double minP = a.number("min-p");
        Integer max = a.integer("max-tokens");
        Integer logprobs = a.integer("logprobs");
        return SamplingParams.builder()
                .temperature(t != null ? t : gen.temperature() != null ? gen.temperature() : 1.0)
                .topP(p != null ? p : gen.topP() != null ? gen.topP() : 1.0)
                .topK(k != null ? k : gen.topK() != null ? gen.topK() : 0)
                .minP(minP != null ? minP : 0)
                .seed(a.longValue("seed"))
                .maxTokens(max != null ? max : 16)
                .logprobs(logprobs != null ? logprobs : 0)
                .structuredOutputs(structuredOutputs(a))
                .build();
    }
}
