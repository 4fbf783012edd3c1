package io.sparkmm.engine.detokenize;

import io.sparkmm.engine.tokenizer.HfTokenizer;
import java.util.Arrays;
import java.util.Objects;

/**
 * Turns one request's generated tokens into text as they arrive: {@link #accept} takes the next
 * token id and returns the text it adds, special tokens skipped (vLLM's default
 * skip_special_tokens=true). One instance per request; not thread-safe.
 *
 * <p>Decoding a single token is not enough: byte-level BPE splits a multi-byte character
 * ("日", "😀") over several tokens, and SentencePiece-style decoders drop the leading space of
 * the first token they see. So, like vLLM and TGI, it keeps two offsets into the ids: text up
 * to {@code readOffset} has been returned; {@code prefixOffset} starts a small window of earlier
 * tokens that gives the decoder its context. Each step decodes {@code [prefix, read)} and
 * {@code [prefix, end)}; the new text is what the second adds to the first. While it ends in
 * U+FFFD (the decoder's replacement for an incomplete UTF-8 sequence) nothing is returned and
 * the offsets stay, so the character comes out whole once its last byte arrives.
 *
 * <p>Invariant (tested): the deltas of all {@code accept} calls followed by {@link #flush()}
 * concatenate to {@code tokenizer.decode(outputIds, true)} for byte-level tokenizers. It does
 * not hold when tokenizer_config asks for clean_up_tokenization_spaces, which rewrites text
 * across token boundaries (neither Qwen nor the tiny test tokenizer do).
 *
 * <p>With prompt ids ({@link #withPrompt}) the window starts on the last prompt tokens, as in
 * vLLM, so the first generated token keeps a leading space that a SentencePiece decoder would
 * strip at the start of a text; for byte-level tokenizers both ways give the same text.
 */
public final class IncrementalDetokenizer {

    /** Prompt tokens put in the first window (vLLM's INITIAL_INCREMENTAL_DETOKENIZATION_OFFSET). */
    public static final int PROMPT_CONTEXT = 5;

    /** Once this many ids lie before the window, they are dropped from the buffer. */
    private static final int COMPACT_AT = 1024;

    private final HfTokenizer tokenizer;
    private int[] ids;
    private int length;
    private int prefixOffset;
    private int readOffset;
    /** Text of {@code [prefixOffset, readOffset)}, kept while the offsets do not move. */
    private String prefixText;
    private int outputTokens;

    private IncrementalDetokenizer(HfTokenizer tokenizer, int[] context) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.ids = Arrays.copyOf(context, Math.max(16, context.length * 2));
        this.length = context.length;
        this.prefixOffset = 0;
        this.readOffset = context.length;
    }

    /** A detokenizer whose text starts at the first generated token. */
    public static IncrementalDetokenizer create(HfTokenizer tokenizer) {
        return new IncrementalDetokenizer(tokenizer, new int[0]);
    }

    /**
     * A detokenizer that decodes generated tokens in the context of the last
     * {@link #PROMPT_CONTEXT} prompt tokens; the prompt's own text is never returned. Special
     * prompt tokens (such as {@code <|im_start|>}) are left out of the context, as decoding
     * would skip them anyway.
     */
    public static IncrementalDetokenizer withPrompt(HfTokenizer tokenizer, int[] promptIds) {
        Objects.requireNonNull(promptIds, "promptIds");
        int[] context = new int[PROMPT_CONTEXT];
        int n = 0;
        for (int i = promptIds.length - 1; i >= 0 && n < PROMPT_CONTEXT; i--) {
            if (!tokenizer.isSpecial(promptIds[i])) {
                context[PROMPT_CONTEXT - 1 - n++] = promptIds[i];
            }
        }
        return new IncrementalDetokenizer(tokenizer, Arrays.copyOfRange(context, PROMPT_CONTEXT - n, PROMPT_CONTEXT));
    }

    /**
     * Adds the next generated token and returns the text it completes: "" while a character is
     * still incomplete or for a special token, possibly several characters when an earlier
     * token's text is completed too.
     */
    public String accept(int tokenId) {
        if (tokenId < 0) {
            throw new IllegalArgumentException("negative token id " + tokenId);
        }
        outputTokens++;
        if (tokenizer.isSpecial(tokenId)) {
            // skipped by the decoder anyway; keeping it out of the window keeps the window short
            return "";
        }
        append(tokenId);
        String prefix = prefixText();
        String text = decode(prefixOffset, length);
        if (text.length() <= prefix.length() || text.charAt(text.length() - 1) == '\uFFFD') {
            return "";
        }
        String delta = text.substring(prefix.length());
        prefixOffset = readOffset;
        readOffset = length;
        prefixText = null;
        compact();
        return delta;
    }

    /**
     * The text still held back at the end of the request: an incomplete UTF-8 sequence (which the
     * full decode also shows as U+FFFD) or a genuine trailing U+FFFD. Returns "" when nothing is
     * pending; later {@code accept} calls carry on after it.
     */
    public String flush() {
        if (readOffset == length) {
            return "";
        }
        String prefix = prefixText();
        String text = decode(prefixOffset, length);
        String delta = text.length() > prefix.length() ? text.substring(prefix.length()) : "";
        prefixOffset = readOffset;
        readOffset = length;
        prefixText = null;
        return delta;
    }

    /** How many tokens {@link #accept} has taken, special ones included. */
    public int outputTokenCount() {
        return outputTokens;
    }

    private String prefixText() {
        if (prefixText == null) {
            prefixText = decode(prefixOffset, readOffset);
        }
        return prefixText;
    }

    private String decode(int from, int to) {
        return from == to ? "" : tokenizer.decode(Arrays.copyOfRange(ids, from, to), true);
    }

    private void append(int tokenId) {
        if (length == ids.length) {
            ids = Arrays.copyOf(ids, ids.length * 2);
        }
        ids[length++] = tokenId;
    }

    /** Tokens before the window are never decoded again: drop them so a long request stays small. */
    private void compact() {
        if (prefixOffset >= COMPACT_AT) {
            System.arraycopy(ids, prefixOffset, ids, 0, length - prefixOffset);
            length -= prefixOffset;
            readOffset -= prefixOffset;
            prefixOffset = 0;
        }
    }
}
