package io.sparkmm.engine.structured;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.tokenizer.HfTokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The bytes each token adds to the decoded text, as the checkpoint's {@code tokenizer.json} decoder
 * produces them: ByteLevel (GPT-2's byte-to-character table reversed: Qwen, Llama 3), SentencePiece
 * style ({@code ▁} for a space, {@code <0xNN>} byte fallback, one leading space stripped from the
 * text: Llama 2, Mistral), WordPiece (tokens joined by spaces, {@code ##} continuing a word), else the
 * token's own UTF-8. Special tokens have none: a constraint never allows them.
 *
 * <p>The first token of an output can differ from the same token later (the stripped space, the
 * join), so there are two tables: {@link #first(int)} and {@link #later(int)}.
 */
public final class TokenBytes {

    enum Scheme { BYTE_LEVEL, SENTENCEPIECE, WORDPIECE, PLAIN }

    private final byte[][] first;
    private final byte[][] later;
    private final Scheme scheme;
    /** [first byte] -> ids whose later bytes start with it (non-empty only): every index build walks these. */
    private final int[][] laterByFirstByte;
    /** The tokenizer file this came from: the cache key of indexes built over it. */
    private final String source;

    private TokenBytes(byte[][] first, byte[][] later, Scheme scheme, String source) {
        this.first = first;
        this.later = later;
        this.scheme = scheme;
        this.source = source;
        this.laterByFirstByte = groupByFirstByte(later);
    }

    private static int[][] groupByFirstByte(byte[][] tokens) {
        int[] counts = new int[256];
        for (byte[] b : tokens) {
            if (b != null && b.length > 0) {
                counts[b[0] & 0xff]++;
            }
        }
        int[][] groups = new int[256][];
        for (int i = 0; i < 256; i++) {
            groups[i] = new int[counts[i]];
        }
        int[] filled = new int[256];
        for (int id = 0; id < tokens.length; id++) {
            byte[] b = tokens[id];
            if (b != null && b.length > 0) {
                int first = b[0] & 0xff;
                groups[first][filled[first]++] = id;
            }
        }
        return groups;
    }

    /** [byte] -> the ids, ascending, whose {@link #later} bytes start with that byte; shared, do not modify. */
    int[][] laterByFirstByte() {
        return laterByFirstByte;
    }

    /** Reads the decoder of {@code modelDir/tokenizer.json} and maps every id of {@code tokenizer}. */
    public static TokenBytes of(HfTokenizer tokenizer, Path modelDir) {
        Scheme scheme = tokenizer.byteLevelTiktoken() ? Scheme.BYTE_LEVEL : decoderScheme(modelDir);
        int v = tokenizer.vocabSize();
        byte[][] first = new byte[v][];
        byte[][] later = new byte[v][];
        for (int id = 0; id < v; id++) {
            String token = tokenizer.token(id);
            if (token == null || tokenizer.isSpecial(id)) {
                continue;
            }
            byte[][] pair = bytes(scheme, token);
            first[id] = pair[0];
            later[id] = pair[1];
        }
        return new TokenBytes(first, later, scheme, modelDir.toAbsolutePath().toString());
    }

    private static Scheme decoderScheme(Path modelDir) {
        try {
            JsonNode root = new ObjectMapper().readTree(modelDir.resolve(HfTokenizer.TOKENIZER_FILE).toFile());
            return scheme(root.path("decoder"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the decoder of " + modelDir.resolve(HfTokenizer.TOKENIZER_FILE), e);
        }
    }

    /** For tests: a vocabulary given as the bytes each token adds, the same first or later. */
    public static TokenBytes ofBytes(byte[][] tokens) {
        return new TokenBytes(tokens, tokens, Scheme.PLAIN, "bytes@" + System.identityHashCode(tokens));
    }

    static Scheme scheme(JsonNode decoder) {
        String type = decoder.path("type").asText("");
        switch (type) {
            case "ByteLevel":
                return Scheme.BYTE_LEVEL;
            case "Metaspace":
                return Scheme.SENTENCEPIECE;
            case "WordPiece":
                return Scheme.WORDPIECE;
            case "Sequence":
                for (JsonNode d : decoder.path("decoders")) {
                    Scheme s = scheme(d);
                    if (s != Scheme.PLAIN) {
                        return s;
                    }
                    if ("ByteFallback".equals(d.path("type").asText()) || "▁".equals(d.path("pattern").path("String").asText())) {
                        return Scheme.SENTENCEPIECE;
                    }
                }
                return Scheme.PLAIN;
            default:
                return Scheme.PLAIN;
        }
    }

    private static byte[][] bytes(Scheme scheme, String token) {
        switch (scheme) {
            case BYTE_LEVEL: {
                byte[] b = ByteLevelAlphabet.decode(token);
                return new byte[][] {b, b};
            }
            case SENTENCEPIECE: {
                byte[] b;
                if (token.length() == 6 && token.startsWith("<0x") && token.endsWith(">")) {
                    b = new byte[] {(byte) Integer.parseInt(token.substring(3, 5), 16)};
                } else {
                    b = token.replace('▁', ' ').getBytes(StandardCharsets.UTF_8);
                }
                byte[] f = b.length > 0 && b[0] == ' ' ? java.util.Arrays.copyOfRange(b, 1, b.length) : b;
                return new byte[][] {f, b};
            }
            case WORDPIECE: {
                if (token.startsWith("##")) {
                    byte[] b = token.substring(2).getBytes(StandardCharsets.UTF_8);
                    return new byte[][] {b, b};
                }
                byte[] b = token.getBytes(StandardCharsets.UTF_8);
                byte[] spaced = (" " + token).getBytes(StandardCharsets.UTF_8);
                return new byte[][] {b, spaced};
            }
            default: {
                byte[] b = token.getBytes(StandardCharsets.UTF_8);
                return new byte[][] {b, b};
            }
        }
    }

    public int size() {
        return later.length;
    }

    /** The bytes of {@code id} as an output's first token; null for special or unknown ids. */
    public byte[] first(int id) {
        return id < first.length ? first[id] : null;
    }

    /** The bytes of {@code id} after another output token; null for special or unknown ids. */
    public byte[] later(int id) {
        return id < later.length ? later[id] : null;
    }

    String source() {
        return source;
    }

    Scheme scheme() {
        return scheme;
    }
}
