package io.sparkmm.engine.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random multimodal workloads: requests with up to four images drawn from a small set (so the
 * encoder cache hits and evicts), shared prompt templates with images (so prefix hits cover or cut
 * through items), small encoder budgets and caches (so chunks are cut before items), small KV pools
 * (so requests are preempted mid-image), chunked prefill and aborts. {@link Harness} checks every
 * step (encoder references, engine-side outputs, budgets); every finished request must produce
 * exactly what it produces alone with no paging, chunking or caching.
 */
class SchedulerMediaSoakTest {
    private static final int SCENARIOS = 6;
    private static final int REQUESTS_PER_SCENARIO = 40;
    private static final int MAX_PROMPT = 120;
    private static final int IMAGES = 6;

    private long preemptions;
    private long hitTokens;
    private long encoderHits;
    private long evictions;
    private long cuts;
    private long prefixWaits;

    /** A prompt prefix with images in it, shared by several requests. */
    private record Template(int[] tokens, List<MediaItem> media) {}

    @Test
    void randomMultimodalWorkloadsCompleteWithReferenceOutputs() {
        for (int s = 0; s < SCENARIOS; s++) {
            runScenario(new Random(7000 + s), s);
        }
        assertThat(preemptions).as("preemptions").isPositive();
        assertThat(hitTokens).as("prefix hit tokens").isPositive();
        assertThat(encoderHits).as("encoder cache hits").isPositive();
        assertThat(evictions).as("encoder cache evictions").isPositive();
        assertThat(cuts).as("chunks cut before an item").isPositive();
        assertThat(prefixWaits).as("waits for in-flight prefix blocks").isPositive();
    }

