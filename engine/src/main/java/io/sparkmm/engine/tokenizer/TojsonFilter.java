package io.sparkmm.engine.tokenizer;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.util.Map;

/**
 * {@code tojson} as transformers defines it (Python json.dumps, no HTML escaping), replacing
 * jinjava's compact Jackson output. Accepts {@code indent}, {@code sort_keys} and
 * {@code ensure_ascii}, positionally ({@code tojson(2)}) or by name.
 */
final class TojsonFilter implements Filter {

    @Override
    public String getName() {
        return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        Integer indent = args.length > 0 && args[0] != null ? Integer.valueOf(args[0]) : null;
        return new PyJson(indent, false, false).dumps(var);
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args,
            Map<String, Object> kwargs) {
        Object indentArg = kwargs.containsKey("indent") ? kwargs.get("indent")
                : args.length > 0 ? args[0] : null;
        Integer indent = indentArg == null ? null
                : (int) TemplateFunctions.toLong(indentArg, "tojson indent");
        boolean sortKeys = truthy(kwargs.get("sort_keys"));
        boolean ensureAscii = truthy(kwargs.get("ensure_ascii"));
        return new PyJson(indent, sortKeys, ensureAscii).dumps(var);
    }

    private static boolean truthy(Object o) {
        return o instanceof Boolean b && b;
    }

    @Override
    public boolean preserveSafeString() {
        return false;
    }
}
