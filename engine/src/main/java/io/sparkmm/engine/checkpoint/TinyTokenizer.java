package io.sparkmm.engine.checkpoint;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A tiny byte-level BPE tokenizer in Hugging Face {@code tokenizer.json} format, the same kind
 * GPT-2 and Qwen2 use, for {@link TinyCheckpoint}.
 *
 * <p>Byte-level BPE can encode any string (every byte is a base symbol), so round trips are exact
 * for all text, including text the merges never saw. The merges are learned at class-load time by
 * plain BPE training on a short built-in English text: deterministic, so the vocabulary (and every
 * id) is the same in every run and on every machine.
 *
 * <p>Ids: 0..255 are the bytes (id = byte value), then one id per learned merge, then the special
 * tokens {@code <|endoftext|>}, {@code <|im_start|>}, {@code <|im_end|>}.
 */
public final class TinyTokenizer {

    public static final String END_OF_TEXT = "<|endoftext|>";
    public static final String IM_START = "<|im_start|>";
    public static final String IM_END = "<|im_end|>";

    /** Qwen2's simple ChatML template. */
    public static final String CHAT_TEMPLATE = "{% for message in messages %}{{'<|im_start|>' + message['role'] "
            + "+ '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
            + "{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private static final int MAX_MERGES = 120;

    /** GPT-2's pre-tokenization regex (the one the ByteLevel pre-tokenizer applies with use_regex). */
    private static final Pattern GPT2_SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    private static final String CORPUS = String.join("\n",
            "The user asks the assistant to describe the image, and the assistant answers with a short sentence.",
            "A small model reads the text and the picture, then it writes an answer one token at a time.",
            "The cat is sitting on the table in the kitchen. The dog is sleeping in the garden near the tree.",
            "What is in this picture? There is a red car on the street and two people are walking to the station.",
            "Please write a short story about the sea, the sun and the wind. It should be happy and simple.",
            "The weather today is warm and sunny, with a light wind from the west in the afternoon.",
            "You are a helpful assistant. Answer the question in one sentence, and do not repeat the question.",
            "The quick brown fox jumps over the lazy dog. That is the sentence that uses every letter.",
            "Describe the sound in this audio clip: a person is speaking, and there is music in the background.",
            "In the video, a man opens the door, walks into the room, and sits down at the desk to read.",
            "There are three apples and four oranges on the plate; how many pieces of fruit are there in total?",
            "The answer is seven. The system counts the tokens, the model predicts the next token, and so on.");

    private static final char[] BYTE_TO_CHAR = byteToChar();
    private static final List<String[]> MERGES = new ArrayList<>();
    private static final Map<String, Integer> VOCAB = new LinkedHashMap<>();

    static {
        for (int b = 0; b < 256; b++) {
            VOCAB.put(String.valueOf(BYTE_TO_CHAR[b]), b);
        }
        learnMerges();
    }

    /** Ids of the special tokens, after the byte and merge tokens. */
    public static final int END_OF_TEXT_ID = VOCAB.size();
    public static final int IM_START_ID = END_OF_TEXT_ID + 1;
    public static final int IM_END_ID = END_OF_TEXT_ID + 2;

    /** Every id, special tokens included; this is the model's vocab_size. */
    public static final int VOCAB_SIZE = IM_END_ID + 1;

    private TinyTokenizer() {
    }

