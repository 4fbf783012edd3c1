package io.sparkmm.engine.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Token string to id maps read from {@code tokenizer.json}: the model vocabulary plus the added
 * tokens. The native tokenizer does not expose its vocabulary, so we read it ourselves; the file
 * is streamed because the merges list of a BPE model is large and of no use here.
 */
final class Vocabulary {

    private final Map<String, Integer> idsByToken;
    private final Map<Integer, String> tokensById;
    private final Set<Integer> specialIds;

    private Vocabulary(Map<String, Integer> idsByToken, Map<Integer, String> tokensById,
            Set<Integer> specialIds) {
        this.idsByToken = idsByToken;
        this.tokensById = tokensById;
        this.specialIds = specialIds;
    }

    /** Number of distinct ids, added tokens included (what {@code len(tokenizer)} reports). */
    int size() {
        return tokensById.size();
    }

    OptionalInt id(String token) {
        Integer id = idsByToken.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The token string of {@code id}, or null when no token has that id. */
    String token(int id) {
        return tokensById.get(id);
    }

    boolean isSpecial(int id) {
        return specialIds.contains(id);
    }

    /**
     * Qwen's tiktoken vocabulary: ordinary tokens spelled with GPT-2's byte-to-unicode map (the
     * spelling of the same tokens in Qwen2's vocab.json), then the special tokens, all special.
     */
    static Vocabulary ofTiktoken(QwenTiktoken tiktoken) {
        String[] spelled = new String[256];
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            spelled[b] = String.valueOf((char) (printable ? b : 256 + extra++));
        }
        Map<String, Integer> ids = new HashMap<>(tiktoken.size() * 2);
        Map<Integer, String> tokens = new HashMap<>(tiktoken.size() * 2);
        for (int id = 0; id < tiktoken.ordinaryTokens(); id++) {
            StringBuilder sb = new StringBuilder();
            for (byte b : tiktoken.bytes(id)) {
                sb.append(spelled[b & 0xff]);
            }
            put(ids, tokens, sb.toString(), id);
        }
        Set<Integer> special = new HashSet<>();
        tiktoken.specialIds().forEach((text, id) -> {
            put(ids, tokens, text, id);
            special.add(id);
        });
        return new Vocabulary(ids, tokens, special);
    }

    static Vocabulary read(Path tokenizerJson) throws IOException {
        Map<String, Integer> ids = new HashMap<>();
        Map<Integer, String> tokens = new HashMap<>();
        Set<Integer> special = new HashSet<>();
        boolean sawModel = false;
        try (JsonParser p = new JsonFactory().createParser(tokenizerJson.toFile())) {
            expect(p.nextToken(), JsonToken.START_OBJECT, tokenizerJson, "top level");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if ("model".equals(field) && value == JsonToken.START_OBJECT) {
                    sawModel = true;
                    readModel(p, ids, tokens, tokenizerJson);
                } else if ("added_tokens".equals(field) && value == JsonToken.START_ARRAY) {
                    readAddedTokens(p, ids, tokens, special, tokenizerJson);
                } else {
                    p.skipChildren();
                }
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(tokenizerJson + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (!sawModel) {
            throw new IOException(tokenizerJson + ": no 'model' object found");
        }
        return new Vocabulary(ids, tokens, special);
    }

    private static void readModel(JsonParser p, Map<String, Integer> ids, Map<Integer, String> tokens,
            Path file) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if ("vocab".equals(field) && value == JsonToken.START_OBJECT) {
                // BPE, WordPiece, WordLevel: {"token": id, ...}
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String token = p.currentName();
                    p.nextToken();
                    put(ids, tokens, token, p.getIntValue());
                }
            } else if ("vocab".equals(field) && value == JsonToken.START_ARRAY) {
                // Unigram: [["token", score], ...]; the id is the position.
                int id = 0;
                while (p.nextToken() == JsonToken.START_ARRAY) {
                    expect(p.nextToken(), JsonToken.VALUE_STRING, file, "model.vocab entry");
                    put(ids, tokens, p.getText(), id++);
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        p.skipChildren();
                    }
                }
            } else {
                p.skipChildren();
            }
        }
    }

    private static void readAddedTokens(JsonParser p, Map<String, Integer> ids,
            Map<Integer, String> tokens, Set<Integer> special, Path file) throws IOException {
        while (p.nextToken() == JsonToken.START_OBJECT) {
            Integer id = null;
            String content = null;
            boolean isSpecial = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                switch (field) {
                    case "id" -> id = p.getIntValue();
                    case "content" -> content = p.getText();
                    case "special" -> isSpecial = p.getBooleanValue();
                    default -> p.skipChildren();
                }
            }
            if (id == null || content == null) {
                throw new IOException(file + ": an 'added_tokens' entry lacks 'id' or 'content'");
            }
            put(ids, tokens, content, id);
            if (isSpecial) {
                special.add(id);
            }
        }
    }

    private static void put(Map<String, Integer> ids, Map<Integer, String> tokens, String token,
            int id) {
        ids.put(token, id);
        tokens.put(id, token);
    }

    private static void expect(JsonToken actual, JsonToken expected, Path file, String where)
            throws IOException {
        if (actual != expected) {
            throw new IOException(file + ": expected " + expected + " at " + where + ", got " + actual);
        }
    }
}
