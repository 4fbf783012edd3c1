package io.sparkmm.connector.generate;

import io.sparkmm.engine.EngineConfig;
import io.sparkmm.engine.multimodal.ProcessorKwargsJson;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Every option of {@link MultimodalGenerator} and of the SQL function {@code mm_generate},
 * declared once: name, default, doc and parser. The generator's typed setters and the SQL
 * options map (string values) both land here, so a name means the same thing everywhere and an
 * unknown name or a bad value fails with a message naming the option and the value.
 */
public final class GeneratorOptions {

    /**
     * The value type of an option, which picks its typed Spark ML Param (see {@link GeneratorParams}).
     * Declared rather than read off the default because null and empty-list defaults carry no type.
     */
    public enum Kind { STRING, INT, LONG, DOUBLE, BOOLEAN, ENUM, STRING_LIST, INT_LIST }

    /** One option. {@code parse} turns the string form (SQL options, {@code set(name, value)}) into T. */
    public record Option<T>(String name, T defaultValue, String doc, Function<String, T> parser, Kind kind) {
        public T parse(String value) {
            if (value == null) {
                throw new IllegalArgumentException("sparkmm: option '" + name + "' must not be null");
            }
            try {
                return parser.apply(value.trim());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("sparkmm: option '" + name + "' has a bad value '" + value + "': "
                        + e.getMessage(), e);
            }
        }
    }

    /** How rows are placed into tasks before generation (see {@link #AFFINITY}). */
    public enum Affinity {
        /** the input's partitions and order */
        NONE,
        /** by media content (or path) */
        MEDIA,
        /** by the prompt's leading part: media, else the start of the text */
        PREFIX
    }

    /** What happens to a row whose input is bad or whose generation fails. */
    public enum Mode {
        /** the row's result has {@code error} set and {@code text} null; the job goes on */
        PERMISSIVE,
        /** the task fails with a message naming the row */
        FAILFAST
    }

    private static final Map<String, Option<?>> BY_NAME = new LinkedHashMap<>();

