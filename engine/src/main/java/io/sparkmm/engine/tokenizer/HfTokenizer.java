package io.sparkmm.engine.tokenizer;

import io.sparkmm.engine.template.ChatTemplate;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A Hugging Face tokenizer loaded from a model folder: {@code tokenizer.json} runs in the native
 * {@code tokenizers} library (through DJL), {@code tokenizer_config.json} gives the special tokens,
 * and the chat template comes from wherever the checkpoint keeps it.
 *
 * <p>DJL's defaults would change results behind our back: without options it truncates to 512
 * tokens and pads, and when it finds a {@code tokenizer_config.json} it may lower-case, strip
 * accents or add a prefix space. So the tokenizer is created from the JSON text alone with
 * truncation and padding switched off, and special tokens are chosen per call.
 *
 * <p>A folder with no tokenizer.json but Qwen (v1)'s {@code qwen.tiktoken} (Qwen-7B, Qwen-VL: remote-code
 * tokenizers) gets {@link QwenTiktoken} instead, behind the same methods.
 *
 * <p>Thread-safe: the native tokenizer is immutable once built.
 */
public final class HfTokenizer implements AutoCloseable {

    /** File name of the tokenizer model inside a model folder. */
    public static final String TOKENIZER_FILE = "tokenizer.json";

    private static final Map<String, String> DJL_OPTIONS = Map.of(
            "addSpecialTokens", "false",
            "truncation", "false",
            "padding", "false");

    /** What turns text into ids and back: the native HF tokenizer, or Qwen's tiktoken BPE. */
    private interface Codec {
        int[] encode(String text, boolean addSpecialTokens);

        String decode(int[] ids, boolean skipSpecialTokens);

        void close();
    }

    private final Codec codec;
    private final boolean byteLevelTiktoken;
    private final Vocabulary vocabulary;
    private final TokenizerConfig config;
    private final ChatTemplate chatTemplate;

    private HfTokenizer(Codec codec, boolean byteLevelTiktoken, Vocabulary vocabulary,
            TokenizerConfig config) {
        this.codec = codec;
        this.byteLevelTiktoken = byteLevelTiktoken;
        this.vocabulary = vocabulary;
        this.config = config;
        this.chatTemplate = config.chatTemplate().map(src -> new ChatTemplate(src, config.templateTokens())).orElse(null);
    }

    /**
     * Loads {@code tokenizer.json} (required), {@code tokenizer_config.json} (optional) and the
     * chat template wherever transformers would find it (see {@link TokenizerConfig#read}).
     *
     * @throws IOException naming the file that is missing or cannot be parsed
     */
    public static HfTokenizer load(Path modelDir) throws IOException {
        Objects.requireNonNull(modelDir, "modelDir");
        Path tokenizerFile = modelDir.resolve(TOKENIZER_FILE);
        if (!Files.isRegularFile(tokenizerFile) && Files.isRegularFile(modelDir.resolve(QwenTiktoken.FILE))) {
            return loadQwenTiktoken(modelDir);
        }
        if (!Files.isRegularFile(tokenizerFile)) {
            throw new IOException("tokenizer file not found: " + tokenizerFile + " (nor " + QwenTiktoken.FILE + ")");
        }
        TokenizerConfig config = TokenizerConfig.read(modelDir);
        Vocabulary vocabulary = Vocabulary.read(tokenizerFile);
        HuggingFaceTokenizer tokenizer;
        try (InputStream in = Files.newInputStream(tokenizerFile)) {
            tokenizer = HuggingFaceTokenizer.newInstance(in, DJL_OPTIONS);
        } catch (RuntimeException e) {
            // The native library reports a malformed tokenizer.json as a RuntimeException.
            throw new IOException("cannot load " + tokenizerFile + ": " + e.getMessage(), e);
        }
        return new HfTokenizer(new NativeCodec(tokenizer), false, vocabulary, config);
    }

    /** Whether {@code modelDir} has a tokenizer this class loads (tokenizer.json, or Qwen's qwen.tiktoken). */
    public static boolean present(Path modelDir) {
        return Files.isRegularFile(modelDir.resolve(TOKENIZER_FILE)) || Files.isRegularFile(modelDir.resolve(QwenTiktoken.FILE));
    }

