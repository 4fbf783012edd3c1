package io.sparkmm.connector.generate;

import io.sparkmm.connector.generate.GeneratorOptions.Option;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.param.StringArrayParam;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The bridge between {@link GeneratorOptions} and Spark ML Params: one typed Param per option,
 * and the value conversions both ways. Params hold JSON-encodable values (so DefaultParamsWriter
 * can save them): lists become arrays and the mode enum its name; the generator's typed getters
 * and GeneratorSettings keep seeing the option's own type.
 */
final class GeneratorParams {

    private GeneratorParams() {
    }

    /** A Param owned by {@code parent} (the generator, whose uid must be set) with the option's name and doc. */
    static Param<?> param(Params parent, Option<?> o) {
        String name = o.name();
        String doc = o.doc();
        return switch (o.kind()) {
            case STRING, ENUM -> new Param<String>(parent, name, doc);
            case INT -> new IntParam(parent, name, doc);
            case LONG -> new LongParam(parent, name, doc);
            case DOUBLE -> new DoubleParam(parent, name, doc);
            case BOOLEAN -> new BooleanParam(parent, name, doc);
            case STRING_LIST -> new StringArrayParam(parent, name, doc);
            case INT_LIST -> new IntArrayParam(parent, name, doc);
        };
    }

    /** The option's typed value as the Param stores it. */
    static Object toParam(Option<?> o, Object v) {
        if (v == null) {
            return null;
        }
        return switch (o.kind()) {
            case ENUM -> ((Enum<?>) v).name();
            case STRING_LIST -> ((List<?>) v).stream().map(String.class::cast).toArray(String[]::new);
            case INT_LIST -> ((List<?>) v).stream().mapToInt(i -> (Integer) i).toArray();
            default -> v;
        };
    }

    /** The Param's stored value as the option's typed value. */
    static Object fromParam(Option<?> o, Object v) {
        if (v == null) {
            return null;
        }
        return switch (o.kind()) {
            // the enum of the option's default; a loaded pipeline may carry any case
            case ENUM -> enumValue(o, (String) v);
            case STRING_LIST -> List.of((String[]) v);
            case INT_LIST -> Arrays.stream((int[]) v).boxed().toList();
            default -> v;
        };
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Enum<?> enumValue(Option<?> o, String name) {
        Class type = ((Enum<?>) o.defaultValue()).getDeclaringClass();
        return Enum.valueOf(type, name.toUpperCase(Locale.ROOT));
    }

    /** Values for explainParams: arrays by content, not by identity. */
    static String show(Object v) {
        if (v instanceof String[] a) {
            return Arrays.toString(a);
        } else if (v instanceof int[] a) {
            return Arrays.toString(a);
        }
        return String.valueOf(v);
    }
}