    public static final Option<String> MODEL_PATH = str("modelPath", null,
            "Hugging Face checkpoint directory, readable at the same path on every executor, or classpath:NAME "
                    + "for a checkpoint embedded in the application jar (e.g. the examples' classpath:default-model); "
                    + "mm_generate falls back to the Spark conf spark.sparkmm.model");
    public static final Option<String> PROMPT_COL = str("promptCol", null,
            "string column holding each row's prompt text (give this or promptTemplate)");
    public static final Option<String> PROMPT_TEMPLATE = str("promptTemplate", null,
            "prompt text with {column} slots filled from the row, e.g. 'Describe {name}' (give this or promptCol)");
    public static final Option<String> SYSTEM_PROMPT = str("systemPrompt", null,
            "system message put before the user message when chatTemplate is on");
    public static final Option<Boolean> CHAT_TEMPLATE = option("chatTemplate", true,
            "render the prompt through the model's chat template as one user message (media first)",
            GeneratorOptions::bool);
    public static final Option<String> IMAGE_COL = str("imageCol", null,
            "image column: binary content, a path string, or an array of either; null = no image");
    public static final Option<String> AUDIO_COL = str("audioCol", null,
            "audio column: binary content, a path string, or an array of either; null = no audio");
    public static final Option<String> VIDEO_COL = str("videoCol", null,
            "video column: binary content, a path string, or an array of either; null = no video");
    public static final Option<String> MEDIA_MODALITY = option("mediaModality", "image",
            "mm_generate only: what its media argument holds: image | audio | video (the generator names a column"
                    + " per modality instead)", GeneratorOptions::modality);
    public static final Option<String> MM_PROCESSOR_KWARGS = option("mmProcessorKwargs", null,
            "settings of the model's media processor for every row (vLLM's mm_processor_kwargs): a JSON object of "
                    + "numbers, strings and booleans, e.g. '{\"min_pixels\": 3136, \"max_pixels\": 200704}'; a key the "
                    + "model's processor does not take is each row's error naming the keys it takes. Per request, "
                    + "not per engine: generations with different settings share the executor's engine",
            GeneratorOptions::processorKwargs);
    public static final Option<Integer> MAX_TOKENS = option("maxTokens", 16,
            "the most tokens generated per row", Integer::valueOf);
    public static final Option<Double> TEMPERATURE = option("temperature", 1.0,
            "sampling temperature; 0 = greedy (vLLM's default is 1)", Double::valueOf);
    public static final Option<Double> TOP_P = option("topP", 1.0, "nucleus sampling mass (1 = off)", Double::valueOf);
    public static final Option<Integer> TOP_K = option("topK", 0, "keep the K most likely tokens (0 = off)",
            Integer::valueOf);
    public static final Option<Double> MIN_P = option("minP", 0.0,
            "drop tokens whose probability is below minP times the most likely one's (0 = off)", Double::valueOf);
    public static final Option<Double> REPETITION_PENALTY = option("repetitionPenalty", 1.0,
            "> 1 discourages tokens already in the prompt or the output, < 1 favours them (1 = off)",
            Double::valueOf);
    public static final Option<Double> PRESENCE_PENALTY = option("presencePenalty", 0.0,
            "in [-2, 2]: subtracted from the logit of every token already generated (0 = off)", Double::valueOf);
    public static final Option<Double> FREQUENCY_PENALTY = option("frequencyPenalty", 0.0,
            "in [-2, 2]: subtracted once per earlier occurrence of the token in the output (0 = off)",
            Double::valueOf);
    public static final Option<Long> SEED = option("seed", 0L,
            "base seed; each row samples with hash(seed, prompt, media bytes or paths), so a retried or "
                    + "speculative task reproduces its rows; change it to draw different samples", Long::valueOf);
    public static final Option<Integer> MIN_TOKENS = option("minTokens", 0,
            "no stop (EOS, stopTokenIds, stop strings) takes effect before this many tokens", Integer::valueOf);
    public static final Option<List<String>> STOP = option("stop", List.of(),
            "strings that end generation (cut from the text); string form: items separated by '|'",
            GeneratorOptions::list, Kind.STRING_LIST);
    public static final Option<List<Integer>> STOP_TOKEN_IDS = option("stopTokenIds", List.of(),
            "token ids that end generation besides the model's EOS ids; string form: ids separated by '|' or ','",
            GeneratorOptions::intList, Kind.INT_LIST);
    public static final Option<Boolean> IGNORE_EOS = option("ignoreEos", false,
            "keep generating past EOS (stopTokenIds and stop strings still stop)", GeneratorOptions::bool);
    public static final Option<Integer> LOGPROBS = option("logprobs", 0,
            "top log-probabilities returned per generated token, 0..20; when > 0 the output struct gets a "
                    + "logprobs field (array per token of {token_id, logprob}), absent otherwise", Integer::valueOf);
    public static final Option<String> STRUCTURED_OUTPUTS = option("structuredOutputs", null,
            "constrains every row's text (vLLM's structured_outputs, as JSON): '{\"json\": SCHEMA}', "
                    + "'{\"regex\": \"...\"}', '{\"choice\": [\"a\", \"b\"]}' or '{\"json_object\": true}'; the text then "
                    + "matches it, or the row ends with finish_reason length", GeneratorOptions::structuredOutputs);
    public static final Option<String> RESPONSE_SCHEMA = option("responseSchema", null,
            "a Spark DDL struct, e.g. 'label STRING, confidence DOUBLE, tags ARRAY<STRING>': the text is constrained to "
                    + "a JSON object with exactly those fields, and the output struct gets a field 'parsed' of that type "
                    + "(null, with the error set, when the response could not be completed)", GeneratorOptions::responseSchema);
    public static final Option<String> RESPONSE_JSON_SCHEMA = option("responseJsonSchema", null,
            "a JSON Schema the text must match (vLLM's structured_outputs json); the text stays a string",
            GeneratorOptions::jsonSchema);
    public static final Option<List<String>> RESPONSE_CHOICES = option("responseChoices", List.of(),
            "the text must be one of these strings; string form: items separated by '|'", GeneratorOptions::list,
            Kind.STRING_LIST);
    public static final Option<String> RESPONSE_REGEX = str("responseRegex", null,
            "a regular expression the whole text must match (Python/Java syntax, no back-references or look-around)");
    public static final Option<String> OUTPUT_COL = str("outputCol", "generation",
            "name of the struct column added: {text, finish_reason, prompt_tokens, completion_tokens, "
                    + "cached_tokens, error} (+ logprobs when logprobs > 0)");
    public static final Option<Mode> MODE = option("mode", Mode.PERMISSIVE,
            "PERMISSIVE: a bad row gets error set and text null; FAILFAST: the task fails naming the row",
            v -> Mode.valueOf(v.toUpperCase(Locale.ROOT)));
    public static final Option<String> KEY_COL = str("keyCol", null,
            "optional column whose value names a row in errors (else its media path, else its index in the partition)");
    public static final Option<Affinity> AFFINITY = option("affinity", Affinity.NONE,
            "MultimodalGenerator only: none | media | prefix. media: rows with the same media (content hash, or the "
                    + "path when the column holds paths) go to one task, next to each other, so they meet one engine's "
                    + "prefix, encoder and processor caches; prefix: rows go together by the leading part of their "
                    + "prompt (the media if any, which chat templates put first, else the first "
                    + AffinityOrder.PREFIX_CHARS + " characters of the prompt text), sorted by media and prompt text. "
                    + "Either costs a shuffle into as many partitions as the input has, and the output comes in that "
                    + "order, not the input's; none keeps the input's partitions and order",
            v -> Affinity.valueOf(v.toUpperCase(Locale.ROOT)));
    public static final Option<Integer> LOOK_AHEAD = option("lookAhead", 64,
            "rows per task in flight in the engine at once; results still come out in input order",
            Integer::valueOf);
    public static final Option<Long> KV_CACHE_BYTES = option("kvCacheBytes", 0L,
            "KV pool bytes of the executor's engine (0 = a quarter of the device's memory budget; on CPU the direct "
                    + "memory the JVM may allocate)", Long::valueOf);
    public static final Option<String> KV_CACHE_DTYPE = option("kvCacheDtype", "f32",
            "element type of the executor engine's KV pool: f32 | bf16 | f16 (16-bit pools hold twice the tokens; "
                    + "f32 was the fastest on CPU)", v -> EngineConfig.parseKvDtype(v).name().toLowerCase(Locale.ROOT));
    public static final Option<Integer> MAX_BATCHED_TOKENS = option("maxBatchedTokens", 2048,
            "engine token budget per step (prefill chunks + decodes)", Integer::valueOf);
    public static final Option<Integer> ENCODER_CACHE_ROWS = option("encoderCacheRows", 0,
            "the executor engine's cache of encoder outputs, in embedding rows (0 = its step budget, raised to the"
                    + " model's largest media item, as vLLM sizes it); asking several questions of each of many images, make"
                    + " it hold them all (rows per image x distinct images in flight) so each is encoded once",
            Integer::valueOf);
    public static final Option<Boolean> PREFIX_WAIT = option("prefixWait", true,
            "the executor engine waits a step for prompt-prefix blocks another row is computing in that step and "
                    + "then reuses them, rather than computing them a second time (rows submitted together that share"
                    + " an image or a prefix compute it once; the same tokens either way); false turns it off",
            GeneratorOptions::bool);
    public static final Option<Integer> MAX_SEQS = option("maxSeqs", 256, "most requests running in the engine at once",
            Integer::valueOf);
    public static final Option<Long> PROCESSOR_CACHE_BYTES = option("processorCacheBytes", 512L << 20,
            "bytes of the executor-wide cache of processed media, one per executor JVM: the first engine sizes it, "
                    + "and a later generation asking for another size fails naming both values",
            Long::valueOf);
    public static final Option<List<String>> ALLOWED_ROOTS = option("allowedRoots", List.of(),
            "when non-empty, media paths must lie under one of these prefixes (else that row's error); "
                    + "string form separated by '|'", GeneratorOptions::list, Kind.STRING_LIST);
    public static final Option<String> DEVICE = str("device", "auto",
            "compute backend of the engine: auto | cpu | cpu-reference | cuda | cuda:N; auto = the executor's "
                    + "sparkmm.device system property if set, else the task's GPU when Spark assigned one and a cuda "
                    + "backend is available, else the fastest available device; cuda = the task's GPU "
                    + "(spark.task.resource.gpu.amount), GPU 0 without GPU resources "
                    + "(the old words reference and simd still mean cpu-reference and cpu)");
    public static final Option<String> ENCODER_ONNX = str("encoderOnnx", null,
            "an ONNX file (readable at the same path on every executor) that the executor engine runs with ONNX "
                    + "Runtime as the model's media encoder instead of the checkpoint's tower: LLaVA pixel_values -> "
                    + "image_features after the projector, Qwen2-Audio input_features + feature_attention_mask -> "
                    + "audio_features after the projector; its names and shapes are checked against the model when "
                    + "the engine starts, and a file that does not fit fails the task naming it. Its execution "
                    + "provider follows device (CUDA needs the onnxruntime_gpu jar)");
    public static final Option<Long> ROW_TIMEOUT_SECONDS = option("rowTimeoutSeconds", 0L,
            "seconds a row may wait for its result after it is submitted to the engine (0 = no limit; a row "
                    + "whose engine stops fails at once either way); a row over the limit is cancelled and gets an "
                    + "error naming it and the limit (FAILFAST: the task fails)", Long::valueOf);