    /**
     * Qwen (v1) keeps its vocabulary in qwen.tiktoken and tokenizes in remote code; tokens are
     * named in the GPT-2 byte-to-unicode spelling (as Qwen2's vocab.json names the same bytes), so
     * byte-level consumers of {@link #token} read them like any byte-level BPE.
     */
    private static HfTokenizer loadQwenTiktoken(Path modelDir) throws IOException {
        QwenTiktoken tiktoken = QwenTiktoken.load(modelDir.resolve(QwenTiktoken.FILE));
        TokenizerConfig config = TokenizerConfig.read(modelDir);
        if (config.chatTemplate().isEmpty() && chatml(modelDir)) {
            config = config.withChatTemplate(QwenTiktoken.CHATML_TEMPLATE);
        }
        Codec codec = new Codec() {
            @Override
            public int[] encode(String text, boolean addSpecialTokens) {
                return tiktoken.encode(text);   // Qwen adds no BOS/EOS
            }

            @Override
            public String decode(int[] ids, boolean skipSpecialTokens) {
                return tiktoken.decode(ids, skipSpecialTokens);
            }

            @Override
            public void close() {
            }
        };
        return new HfTokenizer(codec, true, Vocabulary.ofTiktoken(tiktoken), config);
    }

    /** Whether generation_config.json names Qwen's chatml format (Qwen-VL-Chat, Qwen-7B-Chat). */
    private static boolean chatml(Path modelDir) throws IOException {
        Path generation = modelDir.resolve("generation_config.json");
        if (!Files.isRegularFile(generation)) {
            return false;
        }
        try {
            return "chatml".equals(new com.fasterxml.jackson.databind.ObjectMapper().readTree(generation.toFile())
                    .path("chat_format").asText(null));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(generation + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** Whether the tokens of {@link #token} are byte-level strings with no tokenizer.json to say so (Qwen's tiktoken). */
    public boolean byteLevelTiktoken() {
        return byteLevelTiktoken;
    }

    private record NativeCodec(HuggingFaceTokenizer tokenizer) implements Codec {
        @Override
        public int[] encode(String text, boolean addSpecialTokens) {
            long[] ids = tokenizer.encode(text, addSpecialTokens, false).getIds();
            int[] out = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                out[i] = Math.toIntExact(ids[i]);
            }
            return out;
        }

        @Override
        public String decode(int[] ids, boolean skipSpecialTokens) {
            long[] longs = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                longs[i] = ids[i];
            }
            return tokenizer.decode(longs, skipSpecialTokens);
        }

        @Override
        public void close() {
            tokenizer.close();
        }
    }

    /**
     * Token ids of {@code text}. Special tokens written in the text (such as {@code <|im_start|>})
     * are always recognised; {@code addSpecialTokens} only controls the template tokens the
     * tokenizer's post-processor adds around the text (BOS/EOS, CLS/SEP).
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        Objects.requireNonNull(text, "text");
        return codec.encode(text, addSpecialTokens);
    }

    /** Text of {@code ids}; with {@code skipSpecialTokens} the special added tokens are dropped. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        Objects.requireNonNull(ids, "ids");
        if (ids.length == 0) {
            return "";
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0) {
                throw new IllegalArgumentException("negative token id " + ids[i] + " at position " + i);
            }
        }
        String text = codec.decode(ids, skipSpecialTokens);
        return config.cleanUpTokenizationSpaces() ? cleanUpTokenizationSpaces(text) : text;
    }

    /** Number of token ids, added tokens included (Python's {@code len(tokenizer)}). */
    public int vocabSize() {
        return vocabulary.size();
    }

    public OptionalInt tokenId(String token) {
        return vocabulary.id(token);
    }

    /**
     * The vocabulary entry for {@code id} as stored in tokenizer.json (for byte-level BPE that is
     * the byte-mapped form, e.g. "Ġthe"), or null when no token has that id.
     */
    public String token(int id) {
        return vocabulary.token(id);
    }

    /** Whether {@code id} is an added token marked special (skipped by skip_special_tokens). */
    public boolean isSpecial(int id) {
        return vocabulary.isSpecial(id);
    }

    public TokenizerConfig config() {
        return config;
    }

    public Optional<ChatTemplate> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    @Override
    public void close() {
        codec.close();
    }

    /**
     * transformers' {@code clean_up_tokenization}: removes the space before punctuation and
     * English contractions that old word-level tokenizers left in decoded text.
     */
    static String cleanUpTokenizationSpaces(String text) {
        return text.replace(" .", ".")
                .replace(" ?", "?")
                .replace(" !", "!")
                .replace(" ,", ",")
                .replace(" ' ", "'")
                .replace(" n't", "n't")
                .replace(" 'm", "'m")
                .replace(" 's", "'s")
                .replace(" 've", "'ve")
                .replace(" 're", "'re");
    }
}
