package io.sparkmm.engine.encoders.onnx;

import io.sparkmm.engine.EngineOptions;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.models.qwen2vl.Qwen2VlTesting;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.engine.sampling.SamplingParams;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Backends;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.cache.ProcessorCache;
import io.sparkmm.processors.media.MediaSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A Qwen2-VL ONNX vision graph covers the one grid it was exported for (recorded in its metadata as
 * sparkmm.grid_thw): an image of another grid fails its own request naming both grids and the fix,
 * and so does a video, while the others in the same engine run on; a graph without the grid, or whose recorded grid disagrees
 * with its input, fails at open naming the file.
 */
class OnnxQwen2VlGridTest {

    static final Path CKPT = OnnxEncoderOracleTest.QWEN2VL.resolve("qwen2_vl_ours_hub_bf16");
    static final Path GRAPH = OnnxEncoderOracleTest.ONNX.resolve("qwen2_vl_ours_hub_bf16-1x8x8.onnx");
    static Backend backend;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() {
        backend = Backends.open("cpu", 1);
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    @Test
    void anImageOfAnotherGridOrAVideoFailsOnlyItsRequest() throws Exception {
        SamplingParams greedy = SamplingParams.greedy(4).toBuilder().ignoreEos(true).build();
        Path clip = Qwen2VlTesting.ffmpeg(tmp.resolve("clip.mp4"), "testsrc=size=112x112:rate=10:duration=1",
                "-pix_fmt", "yuv420p");
        String q = " what is it?";
        // 112x112 is the export's grid (1, 8, 8); 140x112 resizes to (1, 8, 10); 100x120 to (1, 8, 8)
        List<PromptInput> prompts = List.of(
                image(Qwen2VlTesting.IMAGE + q, Qwen2VlTesting.image(112, 112, 7)),
                image(Qwen2VlTesting.IMAGE + q, Qwen2VlTesting.image(140, 112, 8)),
                new PromptInput(Qwen2VlTesting.VIDEO + q, null, false, null, List.of(), List.of(),
                        List.of(MediaSource.ofPath(clip.toString())), ProcessorKwargs.NONE),
                image(Qwen2VlTesting.IMAGE + q, Qwen2VlTesting.image(100, 120, 9)));
        List<EngineResult> onnx = run(LoadedModel.open(CKPT, backend, GRAPH), prompts, greedy);
        List<EngineResult> nativeTower = run(LoadedModel.open(CKPT, backend), prompts, greedy);

        assertThat(onnx.get(1).error()).contains("(1, 8, 10)", "(1, 8, 8)", "112x112", "min_pixels = max_pixels",
                "without the ONNX encoder");
        assertThat(onnx.get(1).tokenIds()).isEmpty();
        assertThat(onnx.get(2).error()).contains("ONNX encoder takes images", "video", "native vision tower");
        assertThat(onnx.get(2).tokenIds()).isEmpty();
        for (int i = 0; i < prompts.size(); i++) {
            assertThat(nativeTower.get(i).error()).as("native request %d", i).isNull();
        }
        for (int i : new int[] {0, 3}) {
            assertThat(onnx.get(i).error()).as("request %d", i).isNull();
            assertThat(onnx.get(i).tokenIds()).as("request %d", i).hasSize(4)
                    .containsExactly(nativeTower.get(i).tokenIds());
        }
    }

    private static PromptInput image(String text, MediaSource image) {
        return PromptInput.text(text, false, List.of(image));
    }

    /** Every prompt as its own request, all submitted before any result is read. */
    private static List<EngineResult> run(LoadedModel model, List<PromptInput> prompts, SamplingParams sampling)
            throws Exception {
        try (model; EngineSession s = EngineSession.over(model, EngineOptions.defaults(), new ProcessorCache(0))) {
            List<CompletableFuture<EngineResult>> futures = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                futures.add(s.engine().submit(s.requests().build("r" + i, prompts.get(i), sampling)).result());
            }
            List<EngineResult> out = new ArrayList<>();
            for (CompletableFuture<EngineResult> f : futures) {
                out.add(f.get());
            }
            return out;
        }
    }

    @Test
    void aGraphWithoutItsGridIsRefusedAtOpen() {
        int before = OnnxSessions.open();
        assertThatThrownBy(() -> LoadedModel.open(CKPT, backend,
                OnnxEncoderOracleTest.ONNX.resolve("llava-llama-default-bf16.onnx")).close())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("llava-llama-default-bf16.onnx", "has no metadata sparkmm.grid_thw");
        assertThat(OnnxSessions.open()).isEqualTo(before);
    }

    @Test
    void aRecordedGridThatDisagreesWithTheInputIsRefusedAtOpen() throws Exception {
        // the same graph with its metadata rewritten in place (same length, so the protobuf stays valid)
        byte[] bytes = Files.readAllBytes(GRAPH);
        String latin = new String(bytes, StandardCharsets.ISO_8859_1);
        int at = latin.indexOf("sparkmm.grid_thw");
        int value = latin.indexOf("1,8,8", at);
        assertThat(at).isPositive();
        assertThat(value).isGreaterThan(at);
        Path wrong = tmp.resolve("wrong-grid.onnx");
        Files.write(wrong, patch(bytes, value, "1,4,4"));
        assertThatThrownBy(() -> LoadedModel.open(CKPT, backend, wrong).close())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("wrong-grid.onnx", "input pixel_values is float[64, 1176]",
                        "pixel_values float[16, 1176]", "(1, 4, 4)");
        Path bad = tmp.resolve("bad-grid.onnx");
        Files.write(bad, patch(bytes, value, "1,8,x"));
        assertThatThrownBy(() -> LoadedModel.open(CKPT, backend, bad).close())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContainingAll("bad-grid.onnx", "sparkmm.grid_thw = \"1,8,x\"", "is not a grid");
    }

    private static byte[] patch(byte[] bytes, int at, String value) {
        byte[] out = bytes.clone();
        byte[] v = value.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(v, 0, out, at, v.length);
        return out;
    }
}
