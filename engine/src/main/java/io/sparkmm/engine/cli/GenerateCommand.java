package io.sparkmm.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.checkpoint.GenerationConfig;
import io.sparkmm.engine.generate.GenerationResult;
import io.sparkmm.engine.generate.NaiveGenerator;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.engine.sampling.TokenLogprob;
import io.sparkmm.engine.tokenizer.ChatTemplate;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code generate}: one prompt through a checkpoint directory, printed as text or as one JSON
 * object with token_ids, text, finish_reason (and logprobs when asked).
 */
final class GenerateCommand {

    static final String USAGE = """
            generate --model DIR (--prompt TEXT [--chat] [--system TEXT] | --prompt-ids 1,2,3)
                     [--max-tokens N] [--temperature T] [--top-p P] [--top-k K] [--seed S]
                     [--logprobs K] [--backend auto|reference|simd] [--json]
              Sampling defaults come from the model's generation_config.json, else temperature 1,
              top-p 1, top-k off; --temperature 0 is greedy. max-tokens defaults to 16.""";

    private static final Set<String> VALUED = Set.of("model", "prompt", "system", "prompt-ids", "max-tokens",
            "temperature", "top-p", "top-k", "seed", "logprobs", "backend");
    private static final Set<String> FLAGS = Set.of("chat", "json");

    private GenerateCommand() {
    }

    static void run(String[] args, PrintStream out) throws Exception {
        CliArgs a = CliArgs.parse(args, 1, VALUED, FLAGS);
        Path dir = Path.of(a.require("model"));
        if (!Files.isDirectory(dir)) {
            throw new CliArgs.UsageException("--model " + dir + " is not a directory");
        }
        boolean hasText = a.get("prompt") != null;
        boolean hasIds = a.get("prompt-ids") != null;
        if (hasText == hasIds) {
            throw new CliArgs.UsageException("give exactly one of --prompt or --prompt-ids");
        }
        if (!hasText && (a.flag("chat") || a.get("system") != null)) {
            throw new CliArgs.UsageException("--chat and --system apply to --prompt text, not to --prompt-ids");
        }
        String backendChoice = a.get("backend") != null ? a.get("backend")
                : System.getProperty(Backends.BACKEND_PROPERTY, "auto");
        int threads = Integer.getInteger(Backends.THREADS_PROPERTY, Runtime.getRuntime().availableProcessors());
        try (Backend backend = Backends.create(backendChoice, threads);
             LoadedModel loaded = LoadedModel.open(dir, backend)) {
            int[] promptIds = hasText ? encodeText(loaded, a) : parseIds(a.get("prompt-ids"));
            SamplingParams params = samplingParams(a, loaded.checkpoint().generationConfig());
            GenerationResult r = new NaiveGenerator(loaded.model(), loaded.eosTokenIds()).generate(promptIds, params);
            String text = loaded.hasTokenizer() ? loaded.tokenizer().decode(r.textTokenIds(), true) : null;
            if (a.flag("json")) {
                out.println(toJson(r, text, promptIds.length, params.logprobs() > 0));
            } else {
                out.println(text != null ? text : Arrays.toString(r.tokenIds()));
            }
        }
    }

    private static int[] encodeText(LoadedModel loaded, CliArgs a) {
        String prompt = a.get("prompt");
        if (!a.flag("chat")) {
            return loaded.tokenizer().encode(prompt, true);
        }
        ChatTemplate template = loaded.tokenizer().chatTemplate().orElseThrow(() -> new CliArgs.UsageException(
                "--chat: " + loaded.checkpoint().directory() + " has no chat template "
                        + "(tokenizer_config.json chat_template or chat_template.jinja)"));
        List<Map<String, Object>> messages = new java.util.ArrayList<>();
        if (a.get("system") != null) {
            messages.add(Map.of("role", "system", "content", a.get("system")));
        }
        messages.add(Map.of("role", "user", "content", prompt));
        String rendered = template.render(messages, true, Map.of());
        // the template already placed any BOS it wants, so none is added again
        return loaded.tokenizer().encode(rendered, false);
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

    static SamplingParams samplingParams(CliArgs a, GenerationConfig gen) {
        Double t = a.number("temperature");
        Double p = a.number("top-p");
        Integer k = a.integer("top-k");
        Integer max = a.integer("max-tokens");
        Integer logprobs = a.integer("logprobs");
        return SamplingParams.builder()
                .temperature(t != null ? t : gen.temperature() != null ? gen.temperature() : 1.0)
                .topP(p != null ? p : gen.topP() != null ? gen.topP() : 1.0)
                .topK(k != null ? k : gen.topK() != null ? gen.topK() : 0)
                .seed(a.longValue("seed"))
                .maxTokens(max != null ? max : 16)
                .logprobs(logprobs != null ? logprobs : 0)
                .build();
    }

    static String toJson(GenerationResult r, String text, int promptTokens, boolean withLogprobs) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode o = json.createObjectNode();
        ArrayNode ids = o.putArray("token_ids");
        for (int id : r.tokenIds()) {
            ids.add(id);
        }
        if (text != null) {
            o.put("text", text);
        } else {
            o.putNull("text");
        }
        o.put("finish_reason", r.finishReason().wireName());
        o.put("prompt_tokens", promptTokens);
        o.put("completion_tokens", r.tokenIds().length);
        if (withLogprobs) {
            ArrayNode steps = o.putArray("logprobs");
            for (List<TokenLogprob> step : r.logprobs()) {
                ArrayNode s = steps.addArray();
                for (TokenLogprob lp : step) {
                    s.addObject().put("token_id", lp.tokenId()).put("logprob", lp.logprob());
                }
            }
        }
        return json.writeValueAsString(o);
    }
}
