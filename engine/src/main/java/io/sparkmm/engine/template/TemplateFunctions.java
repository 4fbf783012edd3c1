package io.sparkmm.engine.template;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Global functions of a chat template, as transformers provides them ({@code raise_exception},
 * {@code strftime_now}) plus jinja2's {@code range} with a hard limit, and Python slicing.
 * jinjava calls them statically; per-render state (the clock) is read from the interpreter
 * context under a key no template identifier can spell.
 */
public final class TemplateFunctions {

    /** Context key of the {@link Clock} for {@code strftime_now}; a dot cannot occur in a name. */
    static final String CLOCK_KEY = "sparkmm.clock";

    private TemplateFunctions() {}

    static List<ELFunctionDefinition> definitions() {
        return List.of(
                new ELFunctionDefinition("", "raise_exception", TemplateFunctions.class,
                        "raiseException", Object.class),
                new ELFunctionDefinition("", "strftime_now", TemplateFunctions.class,
                        "strftimeNow", String.class),
                new ELFunctionDefinition("", "range", TemplateFunctions.class, "range",
                        Object.class, Object[].class));
    }

    /** transformers: {@code raise TemplateError(message)}; rendering stops with that message. */
    public static Object raiseException(Object message) {
        throw new ChatTemplateException(String.valueOf(message), true);
    }

    /** transformers: {@code datetime.now().strftime(format)}. */
    public static String strftimeNow(String format) {
        Object clock = JinjavaInterpreter.getCurrentMaybe()
                .map(i -> i.getContext().get(CLOCK_KEY)).orElse(null);
        Clock c = clock instanceof Clock ? (Clock) clock : Clock.systemDefaultZone();
        return StrftimeFormatter.format(ZonedDateTime.now(c), format);
    }

    /**
     * Python's {@code range(stop)} / {@code range(start, stop[, step])}. jinjava's own range
     * silently truncates at its limit, which would render a wrong prompt; this one refuses.
     */
    public static List<Long> range(Object first, Object... rest) {
        long start = 0;
        long stop;
        long step = 1;
        if (rest == null || rest.length == 0) {
            stop = toLong(first, "stop");
        } else {
            start = toLong(first, "start");
            stop = toLong(rest[0], "stop");
            if (rest.length > 1) {
                step = toLong(rest[1], "step");
            }
            if (rest.length > 2) {
                throw new ChatTemplateException("range expected at most 3 arguments, got "
                        + (rest.length + 1));
            }
        }
        if (step == 0) {
            throw new ChatTemplateException("range() arg 3 must not be zero");
        }
        long count = step > 0 ? Math.max(0, ceilDiv(stop - start, step))
                : Math.max(0, ceilDiv(start - stop, -step));
        long limit = JinjavaInterpreter.getCurrentMaybe()
                .map(i -> (long) i.getConfig().getRangeLimit()).orElse((long) ChatTemplate.RANGE_LIMIT);
        if (count > limit) {
            throw new ChatTemplateException("range of " + count + " items exceeds the limit of "
                    + limit + " in chat templates");
        }
        List<Long> out = new ArrayList<>((int) count);
        for (long i = 0, v = start; i < count; i++, v += step) {
            out.add(v);
        }
        return out;
    }

    /** Python slicing {@code value[start:stop:step]} of a string (by code point) or a sequence. */
    public static Object slice(Object value, Object start, Object stop, Object step) {
        PyOps.failIfUndefined(value);
        if (value == null) {
            throw new ChatTemplateException("'NoneType' object is not subscriptable");
        }
        long st = step == null ? 1 : toLong(step, "slice step");
        if (st == 0) {
            throw new ChatTemplateException("slice step cannot be zero");
        }
        if (value instanceof CharSequence cs) {
            int[] cps = cs.toString().codePoints().toArray();
            StringBuilder sb = new StringBuilder();
            for (int idx : indices(cps.length, start, stop, st)) {
                sb.appendCodePoint(cps[idx]);
            }
            return sb.toString();
        }
        List<?> list;
        if (value instanceof List<?> l) {
            list = l;
        } else if (value instanceof Collection<?> c) {
            list = new ArrayList<>(c);
        } else {
            throw new ChatTemplateException("cannot slice a value of type " + PyTypes.name(value));
        }
        List<Object> out = new ArrayList<>();
        for (int idx : indices(list.size(), start, stop, st)) {
            out.add(list.get(idx));
        }
        return out;
    }

    /** The positions Python's {@code slice(start, stop, step).indices(length)} visits. */
    static int[] indices(int length, Object startArg, Object stopArg, long step) {
        long lower = step > 0 ? 0 : -1;
        long upper = step > 0 ? length : length - 1;
        long start = startArg == null ? (step > 0 ? lower : upper)
                : clamp(toLong(startArg, "slice start"), length, lower, upper);
        long stop = stopArg == null ? (step > 0 ? upper : lower)
                : clamp(toLong(stopArg, "slice stop"), length, lower, upper);
        long count = step > 0 ? Math.max(0, ceilDiv(stop - start, step))
                : Math.max(0, ceilDiv(start - stop, -step));
        int[] out = new int[(int) count];
        for (int i = 0; i < count; i++) {
            out[i] = (int) (start + i * step);
        }
        return out;
    }

    private static long clamp(long index, int length, long lower, long upper) {
        long i = index < 0 ? index + length : index;
        return Math.max(lower, Math.min(upper, i));
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }

    static long toLong(Object value, String what) {
        if (value instanceof Number n && (n instanceof Integer || n instanceof Long
                || n instanceof Short || n instanceof Byte || n.doubleValue() == Math.rint(n.doubleValue()))) {
            return n.longValue();
        }
        if (value instanceof Boolean b) {
            return b ? 1 : 0;
        }
        throw new ChatTemplateException(what + " must be an integer, got "
                + (value == null ? "none" : PyTypes.name(value) + " " + value));
    }
}
