package io.sparkmm.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.multimodal.ProcessorKwargsJson;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.engine.structured.StructuredOutputs;
import io.sparkmm.processors.ProcessorKwargs;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * One line of a {@code --prompts-file}: {@code {"prompt": "..."}} or {@code {"prompt_ids": [...]}}
 * plus optional {@code chat}, {@code system}, {@code mm_processor_kwargs} and per-line sampling
 * fields with vLLM's names. Parsing never throws for the file as a whole: a bad line becomes a
 * line with an error.
 */
record PromptLine(int lineNumber, String prompt, int[] promptIds, boolean chat, String system,
                  List<String> images, List<String> audio, List<String> video, SamplingParams sampling,
                  ProcessorKwargs processorKwargs, String error) {

    static final Set<String> FIELDS = Set.of("prompt", "prompt_ids", "chat", "system", "images", "audio", "video",
            "mm_processor_kwargs", "temperature", "top_p", "top_k",
            "min_p", "seed", "max_tokens", "min_tokens", "stop", "stop_token_ids", "ignore_eos", "logprobs",
            "repetition_penalty", "presence_penalty", "frequency_penalty", "structured_outputs", "response_format");

    private static final ObjectMapper JSON = new ObjectMapper();

    static PromptLine error(int lineNumber, String message) {
        return new PromptLine(lineNumber, null, null, false, null, List.of(), List.of(), List.of(), null,
                ProcessorKwargs.NONE, "line " + lineNumber + ": " + message);
    }

    /**
     * Parses a line; {@code defaults} carries the command line's sampling settings and
     * {@code kwargsDefault} its {@code --mm-processor-kwargs}, over which a line's own
     * {@code mm_processor_kwargs} is merged key by key, as vLLM merges a request's settings over
     * the ones the engine was started with.
     */
    static PromptLine parse(int lineNumber, String text, SamplingParams defaults, boolean chatDefault,
                            ProcessorKwargs kwargsDefault) {
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return error(lineNumber, "not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            return error(lineNumber, "expected a JSON object");
        }
        try {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!FIELDS.contains(f)) {
                    throw new IllegalArgumentException("unknown field '" + f + "'" + CliArgs.nearest(f, FIELDS)
                            .replace("--", ""));
                }
            }
            boolean hasPrompt = node.hasNonNull("prompt");
            boolean hasIds = node.hasNonNull("prompt_ids");
            if (hasPrompt == hasIds) {
                throw new IllegalArgumentException("give exactly one of \"prompt\" or \"prompt_ids\"");
            }
            String prompt = hasPrompt ? text(node, "prompt") : null;
            int[] ids = hasIds ? ints(node, "prompt_ids") : null;
            boolean chat = node.has("chat") ? bool(node, "chat") : chatDefault && hasPrompt;
            SamplingParams.Builder b = defaults.toBuilder();
            if (node.has("temperature")) b.temperature(number(node, "temperature"));
            if (node.has("top_p")) b.topP(number(node, "top_p"));
            if (node.has("top_k")) b.topK(integer(node, "top_k"));
            if (node.has("min_p")) b.minP(number(node, "min_p"));
            if (node.has("seed")) b.seed(node.get("seed").isNull() ? null : (long) integer(node, "seed"));
            if (node.has("max_tokens")) b.maxTokens(integer(node, "max_tokens"));
            if (node.has("min_tokens")) b.minTokens(integer(node, "min_tokens"));
            if (node.has("stop")) b.stop(strings(node, "stop"));
            if (node.has("stop_token_ids")) b.stopTokenIds(toList(ints(node, "stop_token_ids")));
            if (node.has("ignore_eos")) b.ignoreEos(bool(node, "ignore_eos"));
            if (node.has("logprobs")) b.logprobs(integer(node, "logprobs"));
            if (node.has("repetition_penalty")) b.repetitionPenalty(number(node, "repetition_penalty"));
            if (node.has("presence_penalty")) b.presencePenalty(number(node, "presence_penalty"));
            if (node.has("frequency_penalty")) b.frequencyPenalty(number(node, "frequency_penalty"));
            if (node.has("structured_outputs") && node.has("response_format")) {
                throw new IllegalArgumentException("give \"structured_outputs\" or \"response_format\", not both");
            }
            if (node.has("structured_outputs")) b.structuredOutputs(StructuredOutputs.fromVllm(node.get("structured_outputs")));
            if (node.has("response_format")) b.structuredOutputs(StructuredOutputs.fromOpenAi(node.get("response_format")));
            String system = node.hasNonNull("system") ? text(node, "system") : null;
            List<String> images = node.has("images") ? strings(node, "images") : List.of();
            List<String> audio = node.has("audio") ? strings(node, "audio") : List.of();
            List<String> video = node.has("video") ? strings(node, "video") : List.of();
            ProcessorKwargs kwargs = node.has("mm_processor_kwargs")
                    ? kwargsDefault.overriddenBy(ProcessorKwargsJson.of(node.get("mm_processor_kwargs"))) : kwargsDefault;
            return new PromptLine(lineNumber, prompt, ids, chat, system, images, audio, video, b.build(), kwargs, null);
        } catch (IllegalArgumentException e) {
            return error(lineNumber, e.getMessage());
        }
    }

    private static String text(JsonNode n, String f) {
        if (!n.get(f).isTextual()) {
            throw new IllegalArgumentException("\"" + f + "\" must be a string, got " + n.get(f));
        }
        return n.get(f).asText();
    }

    private static double number(JsonNode n, String f) {
        if (!n.get(f).isNumber()) {
            throw new IllegalArgumentException("\"" + f + "\" must be a number, got " + n.get(f));
        }
        return n.get(f).asDouble();
    }

    private static int integer(JsonNode n, String f) {
        if (!n.get(f).canConvertToInt() || !n.get(f).isIntegralNumber()) {
            throw new IllegalArgumentException("\"" + f + "\" must be an integer, got " + n.get(f));
        }
        return n.get(f).asInt();
    }

    private static boolean bool(JsonNode n, String f) {
        if (!n.get(f).isBoolean()) {
            throw new IllegalArgumentException("\"" + f + "\" must be true or false, got " + n.get(f));
        }
        return n.get(f).asBoolean();
    }

    private static int[] ints(JsonNode n, String f) {
        JsonNode a = n.get(f);
        if (!a.isArray()) {
            throw new IllegalArgumentException("\"" + f + "\" must be an array of integers, got " + a);
        }
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            if (!a.get(i).isIntegralNumber() || !a.get(i).canConvertToInt()) {
                throw new IllegalArgumentException("\"" + f + "\"[" + i + "] must be an integer, got " + a.get(i));
            }
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    private static List<String> strings(JsonNode n, String f) {
        JsonNode a = n.get(f);
        List<String> out = new ArrayList<>();
        if (a.isTextual()) {
            out.add(a.asText());
        } else if (a.isArray()) {
            for (JsonNode e : a) {
                if (!e.isTextual()) {
                    throw new IllegalArgumentException("\"" + f + "\" entries must be strings, got " + e);
                }
                out.add(e.asText());
            }
        } else {
            throw new IllegalArgumentException("\"" + f + "\" must be a string or an array of strings, got " + a);
        }
        return out;
    }

    private static List<Integer> toList(int[] a) {
        List<Integer> out = new ArrayList<>(a.length);
        for (int v : a) {
            out.add(v);
        }
        return out;
    }
}
