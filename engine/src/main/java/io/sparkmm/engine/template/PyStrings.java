package io.sparkmm.engine.template;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Python {@code str} methods for templates ({@code content.startswith('x')},
 * {@code content.split('</think>')[-1].lstrip('\n')}). Only non-mutating methods exist, with
 * Python's semantics: {@code split(sep)} keeps empty trailing parts, {@code strip(chars)} treats
 * chars as a set, whitespace is Python's.
 */
final class PyStrings {

    private PyStrings() {}

    /** Whether {@code name} is a string method templates may call. */
    static boolean has(String name) {
        return switch (name) {
            case "startswith", "endswith", "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines",
                    "upper", "lower", "title", "capitalize", "replace", "find", "rfind", "count", "join",
                    "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower" -> true;
            default -> false;
        };
    }

    static Object call(String s, String name, Object[] args) {
        Object[] a = args == null ? new Object[0] : args;
        return switch (name) {
            case "startswith" -> affix(s, a, true);
            case "endswith" -> affix(s, a, false);
            case "strip" -> strip(s, charsArg(a, name), true, true);
            case "lstrip" -> strip(s, charsArg(a, name), true, false);
            case "rstrip" -> strip(s, charsArg(a, name), false, true);
            case "split" -> split(s, opt(a, 0), a.length > 1 ? TemplateFunctions.toLong(a[1], "maxsplit")
                    : -1, false);
            case "rsplit" -> split(s, opt(a, 0), a.length > 1 ? TemplateFunctions.toLong(a[1], "maxsplit")
                    : -1, true);
            case "splitlines" -> List.of(s.split("\r\n|[\n\r\u000b\u000c\u001c\u001d\u001e\u0085\u2028\u2029]", -1))
                    .subList(0, lineCount(s));
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s : new StringBuilder()
                    .appendCodePoint(Character.toTitleCase(s.codePointAt(0)))
                    .append(s.substring(Character.charCount(s.codePointAt(0))).toLowerCase(Locale.ROOT))
                    .toString();
            case "replace" -> replace(s, str(a, 0, name), str(a, 1, name),
                    a.length > 2 ? TemplateFunctions.toLong(a[2], "count") : -1);
            case "find" -> (long) codePointIndex(s, s.indexOf(str(a, 0, name)));
            case "rfind" -> (long) codePointIndex(s, s.lastIndexOf(str(a, 0, name)));
            case "count" -> count(s, str(a, 0, name));
            case "join" -> join(s, a.length > 0 ? a[0] : null);
            case "isdigit" -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "isspace" -> !s.isEmpty() && s.codePoints().allMatch(PyTypes::isSpace);
            case "isupper" -> s.codePoints().anyMatch(PyTypes::isCased)
                    && s.codePoints().noneMatch(c -> Character.isLowerCase(c) || Character.isTitleCase(c));
            case "islower" -> s.codePoints().anyMatch(PyTypes::isCased)
                    && s.codePoints().noneMatch(c -> Character.isUpperCase(c) || Character.isTitleCase(c));
            default -> throw new ChatTemplateException("'str' object has no attribute '" + name + "'");
        };
    }

    private static boolean affix(String s, Object[] a, boolean prefix) {
        if (a.length == 0) {
            throw new ChatTemplateException((prefix ? "startswith" : "endswith")
                    + "() takes at least 1 argument (0 given)");
        }
        String target = s;
        if (a.length > 1) {
            long start = a[1] == null ? 0 : TemplateFunctions.toLong(a[1], "start");
            Object end = a.length > 2 ? a[2] : null;
            target = (String) TemplateFunctions.slice(s, start, end, null);
        }
        // Python accepts a tuple of candidates; a jinja tuple or list arrives as a collection.
        Collection<?> candidates = a[0] instanceof Collection<?> c ? c : List.of(str(a, 0,
                prefix ? "startswith" : "endswith"));
        for (Object candidate : candidates) {
            String x = String.valueOf(candidate);
            if (prefix ? target.startsWith(x) : target.endsWith(x)) {
                return true;
            }
        }
        return false;
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int[] cps = s.codePoints().toArray();
        int from = 0;
        int to = cps.length;
        while (left && from < to && stripped(cps[from], chars)) {
            from++;
        }
        while (right && to > from && stripped(cps[to - 1], chars)) {
            to--;
        }
        return new String(cps, from, to - from);
    }

    private static boolean stripped(int cp, String chars) {
        return chars == null ? PyTypes.isSpace(cp) : chars.codePoints().anyMatch(c -> c == cp);
    }

