package io.sparkmm.processors.media;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ConcurrencyTest extends MediaFixtures {

    private static final MediaLimits L = MediaLimits.defaults();

    @Test
    void eightThreadsDecodeIdentically() throws Exception {
        RgbImage img = MediaIO.readImage(src(good("pattern.webp")), L);
        RgbImage jpg = MediaIO.readImage(src(good("solid_512.jpg")), L);
        AudioClip audio = MediaIO.readAudio(src(good("sine440.mp3")), 16000, L);
        VideoClip video = MediaIO.readVideo(src(good("counter.webm")), VideoSampling.uniform(4), L);
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<List<Object>>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Callable<List<Object>> task = () -> {
                    start.await();
                    List<Object> got = new ArrayList<>();
                    for (int round = 0; round < 3; round++) {
                        got.add(MediaIO.readImage(src(good("pattern.webp")), L));
                        got.add(MediaIO.readImage(src(good("solid_512.jpg")), L));
                        got.add(MediaIO.readAudio(src(good("sine440.mp3")), 16000, L));
                        got.add(MediaIO.readVideo(src(good("counter.webm")), VideoSampling.uniform(4), L));
                        if (id % 2 == 0) {   // failures in some threads must not disturb the others
                            try {
                                MediaIO.readVideo(src(bad("random.mp4")), VideoSampling.uniform(4), L);
                            } catch (MediaException expected) {
                                // fine
                            }
                        }
                    }
                    return got;
                };
                futures.add(pool.submit(task));
            }
            start.countDown();
            for (Future<List<Object>> f : futures) {
                List<Object> got = f.get(120, TimeUnit.SECONDS);
                for (int round = 0; round < 3; round++) {
                    assertThat(got.get(4 * round)).isEqualTo(img);
                    assertThat(got.get(4 * round + 1)).isEqualTo(jpg);
                    assertThat(got.get(4 * round + 2)).isEqualTo(audio);
                    assertThat(got.get(4 * round + 3)).isEqualTo(video);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
