package io.sparkmm.engine.template;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.util.ForLoop;
import java.beans.FeatureDescriptor;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;
import jinjava.javax.el.PropertyNotWritableException;

/**
 * The only property and method resolver a chat template gets. Compiled templates reach values
 * through {@link PyRuntime}, not through EL properties, but this stands in for jinjava's bean
 * resolver anyway, which would let any EL expression call any public Java method
 * ({@code ''.getClass()}, {@code messages.clear()}); here every base object is handled and
 * nothing falls through:
 *
 * <ul>
 *   <li>attribute and item access on dicts, lists, strings and the {@code loop} object, with
 *       Python's negative indices; anything else reads as undefined (null);
 *   <li>method calls: the allowlisted {@link PyStrings} methods, the read-only dict methods
 *       {@code items/keys/values/get}, and {@code loop.cycle}; any other call fails the render.
 * </ul>
 *
 * Like transformers' ImmutableSandboxedEnvironment, nothing a template can reach mutates its
 * inputs: this resolver is read-only and no mutating method is on the list.
 */
final class SandboxResolver extends ELResolver {

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        if (base == null) {
            return null; // top-level names are the interpreter's business
        }
        context.setPropertyResolved(true);
        Object b = base instanceof SafeString ? base.toString() : base;
        if (b instanceof Map<?, ?> map) {
            return map.get(property == null ? null : property.toString());
        }
        if (b instanceof List<?> list) {
            Integer i = index(property, list.size());
            return i == null ? null : list.get(i);
        }
        if (b.getClass().isArray()) {
            Integer i = index(property, Array.getLength(b));
            return i == null ? null : Array.get(b, i);
        }
        if (b instanceof CharSequence cs) {
            String s = cs.toString();
            Integer i = index(property, s.codePointCount(0, s.length()));
            if (i == null) {
                return null;
            }
            int at = s.offsetByCodePoints(0, i);
            return new String(Character.toChars(s.codePointAt(at)));
        }
        if (b instanceof ForLoop loop) {
            return PyAccess.loopAttribute(loop, String.valueOf(property));
        }
        return null;
    }

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes,
            Object[] params) {
        if (base == null) {
            return null;
        }
        context.setPropertyResolved(true);
        String name = String.valueOf(method);
        // jinjava compiles "x|f(a)" to filter:f.filter(x, interpreter, args, kwargs) and
        // "x is t(a)" to exptest:t.evaluate(x, interpreter, a): these are the engine's own calls.
        if (base instanceof Filter filter && "filter".equals(name)) {
            return callFilter(filter, params);
        }
        if (base instanceof ExpTest test && ("evaluate".equals(name)
                || "evaluateNegated".equals(name))) {
            Object[] args = Arrays.copyOfRange(params, 2, params.length);
            JinjavaInterpreter interpreter = (JinjavaInterpreter) params[1];
            return "evaluate".equals(name) ? test.evaluate(params[0], interpreter, args)
                    : test.evaluateNegated(params[0], interpreter, args);
        }
        Object b = base instanceof SafeString ? base.toString() : base;
        if (b instanceof CharSequence cs && PyStrings.has(name)) {
            return PyStrings.call(cs.toString(), name, params);
        }
        if (b instanceof Map<?, ?> map) {
            switch (name) {
                case "items":
                    return PyAccess.pairs(map);
                case "keys":
                    return new ArrayList<>(map.keySet());
                case "values":
                    return new ArrayList<>(map.values());
                case "get":
                    Object key = params != null && params.length > 0 ? params[0] : null;
                    Object fallback = params != null && params.length > 1 ? params[1] : null;
                    Object value = map.get(key == null ? null : key.toString());
                    return value != null || map.containsKey(String.valueOf(key)) ? value : fallback;
                default:
                    break;
            }
        }
        if (b instanceof ForLoop loop && "cycle".equals(name)) {
            return loop.cycle(params == null ? new Object[0] : params);
        }
        throw new ChatTemplateException("calling '" + name + "' on a " + PyTypes.name(b)
                + " is not allowed in chat templates");
    }

    @SuppressWarnings("unchecked")
    private static Object callFilter(Filter filter, Object[] params) {
        JinjavaInterpreter interpreter = (JinjavaInterpreter) params[1];
        Object[] args = (Object[]) params[2];
        Map<String, Object> kwargs = (Map<String, Object>) params[3];
        Object input = params[0];
        if (input instanceof SafeString safe && filter.preserveSafeString()) {
            // jinjava keeps SafeString through filters that allow it; we have no autoescape, so a
            // plain string is equivalent.
            input = safe.toString();
        }
        return filter.filter(input, interpreter, args, kwargs);
    }

    /** A Python index (negative counts from the end) as a Java index, or null when out of range. */
    private static Integer index(Object property, int size) {
        long i;
        if (property instanceof Number n) {
            i = n.longValue();
            if (n.doubleValue() != i) {
                return null;
            }
        } else {
            try {
                i = Long.parseLong(String.valueOf(property).trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return PyAccess.index(i, size);
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        if (base != null) {
            context.setPropertyResolved(true);
        }
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        if (base != null) {
            throw new PropertyNotWritableException("chat templates cannot modify '" + property + "'");
        }
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        if (base != null) {
            context.setPropertyResolved(true);
        }
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return Object.class;
    }
}
