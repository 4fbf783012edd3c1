package io.sparkmm.connector.engine;

import io.sparkmm.connector.media.HadoopRemoteFiles;
import io.sparkmm.connector.generate.GeneratorOptions;
import io.sparkmm.connector.generate.GeneratorOptions.Mode;
import io.sparkmm.connector.generate.GeneratorSettings;
import io.sparkmm.connector.generate.OrderedWindow;
import io.sparkmm.connector.generate.RequestFactory;
import io.sparkmm.connector.generate.RowInput;
import io.sparkmm.connector.generate.RowWaiter;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.EngineSession;
import io.sparkmm.engine.LoadedModel;
import io.sparkmm.engine.models.text.TinyCheckpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The executor's engine pool over a real tiny checkpoint, without Spark: weights shared across
 * engine options, reference counting, the processor cache's one size, idle eviction on a fake
 * clock, and what rows see when their engine is gone.
 */
class EnginePoolTest {

    private static final long CACHE = 1L << 20;
    private static final Duration IDLE = Duration.ofSeconds(10);
    /** The device the tests' engines resolve to (ExecutorEngines resolves it through DeviceAssignment). */
    private static final String REF = "cpu-reference";

    @TempDir
    static Path dir;
    private static String model;

    private final AtomicInteger loads = new AtomicInteger();
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final List<EnginePool> pools = new ArrayList<>();

    @BeforeAll
    static void writeModel() {
        model = TinyCheckpoint.write(dir.resolve("tiny"), TinyCheckpoint.Spec.llamaGqa()).toString();
    }

    @AfterEach
    void closePools() {
        pools.forEach(EnginePool::closeAll);
    }

    private EnginePool pool(Duration idle) {
        EnginePool p = new EnginePool(k -> {
            loads.incrementAndGet();
            return EngineSession.loadModel(k.modelPath(), k.device(), k.encoderOnnx());
        }, idle, now::get);
        pools.add(p);
        return p;
    }