    static List<String> split(String s, Object sepArg, long maxsplit, boolean fromRight) {
        List<String> parts = new ArrayList<>();
        if (sepArg == null) {
            // No separator: split on runs of whitespace, ignoring leading and trailing whitespace.
            String rest = strip(s, null, !fromRight, fromRight);
            while (!rest.isEmpty()) {
                if (maxsplit >= 0 && parts.size() >= maxsplit) {
                    parts.add(rest);
                    break;
                }
                int[] cps = rest.codePoints().toArray();
                if (!fromRight) {
                    int i = 0;
                    while (i < cps.length && !PyTypes.isSpace(cps[i])) {
                        i++;
                    }
                    parts.add(new String(cps, 0, i));
                    rest = strip(new String(cps, i, cps.length - i), null, true, false);
                } else {
                    int i = cps.length;
                    while (i > 0 && !PyTypes.isSpace(cps[i - 1])) {
                        i--;
                    }
                    parts.add(0, new String(cps, i, cps.length - i));
                    rest = strip(new String(cps, 0, i), null, false, true);
                }
            }
            return parts;
        }
        String sep = String.valueOf(sepArg);
        if (sep.isEmpty()) {
            throw new ChatTemplateException("empty separator");
        }
        String rest = s;
        while (maxsplit < 0 || parts.size() < maxsplit) {
            int at = fromRight ? rest.lastIndexOf(sep) : rest.indexOf(sep);
            if (at < 0) {
                break;
            }
            if (fromRight) {
                parts.add(0, rest.substring(at + sep.length()));
                rest = rest.substring(0, at);
            } else {
                parts.add(rest.substring(0, at));
                rest = rest.substring(at + sep.length());
            }
        }
        if (fromRight) {
            parts.add(0, rest);
        } else {
            parts.add(rest);
        }
        return parts;
    }

    /** Python's title(): a cased character after a cased one is lowered, otherwise titled. */
    static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int cp : s.codePoints().toArray()) {
            if (previousCased) {
                sb.append(new String(Character.toChars(cp)).toLowerCase(Locale.ROOT));
            } else {
                sb.appendCodePoint(Character.toTitleCase(cp));
            }
            previousCased = PyTypes.isCased(cp);
        }
        return sb.toString();
    }

    private static String replace(String s, String old, String replacement, long count) {
        if (count < 0) {
            return s.replace(old, replacement);
        }
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++) {
            int at = s.indexOf(old, from);
            if (at < 0 || (old.isEmpty() && at > s.length())) {
                break;
            }
            sb.append(s, from, at).append(replacement);
            if (old.isEmpty()) {
                if (at < s.length()) {
                    sb.append(s.charAt(at));
                }
                from = at + 1;
                if (from > s.length()) {
                    return sb.toString();
                }
            } else {
                from = at + old.length();
            }
        }
        return sb.append(s.substring(Math.min(from, s.length()))).toString();
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.codePointCount(0, s.length()) + 1L;
        }
        long n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    private static String join(String sep, Object items) {
        if (!(items instanceof Collection<?> c)) {
            if (items instanceof Map<?, ?> m) {
                return join(sep, new ArrayList<>(m.keySet()));
            }
            throw new ChatTemplateException("can only join an iterable, got " + PyTypes.name(items));
        }
        StringBuilder sb = new StringBuilder();
        boolean first = true;
        for (Object item : c) {
            if (!(item instanceof CharSequence)) {
                throw new ChatTemplateException("sequence item: expected str instance, "
                        + PyTypes.name(item) + " found");
            }
            if (!first) {
                sb.append(sep);
            }
            first = false;
            sb.append(item);
        }
        return sb.toString();
    }

    private static int lineCount(String s) {
        // splitlines drops the empty part after a final line break and returns [] for "".
        String[] parts = s.split("\r\n|[\n\r\u000b\u000c\u001c\u001d\u001e\u0085\u2028\u2029]", -1);
        int n = parts.length;
        if (n > 0 && parts[n - 1].isEmpty()) {
            n--;
        }
        return n;
    }

    private static int codePointIndex(String s, int charIndex) {
        return charIndex < 0 ? -1 : s.codePointCount(0, charIndex);
    }

    private static String charsArg(Object[] a, String method) {
        return a.length == 0 || a[0] == null ? null : str(a, 0, method);
    }

    private static Object opt(Object[] a, int i) {
        return a.length > i ? a[i] : null;
    }

    private static String str(Object[] a, int i, String method) {
        if (a.length <= i || !(a[i] instanceof CharSequence)) {
            throw new ChatTemplateException(method + "() argument " + (i + 1) + " must be str, not "
                    + (a.length <= i ? "missing" : PyTypes.name(a[i])));
        }
        return a[i].toString();
    }
}
