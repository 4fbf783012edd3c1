package io.sparkmm.engine.template;

import java.util.Collection;
import java.util.Map;

/** Python's view of Java values, for error messages and Python-exact character classes. */
final class PyTypes {

    private PyTypes() {}

    /** The Python type name a template author would expect in an error message. */
    static String name(Object value) {
        if (value == null) {
            return "NoneType";
        }
        if (value instanceof PyUndefined) {
            return "Undefined";
        }
        if (value instanceof CharSequence) {
            return "str";
        }
        if (value instanceof Boolean) {
            return "bool";
        }
        if (value instanceof Float || value instanceof Double) {
            return "float";
        }
        if (value instanceof Number) {
            return "int";
        }
        if (value instanceof Map) {
            return "dict";
        }
        if (value instanceof Collection || value.getClass().isArray()) {
            return "list";
        }
        return "object";
    }

    /**
     * Python's {@code str.isspace} for one code point: the Unicode White_Space characters plus the
     * ASCII separators 0x1C-0x1F that Python also counts (Java's isWhitespace misses NBSP).
     */
    static boolean isSpace(int cp) {
        if (cp >= 0x1c && cp <= 0x1f) {
            return true;
        }
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }

    /** Python's notion of a cased character (has an upper, lower or title case form). */
    static boolean isCased(int cp) {
        return Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
    }
}