    // token-aware partitions (TokenBalance); DataFrame API only: mm_generate evaluates a row at a time
    public static final Option<String> BALANCE = option("balance", "none",
            "DataFrame API only. none: rows run in the input's partitions, in input order. tokens: each row is "
                    + "priced before any decoding (prompt tokens with its images' placeholder tokens from widthCol/"
                    + "heightCol and its audio clips' from durationCol, plus maxTokens) and the rows are shuffled into balancePartitions partitions of "
                    + "near-equal cost (order within the output is then not the input's); a row whose cost exceeds "
                    + "the model's context gets its error at once, without reaching the engine",
            TokenBalance::parseMode);
    public static final Option<Integer> BALANCE_PARTITIONS = option("balancePartitions", 0,
            "with balance=tokens: partitions to balance into (0 = the SparkContext's default parallelism, one per "
                    + "task slot)", Integer::valueOf);
    public static final Option<String> WIDTH_COL = str("widthCol", "width",
            "with balance=tokens: int (or array<int>, one per image) column of image widths, as the multimodal "
                    + "source gives with probe=true; a null size counts its image as one token");
    public static final Option<String> HEIGHT_COL = str("heightCol", "height",
            "with balance=tokens: int (or array<int>) column of image heights, like widthCol");
    public static final Option<String> DURATION_COL = str("durationCol", "duration_s",
            "with balance=tokens and audioCol: double (or array<double>, one per clip) column of audio durations in "
                    + "seconds, as the multimodal source gives with probe=true; a null duration counts its clip as one "
                    + "token");

