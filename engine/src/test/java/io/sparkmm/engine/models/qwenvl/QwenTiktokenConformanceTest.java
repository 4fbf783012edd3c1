package io.sparkmm.engine.models.qwenvl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkmm.engine.tokenizer.HfTokenizer;
import io.sparkmm.engine.tokenizer.QwenTiktoken;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Qwen-VL's tokenizer (jtokkit over qwen.tiktoken, Qwen's pattern and special tokens) against
 * tiktoken itself, the library tokenization_qwen.py calls, built exactly as that file builds it:
 * ids, decoded text (also token by token, partial characters included) and skip-special decoding
 * of 309 strings (English, code, digits, CJK, emoji,
 * other scripts, whitespace runs, special tokens, image references), recorded by
 * src/test/python/qwenvl_tokenizer_fixtures.py.
 */
class QwenTiktokenConformanceTest {

    @TempDir
    static Path dir;
    static JsonNode fixture;
    static QwenTiktoken tiktoken;

    @BeforeAll
    static void load() throws Exception {
        fixture = new ObjectMapper().readTree(Path.of("src/test/resources/qwenvl/tokenizer_fixture.json").toFile());
        String sha = QwenTiktokenFiles.derive(dir.resolve(QwenTiktoken.FILE));
        assertThat(sha).as("qwen.tiktoken derived here and by the oracle script").isEqualTo(fixture.get("qwen_tiktoken_sha256").asText());
        tiktoken = QwenTiktoken.load(dir.resolve(QwenTiktoken.FILE));
    }

    @Test
    void specialTokensHaveQwenVlIds() {
        assertThat(tiktoken.ordinaryTokens()).isEqualTo(151643);
        assertThat(tiktoken.size()).isEqualTo(151860);
        fixture.get("special_tokens").properties().forEach(e ->
                assertThat(tiktoken.specialIds().get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue().asInt()));
        assertThat(tiktoken.specialIds()).containsEntry("<img>", 151857).containsEntry("</img>", 151858)
                .containsEntry("<imgpad>", 151859).containsEntry("<|endoftext|>", 151643).hasSize(217);
        assertThat(fixture.get("pat_str").asText()).isEqualTo(QwenTiktoken.PATTERN);
    }

    @Test
    void everyFixtureStringEncodesAndDecodesAsTiktoken() {
        List<String> wrong = new ArrayList<>();
        int n = 0;
        int partial = 0;
        for (JsonNode c : fixture.get("cases")) {
            n++;
            String text = c.get("text").asText();
            int[] ids = ints(c.get("ids"));
            if (!java.util.Arrays.equals(tiktoken.encodeRaw(text), ids)) {
                wrong.add("encode " + ascii(text) + ": " + java.util.Arrays.toString(tiktoken.encodeRaw(text))
                        + " != " + java.util.Arrays.toString(ids));
            }
            int[] prompt = c.has("prompt_ids") ? ints(c.get("prompt_ids")) : ids;
            if (!java.util.Arrays.equals(tiktoken.encode(text), prompt)) {
                wrong.add("prompt " + ascii(text));
            }
            if (!tiktoken.decode(ids, false).equals(c.get("decoded").asText())) {
                wrong.add("decode " + ascii(text));
            }
            if (!tiktoken.decode(ids, true).equals(c.get("decoded_skip").asText())) {
                wrong.add("decode skipping specials " + ascii(text));
            }
            if (c.has("decoded_each")) {
                for (int i = 0; i < ids.length; i++) {
                    partial++;
                    if (!tiktoken.decode(new int[] {ids[i]}, false).equals(c.get("decoded_each").get(i).asText())) {
                        wrong.add("decode of token " + ids[i] + " alone in " + ascii(text));
                    }
                }
            }
        }
        assertThat(n).isGreaterThanOrEqualTo(300);
        assertThat(partial).as("single-token decodes of non-ASCII strings").isGreaterThan(500);
        assertThat(wrong).as("of %d cases", n).isEmpty();
    }

    @Test
    void anImageReferenceLosesItsInsideAndAnUnclosedOneIsAnError() {
        assertThat(tiktoken.encode("Picture 1: <img>/tmp/a.png</img>\nHi"))
                .containsExactly(tiktoken.encodeRaw("Picture 1: <img></img>\nHi"));
        assertThatThrownBy(() -> tiktoken.encode("look <img>cat.png"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unclosed image reference");
    }

    /** Qwen-VL's lm_head has 151936 rows: the 76 past the table decode to nothing, as in the tokenizers library. */
    @Test
    void idsPastTheTableHaveNoText() {
        int[] hi = tiktoken.encode("Hi there");
        assertThat(hi).hasSize(2);
        int[] withPadding = {hi[0], 151860, hi[1], 151935};
        assertThat(tiktoken.decode(withPadding, true)).isEqualTo(tiktoken.decode(hi, true)).isEqualTo("Hi there");
        assertThat(tiktoken.decode(withPadding, false)).isEqualTo("Hi there");
        assertThatThrownBy(() -> tiktoken.decode(new int[] {hi[0], -3}, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-3");
    }

    @Test
    void theModelFolderTokenizerUsesQwenTiktokenWhenThereIsNoTokenizerJson() throws Exception {
        assertThat(HfTokenizer.present(dir)).isTrue();
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            assertThat(tok.byteLevelTiktoken()).isTrue();
            assertThat(tok.vocabSize()).isEqualTo(151860);
            assertThat(tok.encode("Hello world", true)).containsExactly(9707, 1879);
            assertThat(tok.token(1879)).isEqualTo("\u0120world");
            assertThat(tok.tokenId("<imgpad>")).hasValue(151859);
            assertThat(tok.isSpecial(151643)).isTrue();
            assertThat(tok.isSpecial(1879)).isFalse();
            assertThat(tok.decode(new int[] {9707, 151643, 1879}, true)).isEqualTo("Hello world");
        }
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    private static String ascii(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(cp -> sb.append(cp >= 32 && cp < 127 ? String.valueOf((char) cp) : String.format("\\u%04x", cp)));
        return sb.append('"').toString();
    }
}