    /** Small KV pools: the default takes a share of the heap per engine. */
    private static EngineKey key(int maxSeqs) {
        return new EngineKey(model, 256, maxSeqs, 4L << 20, "cpu-reference");
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void enginesDifferingOnlyInMaxSeqsShareOneLoadedModel() throws Exception {
        EnginePool pool = pool(IDLE);
        try (EngineLease a = pool.acquire(key(4), REF, CACHE); EngineLease b = pool.acquire(key(8), REF, CACHE);
             EngineLease a2 = pool.acquire(key(4), REF, CACHE)) {
            assertThat(a.engine()).isNotSameAs(b.engine());
            assertThat(a.engine().engine()).isNotSameAs(b.engine().engine());
            assertThat(a.engine().engine().config().maxNumSeqs()).isEqualTo(4);
            assertThat(b.engine().engine().config().maxNumSeqs()).isEqualTo(8);
            assertThat(a.engine().model()).isSameAs(b.engine().model());
            assertThat(a2.engine()).as("an equal key gets the same engine").isSameAs(a.engine());
            assertThat(a.engine().users()).isEqualTo(2);
            assertThat(loads).hasValue(1);
            assertThat(pool.loadedModels()).isEqualTo(1);
            assertThat(generate(a.engine()).ok()).isTrue();
            assertThat(generate(b.engine()).ok()).isTrue();
        }
        assertThat(pool.loaded()).hasSize(2).allMatch(e -> e.users() == 0);
    }

    @Test
    void anOnnxEncoderLoadsItsOwnModelAndRunsAsItsEncoder() throws Exception {
        Path res = Path.of("../engine/src/test/resources");
        String llava = res.resolve("checkpoints-llava/llava-llama-default-bf16").toString();
        String onnx = res.resolve("onnx/llava-llama-default-bf16.onnx").toString();
        EngineKey plain = new EngineKey(llava, 256, 4, 4L << 20, "cpu", "f32", 0, true);
        EngineKey withOnnx = new EngineKey(llava, 256, 4, 4L << 20, "cpu", "f32", 0, true, onnx);
        EnginePool pool = pool(IDLE);
        try (EngineLease a = pool.acquire(plain, "cpu", CACHE); EngineLease b = pool.acquire(withOnnx, "cpu", CACHE);
             EngineLease b2 = pool.acquire(withOnnx, "cpu", CACHE)) {
            assertThat(b2.engine()).isSameAs(b.engine());
            assertThat(a.engine().model()).isNotSameAs(b.engine().model());
            assertThat(loads).hasValue(2);
            assertThat(a.engine().model().model()).isNotInstanceOf(io.sparkmm.engine.encoders.ExternalEncoderModel.class);
            assertThat(b.engine().model().model()).isInstanceOf(io.sparkmm.engine.encoders.ExternalEncoderModel.class);
            assertThat(((io.sparkmm.engine.encoders.ExternalEncoderModel) b.engine().model().model()).encoder()
                    .description()).contains(Path.of(onnx).toAbsolutePath().normalize().toString());
        }
    }

    @Test
    void theLastEngineOverAModelClosesItAndALaterTaskLoadsItAgain() throws Exception {
        EnginePool pool = pool(IDLE);
        EngineLease a = pool.acquire(key(4), REF, CACHE);
        EngineLease b = pool.acquire(key(8), REF, CACHE);
        LoadedModel first = a.engine().model();
        a.close();
        a.close(); // idempotent: a task may close on its last row and again at task end
        assertThat(a.engine().users()).isZero();

        advance(IDLE.plusSeconds(1));
        assertThat(pool.evictIdle()).as("only the engine no task holds goes").isEqualTo(1);
        assertThat(a.engine().isClosed()).isTrue();
        assertThat(b.engine().isClosed()).isFalse();
        assertThat(pool.loadedModels()).as("b still uses the weights").isEqualTo(1);
        assertThat(generate(b.engine()).ok()).isTrue();

        b.close();
        advance(IDLE.plusSeconds(1));
        assertThat(pool.evictIdle()).isEqualTo(1);
        assertThat(pool.loaded()).isEmpty();
        assertThat(pool.loadedModels()).as("the last engine closed the model").isZero();

        try (EngineLease again = pool.acquire(key(4), REF, CACHE)) {
            assertThat(loads).hasValue(2);
            assertThat(again.engine()).isNotSameAs(a.engine());
            assertThat(again.engine().model()).isNotSameAs(first);
            assertThat(generate(again.engine()).ok()).isTrue();
        }
    }

    @Test
    void anEngineIsEvictedOnlyWhenUnheldAndIdleLongerThanTheTimeout() throws Exception {
        EnginePool pool = pool(IDLE);
        EngineLease held = pool.acquire(key(4), REF, CACHE);
        advance(IDLE.multipliedBy(100));
        assertThat(pool.evictIdle()).as("a task holds it, however long ago it started").isZero();
        held.close();
        advance(IDLE.minusSeconds(1));
        assertThat(pool.evictIdle()).as("idle, but not for long enough").isZero();
        advance(Duration.ofSeconds(2));
        assertThat(pool.evictIdle()).isEqualTo(1);
        assertThat(held.engine().isClosed()).isTrue();
        assertThat(pool.evictIdle()).isZero();
    }

    @Test
    void oneKeyOnTwoDevicesGetsTwoEnginesAndTwoCopiesOfTheWeightsWhileOneDeviceSharesThem() throws Exception {
        EnginePool pool = pool(IDLE);
        EngineKey auto = new EngineKey(model, 256, 4, 4L << 20, null);
        // as two tasks of one executor on GPUs 0 and 1 would: one driver key, two resolved devices
        try (EngineLease onRef = pool.acquire(auto, REF, CACHE); EngineLease onCpu = pool.acquire(auto, "cpu", CACHE);
             EngineLease again = pool.acquire(auto, REF, CACHE); EngineLease named = pool.acquire(key(8), REF, CACHE)) {
            assertThat(onRef.engine()).isNotSameAs(onCpu.engine());
            assertThat(onRef.engine().model()).as("weights live on their device").isNotSameAs(onCpu.engine().model());
            assertThat(onRef.engine().device()).isEqualTo(REF);
            assertThat(onCpu.engine().device()).isEqualTo("cpu");
            assertThat(onRef.engine().key().device()).as("the key keeps the user's word").isEqualTo("auto");
            assertThat(onCpu.engine().key()).isEqualTo(onRef.engine().key());
            assertThat(again.engine()).as("same key, same device: one engine").isSameAs(onRef.engine());
            assertThat(named.engine().model()).as("same model, same device: one copy of the weights")
                    .isSameAs(onRef.engine().model());
            assertThat(loads).hasValue(2);
            assertThat(pool.loaded()).hasSize(3);
            assertThat(generate(onCpu.engine()).ok()).isTrue();
        }
        // releasing finds each engine's slot by key and device
        assertThat(pool.loaded()).allMatch(e -> e.users() == 0);
    }

    @Test
    void aZeroTimeoutNeverEvicts() {
        EnginePool pool = pool(Duration.ZERO);
        pool.acquire(key(4), REF, CACHE).close();
        advance(Duration.ofDays(365));
        assertThat(pool.evictIdle()).isZero();
        assertThat(pool.loaded()).hasSize(1);
    }

    @Test
    void aSecondProcessorCacheSizeFailsNamingTheOptionAndBothValues() {
        EnginePool pool = pool(IDLE);
        pool.acquire(key(4), REF, CACHE).close();
        assertThatThrownBy(() -> pool.acquire(key(8), REF, 2 * CACHE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("processorCacheBytes")
                .hasMessageContaining(Long.toString(2 * CACHE))
                .hasMessageContaining(Long.toString(CACHE));
        assertThat(GeneratorOptions.PROCESSOR_CACHE_BYTES.name()).isEqualTo("processorCacheBytes");
        assertThat(pool.loaded()).as("the refused call loaded nothing").hasSize(1);
        pool.acquire(key(8), REF, CACHE).close();
        assertThat(pool.loaded()).hasSize(2);
    }

    @Test
    void rowsOfAStoppedEngineGetAnErrorNamingThemInPermissiveMode() {
        AtomicInteger ended = new AtomicInteger();
        OrderedWindow<String, Object[]> window = window(stoppedEngine(), List.of("a", "b"), Mode.PERMISSIVE);
        window.onEnd(ended::incrementAndGet);
        List<Object[]> out = new ArrayList<>();
        window.forEachRemaining(out::add);
        assertThat(out).hasSize(2);
        assertThat((String) out.get(0)[5]).contains("row row-0").contains("engine stopped");
        assertThat((String) out.get(1)[5]).contains("row row-1").contains("engine stopped");
        assertThat(window.hasNext()).isFalse();
        assertThat(ended).as("the end action runs once").hasValue(1);
    }

    @Test
    void aStoppedEngineFailsTheTaskNamingTheRowInFailfastMode() {
        OrderedWindow<String, Object[]> window = window(stoppedEngine(), List.of("a"), Mode.FAILFAST);
        assertThatThrownBy(window::next).hasMessageContaining("row row-0").hasMessageContaining("FAILFAST")
                .hasMessageContaining("engine stopped");
    }

    /**
     * An engine that was stopped while a task still had it (as at executor shutdown), over weights
     * another engine keeps open, so the rows' requests still build and only the engine is gone.
     */
    private SharedEngine stoppedEngine() {
        EnginePool pool = pool(IDLE);
        EngineLease stopped = pool.acquire(key(4), REF, CACHE);
        pool.acquire(key(8), REF, CACHE);
        stopped.close();
        advance(IDLE.plusSeconds(1));
        assertThat(pool.evictIdle()).isEqualTo(1);
        assertThat(stopped.engine().isClosed()).isTrue();
        return stopped.engine();
    }

    private static OrderedWindow<String, Object[]> window(SharedEngine engine, List<String> prompts, Mode mode) {
        GeneratorSettings s = settings();
        return new OrderedWindow<>(prompts.iterator(), 4, engine, new RequestFactory(s, engine.processor(), new HadoopRemoteFiles(new org.apache.hadoop.conf.Configuration())),
                new OrderedWindow.RowHandler<>() {
                    @Override
                    public RowInput input(String row, long index) {
                        return new RowInput("row-" + index, row, null, null, null);
                    }

                    @Override
                    public Object[] output(String row, Object[] resultValues) {
                        return resultValues;
                    }
                }, mode, null, new RowWaiter(Duration.ZERO, Duration.ofMillis(50), engine::isClosed));
    }

    private static GeneratorSettings settings() {
        return GeneratorSettings.from(Map.of(GeneratorOptions.MODEL_PATH.name(), model,
                GeneratorOptions.CHAT_TEMPLATE.name(), false, GeneratorOptions.MAX_TOKENS.name(), 3,
                GeneratorOptions.TEMPERATURE.name(), 0.0));
    }

    private static EngineResult generate(SharedEngine engine) throws Exception {
        var request = new RequestFactory(settings(), engine.processor(), new HadoopRemoteFiles(new org.apache.hadoop.conf.Configuration())).build(new RowInput("r", "hello", null, null, null));
        EngineResult r = engine.engine().submit(request).result().get(60, TimeUnit.SECONDS);
        assertThat(r.error()).isNull();
        assertThat(r.completionTokens()).isBetween(1, 3);
        return r;
    }
}
