package io.sparkmm.engine.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.GptBytePairEncodingParams;
import com.knuddels.jtokkit.api.IntArrayList;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The tokenizer of the original Qwen models (Qwen-7B, Qwen-VL): tiktoken BPE over
 * {@code qwen.tiktoken} (base64 bytes and rank per line) with Qwen's split pattern and its 217
 * special tokens, as {@code tokenization_qwen.py} builds it. The BPE itself is jtokkit's
 * (a Java port of tiktoken that takes custom ranks and patterns); this class adds what Qwen's
 * Python wraps around tiktoken: NFC normalization, special tokens allowed anywhere in the text,
 * and the image references of Qwen-VL prompts.
 *
 * <p>Image references: Qwen-VL writes an image as {@code <img>path or URL</img>} in the prompt.
 * The original tokenizer turned the reference into a fixed 256-token span; vLLM instead drops it
 * and lets the multimodal processor put {@code <img>}, 256 {@code <imgpad>} and {@code </img>}
 * back around the image it was given. {@link #encode} does the same: the inside of every closed
 * {@code <img>...</img>} is dropped (the image itself comes from the request's media); an
 * unclosed {@code <img>} is an error, as in the original. {@link #encodeRaw} is plain tiktoken.
 *
 * <p>Thread-safe: immutable after loading (jtokkit encodings are).
 */
public final class QwenTiktoken {

    /** The vocabulary file of a Qwen (v1) checkpoint. */
    public static final String FILE = "qwen.tiktoken";

    /** tokenization_qwen.py's PAT_STR. */
    public static final String PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    public static final String END_OF_TEXT = "<|endoftext|>";
    public static final String IMAGE_START = "<img>";
    public static final String IMAGE_END = "</img>";
    public static final String IMAGE_PAD = "<imgpad>";

    /**
     * Qwen-VL-Chat's prompt format as a chat template, for checkpoints that have none: Qwen (v1)
     * chat models name their format in generation_config.json ({@code chat_format: chatml}) and
     * build prompts in Python (qwen_generation_utils.make_context, the default system message
     * "You are a helpful assistant."), writing each image as tokenization_qwen.py's
     * from_list_format does: "Picture N: &lt;img&gt;...&lt;/img&gt;\n" (vLLM's placeholder too).
     */
    public static final String CHATML_TEMPLATE = "{% set image_count = namespace(n=0) %}{% for message in messages %}"
            + "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
            + "{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}"
            + "{% else %}{% for item in message['content'] %}{% if item['type'] == 'image' %}"
            + "{% set image_count.n = image_count.n + 1 %}Picture {{ image_count.n }}: <img></img>\n"
            + "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
            + "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

    /** The special tokens in id order, starting right after the ordinary ranks. */
    public static final List<String> SPECIAL_TOKENS = specialTokens();

    private static final Pattern IMAGE_REFERENCE = Pattern.compile(Pattern.quote(IMAGE_START) + "(.*?)"
            + Pattern.quote(IMAGE_END), Pattern.DOTALL);

    private final Encoding bpe;
    private final byte[][] bytesById;
    private final Map<String, Integer> specialIds;
    private final Pattern specialSplit;
    private final int ordinary;

    private QwenTiktoken(Encoding bpe, byte[][] bytesById, Map<String, Integer> specialIds, int ordinary) {
        this.bpe = bpe;
        this.bytesById = bytesById;
        this.specialIds = specialIds;
        this.ordinary = ordinary;
        // tiktoken finds special tokens by a regex of their literal texts; none is a prefix of another here
        this.specialSplit = Pattern.compile(specialIds.keySet().stream().map(Pattern::quote).collect(Collectors.joining("|")));
    }

    private static List<String> specialTokens() {
        List<String> out = new ArrayList<>(List.of(END_OF_TEXT, "<|im_start|>", "<|im_end|>"));
        for (int i = 0; i < 205; i++) {
            out.add("<|extra_" + i + "|>");
        }
        out.addAll(List.of("<ref>", "</ref>", "<box>", "</box>", "<quad>", "</quad>", IMAGE_START, IMAGE_END, IMAGE_PAD));
        return Collections.unmodifiableList(out);
    }

    /**
     * Reads a qwen.tiktoken file; every error names the file and the line. Ranks must be 0..n-1,
     * each once (the special tokens take n, n+1, ...).
     */
    public static QwenTiktoken load(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
        Map<byte[], Integer> ranks = new HashMap<>(lines.size() * 2);
        List<byte[]> byRank = new ArrayList<>(Collections.nCopies(lines.size(), null));
        int n = 0;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isEmpty()) {
                continue;
            }
            int space = line.indexOf(' ');
            byte[] token;
            int rank;
            try {
                token = Base64.getDecoder().decode(line.substring(0, Math.max(space, 0)));
                rank = Integer.parseInt(line.substring(space + 1).trim());
            } catch (IllegalArgumentException e) {
                throw new IOException(file + " line " + (i + 1) + ": expected \"<base64 bytes> <rank>\", got \""
                        + abbreviate(line) + "\"", e);
            }
            if (space <= 0 || rank < 0 || rank >= lines.size() || byRank.get(rank) != null || token.length == 0) {
                throw new IOException(file + " line " + (i + 1) + ": rank " + rank
                        + " is out of range, repeated or has no bytes");
            }
            byRank.set(rank, token);
            ranks.put(token, rank);
            n++;
        }
        for (int r = 0; r < n; r++) {
            if (byRank.get(r) == null) {
                throw new IOException(file + ": ranks are not 0.." + (n - 1) + " (rank " + r + " is missing)");
            }
        }
        Map<String, Integer> specials = new LinkedHashMap<>();
        for (int i = 0; i < SPECIAL_TOKENS.size(); i++) {
            specials.put(SPECIAL_TOKENS.get(i), n + i);
        }
        byte[][] bytesById = new byte[n + specials.size()][];
        for (int r = 0; r < n; r++) {
            bytesById[r] = byRank.get(r);
        }
        specials.forEach((text, id) -> bytesById[id] = text.getBytes(StandardCharsets.UTF_8));
        // Unicode classes: tiktoken's regex engine reads \s, \p{L} and (?i) over all of Unicode, Java's only with this flag
        Pattern pattern = Pattern.compile(PATTERN, Pattern.UNICODE_CHARACTER_CLASS);
        EncodingRegistry registry = Encodings.newLazyEncodingRegistry();
        String name = "qwen-" + file.toAbsolutePath();
        registry.registerGptBytePairEncoding(new GptBytePairEncodingParams(name, pattern, ranks, Map.of()));
        Encoding bpe = registry.getEncoding(name).orElseThrow();
        return new QwenTiktoken(bpe, bytesById, Collections.unmodifiableMap(specials), n);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    /** Number of ordinary (BPE) tokens; special ids start here. */
    public int ordinaryTokens() {
        return ordinary;
    }

    /** Ordinary plus special tokens. */
    public int size() {
        return bytesById.length;
    }

    /** The special tokens and their ids. */
    public Map<String, Integer> specialIds() {
        return specialIds;
    }

    /** The bytes of token {@code id} (a special token's UTF-8 text), or null when out of range. */
    public byte[] bytes(int id) {
        return id >= 0 && id < bytesById.length ? bytesById[id].clone() : null;
    }

    /** tiktoken's {@code encode(NFC(text), allowed_special="all")}: the ids tokenization_qwen.py's tiktoken step gives. */
    public int[] encodeRaw(String text) {
        String nfc = Normalizer.normalize(text, Normalizer.Form.NFC);
        IntArrayList out = new IntArrayList();
        Matcher m = specialSplit.matcher(nfc);
        int from = 0;
        while (m.find()) {
            appendOrdinary(nfc.substring(from, m.start()), out);
            out.add(specialIds.get(m.group()));
            from = m.end();
        }
        appendOrdinary(nfc.substring(from), out);
        return out.toArray();
    }

    private void appendOrdinary(String piece, IntArrayList out) {
        if (!piece.isEmpty()) {
            IntArrayList ids = bpe.encodeOrdinary(piece);
            for (int i = 0; i < ids.size(); i++) {
                out.add(ids.get(i));
            }
        }
    }

    /**
     * The ids of a prompt: {@link #encodeRaw} after each closed {@code <img>...</img>} lost its
     * inside (see the class comment).
     *
     * @throws IllegalArgumentException for an {@code <img>} with no {@code </img>} after it
     */
    public int[] encode(String text) {
        String stripped = IMAGE_REFERENCE.matcher(Normalizer.normalize(text, Normalizer.Form.NFC))
                .replaceAll(Matcher.quoteReplacement(IMAGE_START + IMAGE_END));
        int open = stripped.lastIndexOf(IMAGE_START);
        if (open >= 0 && stripped.indexOf(IMAGE_END, open) < 0) {
            throw new IllegalArgumentException("unclosed image reference: the prompt has " + IMAGE_START
                    + " with no " + IMAGE_END + " after it");
        }
        return encodeRaw(stripped);
    }

    /**
     * The text of {@code ids}: their bytes decoded as UTF-8, malformed sequences replaced by
     * U+FFFD (Qwen decodes with errors="replace"); {@code skipSpecial} drops every special id,
     * as Qwen's {@code skip_special_tokens} drops ids from {@code <|endoftext|>} up. An id past the
     * table has no text: Qwen-VL's embedding has more rows (151936) than the tokenizer has tokens
     * (151860), so sampling can draw one. The tokenizers library drops such ids in its decode, and
     * every other family decodes through it; Qwen's Python tokenizer would raise instead.
     */
    public String decode(int[] ids, boolean skipSpecial) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(ids.length * 4);
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if (id < 0) {
                throw new IllegalArgumentException("negative token id " + id + " at position " + i);
            }
            if (id >= bytesById.length || skipSpecial && id >= ordinary) {
                continue;
            }
            buf.writeBytes(bytesById[id]);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
