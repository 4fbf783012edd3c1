package io.sparkmm.engine.template;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;

/**
 * Python's printf-style {@code 'fmt' % args} for the conversions templates use: {@code %s},
 * {@code %r}, {@code %d}/{@code %i}, {@code %f} (with an optional precision) and {@code %%}.
 * Anything else raises rather than print something Python would not.
 */
final class PyFormat {

    private PyFormat() {}

    static String percent(String format, Object args) {
        // As in Python, a tuple holds the arguments; any other value is the single argument.
        List<?> values = args instanceof PyTuple t ? t : java.util.Collections.singletonList(args);
        StringBuilder sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%') {
                sb.append(c);
                continue;
            }
            int j = i + 1;
            Integer precision = null;
            if (j < format.length() && format.charAt(j) == '.') {
                int k = j + 1;
                while (k < format.length() && Character.isDigit(format.charAt(k))) {
                    k++;
                }
                precision = Integer.parseInt(format.substring(j + 1, k));
                j = k;
            }
            if (j >= format.length()) {
                throw new ChatTemplateException("incomplete format");
            }
            char conv = format.charAt(j);
            if (conv == '%') {
                sb.append('%');
                i = j;
                continue;
            }
            if (next >= values.size()) {
                throw new ChatTemplateException("not enough arguments for format string");
            }
            Object v = values.get(next++);
            switch (conv) {
                case 's' -> sb.append(PyRepr.str(v));
                case 'r' -> sb.append(PyRepr.repr(v));
                case 'd', 'i' -> sb.append(integer(v, conv));
                case 'f' -> sb.append(new BigDecimal(number(v, conv)).setScale(precision == null ? 6 : precision,
                        RoundingMode.HALF_EVEN).toPlainString());
                default -> throw new ChatTemplateException("unsupported format character '" + conv + "'");
            }
            i = j;
        }
        if (next < values.size()) {
            throw new ChatTemplateException("not all arguments converted during string formatting");
        }
        return sb.toString();
    }

    private static long integer(Object v, char conv) {
        return PyOps.isInt(v) ? PyOps.asLong(v) : (long) number(v, conv);
    }

    private static double number(Object v, char conv) {
        if (!PyOps.isNumber(v)) {
            throw new ChatTemplateException("%" + conv + " format: a real number is required, not " + PyTypes.name(v));
        }
        return PyOps.asDouble(v);
    }
}
