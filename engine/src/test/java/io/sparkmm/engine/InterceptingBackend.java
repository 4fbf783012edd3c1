package io.sparkmm.engine;

import io.sparkmm.kernels.Backend;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real backend behind a proxy that lets a test break or hold the engine's forward pass: the
 * embedding lookup (the first op of every forward) throws when its ids hold the token run
 * {@code poison}, and blocks while they hold the run {@code hold} until {@link #release()}. Runs
 * rather than single ids, so a generated token (one per decode chunk) never triggers them.
 */
final class InterceptingBackend {

    final Backend backend;
    final AtomicInteger forwards = new AtomicInteger();
    final AtomicInteger failedForwards = new AtomicInteger();
    final CountDownLatch holding = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    InterceptingBackend(Backend real, int[] poison, int[] hold) {
        InvocationHandler h = (proxy, method, args) -> {
            if (method.getName().equals("embedding") && args[1] instanceof int[] ids) {
                forwards.incrementAndGet();
                if (contains(ids, poison)) {
                    failedForwards.incrementAndGet();
                    throw new IllegalStateException("poisoned tokens " + java.util.Arrays.toString(poison) + " in the batch");
                }
                if (contains(ids, hold)) {
                    holding.countDown();
                    if (!released.await(60, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("never released");
                    }
                }
            }
            try {
                return method.invoke(real, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        this.backend = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, h);
    }

    static boolean contains(int[] ids, int[] run) {
        outer:
        for (int i = 0; i + run.length <= ids.length; i++) {
            for (int j = 0; j < run.length; j++) {
                if (ids[i + j] != run[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    void release() {
        released.countDown();
    }
}
