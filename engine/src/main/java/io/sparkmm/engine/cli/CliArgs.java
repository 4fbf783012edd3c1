package io.sparkmm.engine.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A small GNU-style option parser: {@code --name value}, {@code --name=value} and boolean
 * {@code --flag}. Unknown options are errors that name the option and suggest the closest one.
 */
final class CliArgs {

    private final Map<String, List<String>> values = new HashMap<>();
    private final Set<String> flags;

    private CliArgs(Set<String> flags) {
        this.flags = flags;
    }

    /**
     * @param valued options that take a value (without the leading dashes)
     * @param flags options that take none
     */
    static CliArgs parse(String[] args, int from, Set<String> valued, Set<String> flags) {
        CliArgs out = new CliArgs(flags);
        for (int i = from; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new UsageException("unexpected argument '" + a + "'");
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flags.contains(name)) {
                if (value != null) {
                    throw new UsageException("option --" + name + " takes no value");
                }
                out.values.computeIfAbsent(name, k -> new ArrayList<>()).add("true");
            } else if (valued.contains(name)) {
                if (value == null) {
                    if (i + 1 >= args.length) {
                        throw new UsageException("option --" + name + " needs a value");
                    }
                    value = args[++i];
                }
                out.values.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            } else {
                Set<String> known = new java.util.TreeSet<>(valued);
                known.addAll(flags);
                throw new UsageException("unknown option --" + name + nearest(name, known));
            }
        }
        return out;
    }

    boolean flag(String name) {
        return values.containsKey(name);
    }

    String get(String name) {
        List<String> v = values.get(name);
        return v == null ? null : v.get(v.size() - 1);
    }

    List<String> all(String name) {
        return values.getOrDefault(name, List.of());
    }

    String require(String name) {
        String v = get(name);
        if (v == null) {
            throw new UsageException("missing required option --" + name);
        }
        return v;
    }

    Integer integer(String name) {
        String v = get(name);
        if (v == null) {
            return null;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("option --" + name + " expects an integer, got '" + v + "'");
        }
    }

    Long longValue(String name) {
        String v = get(name);
        if (v == null) {
            return null;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("option --" + name + " expects an integer, got '" + v + "'");
        }
    }

    Double number(String name) {
        String v = get(name);
        if (v == null) {
            return null;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("option --" + name + " expects a number, got '" + v + "'");
        }
    }

    static String nearest(String name, Set<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = editDistance(name, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return best != null && bestDistance <= Math.max(2, name.length() / 3) ? " (did you mean --" + best + "?)" : "";
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** A user mistake on the command line: printed with the usage, exit code 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }
}