    private GeneratorOptions() {
    }

    /** The option with this name; an unknown name fails listing the known ones. */
    public static Option<?> byName(String name) {
        Option<?> o = BY_NAME.get(name);
        if (o == null) {
            throw new IllegalArgumentException("sparkmm: unknown option '" + name + "'; known options: " + BY_NAME.keySet());
        }
        return o;
    }

    public static List<Option<?>> all() {
        return new ArrayList<>(BY_NAME.values());
    }

    private static <T> Option<T> option(String name, T def, String doc, Function<String, T> parser) {
        return option(name, def, doc, parser, kindOf(def));
    }

    private static <T> Option<T> option(String name, T def, String doc, Function<String, T> parser, Kind kind) {
        Option<T> o = new Option<>(name, def, doc, parser, kind);
        BY_NAME.put(name, o);
        return o;
    }

    private static String responseSchema(String v) {
        if (v.isEmpty()) {
            return null;
        }
        ResponseSchemas.jsonSchema(ResponseFormat.parsedType(v));
        return v;
    }

    private static String jsonSchema(String v) {
        if (v.isEmpty()) {
            return null;
        }
        io.sparkmm.engine.structured.StructuredOutputs.json(v).automaton();
        return v;
    }

    /** Checked when set, so a bad constraint fails on the driver naming the problem. */
    private static String structuredOutputs(String v) {
        if (v.isEmpty()) {
            return null;
        }
        io.sparkmm.engine.structured.StructuredOutputs.parseVllm(v);
        return v;
    }

    private static Option<String> str(String name, String def, String doc) {
        return option(name, def, doc, v -> v.isEmpty() ? null : v);
    }

    /** Lists must say their kind: an empty default does not tell strings from ints. */
    private static Kind kindOf(Object def) {
        if (def == null || def instanceof String) {
            return Kind.STRING;
        } else if (def instanceof Integer) {
            return Kind.INT;
        } else if (def instanceof Long) {
            return Kind.LONG;
        } else if (def instanceof Double) {
            return Kind.DOUBLE;
        } else if (def instanceof Boolean) {
            return Kind.BOOLEAN;
        } else if (def instanceof Enum<?>) {
            return Kind.ENUM;
        }
        throw new IllegalStateException("declare the kind of an option with a " + def.getClass().getSimpleName()
                + " default");
    }

    private static boolean bool(String v) {
        switch (v.toLowerCase(Locale.ROOT)) {
            case "true":
                return true;
            case "false":
                return false;
            default:
                throw new IllegalArgumentException("expected true or false");
        }
    }

    /** Normalized JSON (keys sorted) so equal settings compare equal, e.g. in mm_generate's per-task key. */
    static String processorKwargs(String v) {
        return v.isEmpty() ? null : ProcessorKwargsJson.write(ProcessorKwargsJson.parse(v));
    }

    private static String modality(String v) {
        String m = v.toLowerCase(Locale.ROOT);
        if (!List.of("image", "audio", "video").contains(m)) {
            throw new IllegalArgumentException("expected image, audio or video");
        }
        return m;
    }

    private static List<Integer> intList(String v) {
        return v.isEmpty() ? List.of() : Arrays.stream(v.split("[|,]")).map(String::trim).map(Integer::valueOf).toList();
    }

    private static List<String> list(String v) {
        return v.isEmpty() ? List.of() : List.copyOf(Arrays.asList(v.split("\\|")));
    }
}