    private void runScenario(Random rnd, int scenario) {
        int bs = new int[] {1, 2, 4, 8, 16}[rnd.nextInt(5)];
        int minBlocks = (MAX_PROMPT + 1 + bs - 1) / bs;
        int[] imageRows = new int[IMAGES];
        int largest = 0;
        for (int k = 0; k < IMAGES; k++) {
            imageRows[k] = 1 + rnd.nextInt(24);
            largest = Math.max(largest, imageRows[k]);
        }
        SchedulerConfig config = new SchedulerConfig(
                4 + rnd.nextInt(200),
                1 + rnd.nextInt(12),
                minBlocks + rnd.nextInt(2 * minBlocks),
                bs,
                scenario == 0 || rnd.nextInt(4) > 0,
                MAX_PROMPT + 1 + rnd.nextInt(40),
                rnd.nextBoolean() ? 0 : 1 + rnd.nextInt(32),
                largest + rnd.nextInt(3 * largest),
                largest + rnd.nextInt(4 * largest));
        Harness h = new Harness(config);
        List<Template> templates = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            templates.add(template(rnd, imageRows, 40 + rnd.nextInt(20), scenario * 10 + t));
        }
        int submitted = 0;
        int steps = 0;
        while (submitted < REQUESTS_PER_SCENARIO || h.scheduler.hasUnfinished()) {
            assertThat(steps++).as("scenario %d: steps (%s)", scenario, config).isLessThan(50_000);
            int arrivals = submitted < REQUESTS_PER_SCENARIO ? rnd.nextInt(4) : 0;
            if (!h.scheduler.hasUnfinished() && arrivals == 0 && submitted < REQUESTS_PER_SCENARIO) {
                arrivals = 1;
            }
            for (int a = 0; a < arrivals && submitted < REQUESTS_PER_SCENARIO; a++) {
                Sequence seq = request(rnd, "s" + scenario + "-r" + submitted, templates, imageRows, submitted);
                h.submit(seq, 1 + rnd.nextInt(16));
                submitted++;
            }
            if (rnd.nextInt(60) == 0) {
                abortRandom(h, rnd);
            }
            countCuts(h, h.step());
        }
        h.assertOutputsMatchReference();
        // An image bigger than the encoder could ever take is refused without harm.
        assertThatThrownBy(() -> h.scheduler.add(new Sequence("too-big", new int[config.encoderCacheRows() + 2],
                List.of(Media.item(0, "huge", 1, config.encoderCacheRows() + 1)), null, 0)))
                .isInstanceOf(IllegalArgumentException.class);
        SchedulerStats stats = h.scheduler.stats();
        assertThat(stats.kvBlocksUsed()).isZero();
        assertThat(stats.encoderCacheRowsUsed()).isLessThanOrEqualTo(config.encoderCacheRows());
        long encodes = h.model.encodes.values().stream().mapToLong(Integer::longValue).sum();
        assertThat(stats.encoderCacheMisses()).isEqualTo(encodes);
        System.out.printf("media scenario %d: %s steps=%d preemptions=%d hitTokens=%d encodes=%d encHits=%d evictions=%d%n",
                scenario, config, steps, stats.preemptions(), stats.prefixHitTokens(), encodes, stats.encoderCacheHits(),
                stats.encoderCacheEvictions());
        preemptions += stats.preemptions();
        hitTokens += stats.prefixHitTokens();
        prefixWaits += stats.prefixWaits();
        encoderHits += stats.encoderCacheHits();
        evictions += stats.encoderCacheEvictions();
    }

    /** A chunk that stops right at the offset of an item it does not cover, before the prompt's end. */
    private void countCuts(Harness h, SchedulerOutput out) {
        for (ScheduledChunk c : out.chunks()) {
            int end = c.startPosition() + c.numTokens();
            for (MediaItem m : h.sequences.get(c.requestId()).mediaItems()) {
                if (m.offset() == end && c.encodeItems().isEmpty() && !c.samples()) {
                    cuts++;
                }
            }
        }
    }

    private static Template template(Random rnd, int[] imageRows, int length, int seed) {
        int[] tokens = Harness.tokens(length, 9000 + seed);
        List<MediaItem> media = new ArrayList<>();
        int pos = rnd.nextInt(8);
        while (media.size() < 2) {
            int k = rnd.nextInt(IMAGES);
            if (pos + imageRows[k] > length) {
                break;
            }
            media.add(Media.item(media.size(), "img-" + k, pos, imageRows[k]));
            Arrays.fill(tokens, pos, pos + imageRows[k], Media.PLACEHOLDER);
            pos += imageRows[k] + rnd.nextInt(10);
        }
        return new Template(tokens, media);
    }

    /** Optionally a template, then own text with up to two more images. */
    private static Sequence request(Random rnd, String id, List<Template> templates, int[] imageRows, long arrival) {
        int[] prompt = new int[MAX_PROMPT];
        List<MediaItem> media = new ArrayList<>();
        int len = 0;
        if (rnd.nextBoolean()) {
            Template t = templates.get(rnd.nextInt(templates.size()));
            System.arraycopy(t.tokens(), 0, prompt, 0, t.tokens().length);
            media.addAll(t.media());
            len = t.tokens().length;
        }
        int own = 1 + rnd.nextInt(MAX_PROMPT - len - 30);
        int end = len + own;
        for (int i = len; i < end; i++) {
            prompt[i] = rnd.nextInt(900);
        }
        int images = rnd.nextInt(3);
        int pos = len + rnd.nextInt(Math.max(1, own / 2));
        for (int j = 0; j < images; j++) {
            int k = rnd.nextInt(IMAGES);
            if (pos + imageRows[k] > end) {
                break;
            }
            media.add(Media.item(media.size(), "img-" + k, pos, imageRows[k]));
            Arrays.fill(prompt, pos, pos + imageRows[k], Media.PLACEHOLDER);
            pos += imageRows[k] + rnd.nextInt(6);
        }
        return new Sequence(id, Arrays.copyOf(prompt, end), media, null, arrival);
    }

    private static void abortRandom(Harness h, Random rnd) {
        List<Sequence> live = new ArrayList<>(h.scheduler.runningSnapshot());
        live.addAll(h.scheduler.waitingSnapshot());
        if (!live.isEmpty()) {
            assertThat(h.scheduler.abort(live.get(rnd.nextInt(live.size())).requestId())).isTrue();
        }
    }
}
