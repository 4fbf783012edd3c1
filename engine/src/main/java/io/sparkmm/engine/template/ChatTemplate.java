package io.sparkmm.engine.template;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.Context.Library;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A Hugging Face chat template rendered with jinjava so that it behaves like Python jinja2 as
 * transformers runs it ({@code ImmutableSandboxedEnvironment(trim_blocks=True,
 * lstrip_blocks=True)} with {@code raise_exception}, {@code strftime_now} and its own
 * {@code tojson}).
 *
 * <p>The template source is first normalised by {@link TemplatePreprocessor} (whitespace control)
 * and its expressions compiled by {@link ExprCompiler} into calls of {@link PyRuntime}, which give
 * them jinja2's semantics: operators, None vs Undefined, Python's {@code str()} of printed values,
 * the filters and tests, and Python string and dict methods. jinjava runs the statements. Nothing
 * else is reachable: {@link SandboxResolver} resolves no Java method, no file can be included,
 * output and {@code range} are bounded.
 *
 * <p>Immutable and safe to share between threads.
 */
public final class ChatTemplate {

    /** Largest rendered prompt, in characters. */
    public static final long MAX_OUTPUT_CHARS = 16L << 20;

    /** Deepest macro recursion; Python would stop a runaway recursion too (RecursionError). */
    public static final int MAX_MACRO_DEPTH = 100;

    /** Largest {@code range(...)} a template may build. */
    public static final int RANGE_LIMIT = 10_000;

    private static final Set<String> RESERVED = Set.of("messages", "add_generation_prompt");

    private final String source;
    private final String prepared;
    /** A template jinja2 could not compile fails each render, not the model load. */
    private final ChatTemplateException compileError;
    private final Map<String, Object> specialTokens;
    private final Clock clock;
    private final Jinjava jinjava;

    /** A template with no special tokens in its context. */
    public ChatTemplate(String source) {
        this(source, Map.of());
    }

    /**
     * A template whose context carries {@code specialTokens} (transformers passes
     * {@code special_tokens_map}: the tokenizer's named tokens that are set, e.g. bos_token).
     */
    public ChatTemplate(String source, Map<String, ?> specialTokens) {
        this(source, Map.<String, Object>copyOf(specialTokens), Clock.systemDefaultZone());
    }

    private ChatTemplate(String source, Map<String, Object> specialTokens, Clock clock) {
        this.source = Objects.requireNonNull(source, "source");
        String compiled = null;
        ChatTemplateException error = null;
        try {
            compiled = TemplatePreprocessor.preprocess(source);
        } catch (ChatTemplateException e) {
            error = e;
        }
        this.prepared = compiled;
        this.compileError = error;
        this.specialTokens = specialTokens;
        this.clock = clock;
        this.jinjava = newJinjava();
    }

    /** The same template with {@code strftime_now} reading {@code clock} (for tests). */
    public ChatTemplate withClock(Clock clock) {
        return new ChatTemplate(source, specialTokens, Objects.requireNonNull(clock, "clock"));
    }

    public String source() {
        return source;
    }

    /**
     * Renders the prompt.
     *
     * @param messages the conversation as dicts (role, content, and whatever else the template
     *     reads: tool_calls, reasoning_content, content parts...)
     * @param addGenerationPrompt append the header that starts the assistant's turn
     * @param extraContext further variables, e.g. {@code tools}, {@code enable_thinking}; may
     *     override the special tokens but not {@code messages} or {@code add_generation_prompt}
     * @throws ChatTemplateException when the template raises, breaks a sandbox rule or fails
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt,
            Map<String, Object> extraContext) {
        Objects.requireNonNull(messages, "messages");
        if (compileError != null) {
            throw new ChatTemplateException(compileError.getMessage(), compileError);
        }
        Map<String, Object> context = new HashMap<>(specialTokens);
        // transformers always passes these two; absent means None there.
        context.put("tools", null);
        context.put("documents", null);
        if (extraContext != null) {
            for (Map.Entry<String, Object> e : extraContext.entrySet()) {
                if (RESERVED.contains(e.getKey())) {
                    throw new IllegalArgumentException("extraContext must not set '" + e.getKey()
                            + "'; pass it as an argument of render");
                }
                context.put(e.getKey(), e.getValue());
            }
        }
        context.put("messages", messages);
        context.put("add_generation_prompt", addGenerationPrompt);
        context.put(TemplateFunctions.CLOCK_KEY, clock);
        RenderResult result = jinjava.renderForResult(prepared, context);
        failOnErrors(result.getErrors());
        return result.getOutput();
    }

    /** Renders plain (role, content) messages. */
    public String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> maps = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            maps.add(m.toMap());
        }
        return render(maps, addGenerationPrompt, Map.of());
    }

    /** jinjava collects errors and keeps rendering; jinja2 stops at the first, and so do we. */
    private static void failOnErrors(List<TemplateError> errors) {
        for (TemplateError error : errors) {
            ChatTemplateException raised = find(error.getException());
            if (raised != null) {
                throw raised.raisedByTemplate()
                        ? new ChatTemplateException(raised.getMessage(), true)
                        : new ChatTemplateException(raised.getMessage() + describe(error), raised);
            }
        }
        for (TemplateError error : errors) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new ChatTemplateException("chat template error: " + error.getMessage()
                        + describe(error), error.getException());
            }
        }
    }

    private static String describe(TemplateError error) {
        return error.getLineno() > 0 ? " (line " + error.getLineno() + ")" : "";
    }

    private static ChatTemplateException find(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof ChatTemplateException cte) {
                return cte;
            }
        }
        return null;
    }

    private static Jinjava newJinjava() {
        LegacyOverrides python = LegacyOverrides.newBuilder()
                // jinja2 semantics: filters bind tighter than arithmetic, {k: v} evaluates k,
                // "for k in dict" walks the keys, values print Python-style.
                .withUseNaturalOperatorPrecedence(true)
                .withEvaluateMapKeys(true)
                .withIterateOverMapKeys(true)
                .withUsePyishObjectMapper(true)
                .withKeepNullableLoopValues(true)
                .build();
        JinjavaConfig config = JinjavaConfig.newBuilder()
                // whitespace control is already resolved by TemplatePreprocessor
                .withTrimBlocks(false)
                .withLstripBlocks(false)
                .withKeepTrailingNewline(true)
                .withLegacyOverrides(python)
                .withElResolver(new SandboxResolver())
                .withDisabled(Map.of(
                        Library.TAG, Set.of("include", "import", "from", "extends"),
                        Library.FILTER, Set.of("render")))
                .withNestedInterpretationEnabled(false)
                // jinja2 lets macros recurse (a JSON-schema printer calls itself per nesting level);
                // the depth bound stands in for Python's recursion limit
                .withEnableRecursiveMacroCalls(true)
                .withMaxMacroRecursionDepth(MAX_MACRO_DEPTH)
                .withMaxOutputSize(MAX_OUTPUT_CHARS)
                .withMaxStringLength(MAX_OUTPUT_CHARS)
                .withRangeLimit(RANGE_LIMIT)
                .build();
        Jinjava jinjava = new Jinjava(config);
        jinjava.setResourceLocator((name, encoding, interpreter) -> {
            throw new IOException("chat templates cannot load '" + name + "'");
        });
        for (ELFunctionDefinition f : TemplateFunctions.definitions()) {
            jinjava.getGlobalContext().registerFunction(f);
        }
        for (ELFunctionDefinition f : PyRuntime.definitions()) {
            jinjava.getGlobalContext().registerFunction(f);
        }
        return jinjava;
    }
}