    /**
     * GPT-2's reversible byte to unicode map: printable Latin-1 bytes stand for themselves, the
     * rest (controls, space, ...) are shifted to code points from 256 up, so every byte becomes a
     * visible character and a merge rule "a b" can never contain a real space.
     */
    private static char[] byteToChar() {
        char[] map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char) b : (char) next++;
        }
        return map;
    }

    /** Classic BPE training: repeatedly merge the most frequent adjacent pair (ties: smallest pair). */
    private static void learnMerges() {
        Map<List<String>, Integer> words = new HashMap<>();
        Matcher m = GPT2_SPLIT.matcher(CORPUS);
        while (m.find()) {
            List<String> symbols = new ArrayList<>();
            for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) {
                symbols.add(String.valueOf(BYTE_TO_CHAR[b & 0xff]));
            }
            words.merge(symbols, 1, Integer::sum);
        }
        for (int round = 0; round < MAX_MERGES; round++) {
            Map<String, Integer> pairs = new HashMap<>();
            for (Map.Entry<List<String>, Integer> w : words.entrySet()) {
                List<String> s = w.getKey();
                for (int i = 0; i + 1 < s.size(); i++) {
                    pairs.merge(s.get(i) + " " + s.get(i + 1), w.getValue(), Integer::sum);
                }
            }
            String best = null;
            int bestCount = 1; // a pair seen once is not worth a token
            for (Map.Entry<String, Integer> p : pairs.entrySet()) {
                int c = p.getValue();
                if (c > bestCount || (c == bestCount && best != null && p.getKey().compareTo(best) < 0)) {
                    best = p.getKey();
                    bestCount = c;
                }
            }
            if (best == null) {
                return;
            }
            String[] pair = best.split(" ");
            MERGES.add(pair);
            VOCAB.putIfAbsent(pair[0] + pair[1], VOCAB.size());
            Map<List<String>, Integer> merged = new HashMap<>();
            for (Map.Entry<List<String>, Integer> w : words.entrySet()) {
                merged.merge(apply(w.getKey(), pair), w.getValue(), Integer::sum);
            }
            words = merged;
        }
    }

    private static List<String> apply(List<String> s, String[] pair) {
        List<String> out = new ArrayList<>(s.size());
        for (int i = 0; i < s.size(); i++) {
            if (i + 1 < s.size() && s.get(i).equals(pair[0]) && s.get(i + 1).equals(pair[1])) {
                out.add(pair[0] + pair[1]);
                i++;
            } else {
                out.add(s.get(i));
            }
        }
        return out;
    }

    /** Number of learned merges. */
    public static int mergeCount() {
        return MERGES.size();
    }

    /** The {@code tokenizer.json} document. */
    public static ObjectNode tokenizerJson() {
        ObjectNode root = JsonFields.MAPPER.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        addedToken(added.addObject(), END_OF_TEXT_ID, END_OF_TEXT);
        addedToken(added.addObject(), IM_START_ID, IM_START);
        addedToken(added.addObject(), IM_END_ID, IM_END);
        root.putNull("normalizer");
        byteLevel(root.putObject("pre_tokenizer"), true);
        byteLevel(root.putObject("post_processor"), false);
        byteLevel(root.putObject("decoder"), true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        VOCAB.forEach(vocab::put);
        ArrayNode merges = model.putArray("merges");
        for (String[] pair : MERGES) {
            merges.add(pair[0] + " " + pair[1]);
        }
        return root;
    }

    /**
     * {@link #tokenizerJson()} with {@code names} added as special tokens, ids {@code firstId},
     * {@code firstId + 1}, ...: what a multimodal checkpoint adds for its media tokens.
     */
    public static ObjectNode tokenizerJson(int firstId, String... names) {
        ObjectNode root = tokenizerJson();
        ArrayNode added = (ArrayNode) root.get("added_tokens");
        for (int i = 0; i < names.length; i++) {
            addedToken(added.addObject(), firstId + i, names[i]);
        }
        return root;
    }

    /**
     * {@link #tokenizerConfigJson(int)} with the same tokens in {@code added_tokens_decoder} and
     * {@code additional_special_tokens}.
     */
    public static ObjectNode tokenizerConfigJson(int modelMaxLength, int firstId, String... names) {
        ObjectNode root = tokenizerConfigJson(modelMaxLength);
        ObjectNode decoder = (ObjectNode) root.get("added_tokens_decoder");
        for (int i = 0; i < names.length; i++) {
            decodedToken(decoder.putObject(String.valueOf(firstId + i)), names[i]);
            ((ArrayNode) root.get("additional_special_tokens")).add(names[i]);
        }
        return root;
    }

    private static void decodedToken(ObjectNode t, String content) {
        t.put("content", content);
        t.put("lstrip", false);
        t.put("normalized", false);
        t.put("rstrip", false);
        t.put("single_word", false);
        t.put("special", true);
    }

    private static void addedToken(ObjectNode t, int id, String content) {
        t.put("id", id);
        t.put("content", content);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", true);
    }

    private static void byteLevel(ObjectNode n, boolean trimOffsets) {
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", false);
        n.put("trim_offsets", trimOffsets);
        n.put("use_regex", true);
    }

    /** The {@code tokenizer_config.json} document, Qwen2-style (no BOS is prepended). */
    public static ObjectNode tokenizerConfigJson(int modelMaxLength) {
        ObjectNode root = JsonFields.MAPPER.createObjectNode();
        root.put("add_bos_token", false);
        root.put("add_prefix_space", false);
        ObjectNode decoder = root.putObject("added_tokens_decoder");
        for (var e : List.of(Map.entry(END_OF_TEXT_ID, END_OF_TEXT), Map.entry(IM_START_ID, IM_START),
                Map.entry(IM_END_ID, IM_END))) {
            decodedToken(decoder.putObject(String.valueOf(e.getKey())), e.getValue());
        }
        root.putArray("additional_special_tokens").add(IM_START).add(IM_END);
        root.putNull("bos_token");
        root.put("chat_template", CHAT_TEMPLATE);
        root.put("clean_up_tokenization_spaces", false);
        root.put("eos_token", IM_END);
        root.put("errors", "replace");
        root.put("model_max_length", modelMaxLength);
        root.put("pad_token", END_OF_TEXT);
        root.put("split_special_tokens", false);
        root.put("tokenizer_class", "PreTrainedTokenizerFast");
        root.putNull("unk_token");
        return root;
    }
}
