package io.sparkmm.connector.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Spark struct type as a response schema, both ways: the JSON Schema that constrains generation
 * to documents of that shape (every field present, in order, none null: the model must fill each
 * column), and the parse of such a document into the struct's external Row.
 *
 * <p>Types: STRING, BOOLEAN, TINYINT, SMALLINT, INT (their ranges bound the integer; INT without
 * -2^31), BIGINT, FLOAT, DOUBLE, ARRAY, STRUCT, MAP with STRING keys. Others (dates, decimals,
 * binary) are refused naming the field: ask for a STRING and cast it.
 */
public final class ResponseSchemas {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ResponseSchemas() {
    }

    /** The JSON Schema of {@code struct}; an IllegalArgumentException names an unsupported field. */
    public static String jsonSchema(StructType struct) {
        return schema(struct, "").toString();
    }

    private static ObjectNode schema(DataType t, String path) {
        ObjectNode s = JSON.createObjectNode();
        if (t instanceof StructType st) {
            s.put("type", "object");
            ObjectNode props = s.putObject("properties");
            ArrayNode required = s.putArray("required");
            for (StructField f : st.fields()) {
                props.set(f.name(), schema(f.dataType(), path.isEmpty() ? f.name() : path + "." + f.name()));
                required.add(f.name());
            }
        } else if (t instanceof StringType) {
            s.put("type", "string");
        } else if (t instanceof BooleanType) {
            s.put("type", "boolean");
        } else if (t instanceof ByteType) {
            s.put("type", "integer").put("minimum", Byte.MIN_VALUE).put("maximum", Byte.MAX_VALUE);
        } else if (t instanceof ShortType) {
            s.put("type", "integer").put("minimum", Short.MIN_VALUE).put("maximum", Short.MAX_VALUE);
        } else if (t instanceof IntegerType) {
            // the automaton's ranges stop at 2^31 - 1 magnitudes, so -2^31 itself is left out
            s.put("type", "integer").put("minimum", -Integer.MAX_VALUE).put("maximum", Integer.MAX_VALUE);
        } else if (t instanceof LongType) {
            s.put("type", "integer");
        } else if (t instanceof FloatType || t instanceof DoubleType) {
            s.put("type", "number");
        } else if (t instanceof ArrayType a) {
            s.put("type", "array");
            s.set("items", schema(a.elementType(), path + "[]"));
        } else if (t instanceof MapType m && m.keyType() instanceof StringType) {
            s.put("type", "object");
            s.set("additionalProperties", schema(m.valueType(), path + "{}"));
        } else {
            throw new IllegalArgumentException("sparkmm: responseSchema field '" + path + "' has type " + t.simpleString()
                    + ", which a response cannot be constrained to; use STRING, BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, "
                    + "FLOAT, DOUBLE, ARRAY, STRUCT or MAP<STRING, ...> (a STRING can be cast afterwards)");
        }
        return s;
    }

    /**
     * The Row of {@code struct} from a JSON document of its schema (external types: scala Seq for
     * arrays, scala Map for maps, as Spark's row encoder takes them).
     *
     * @throws IllegalArgumentException when the text is not such a document
     */
    public static Row parse(String text, StructType struct) {
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
        }
        return (Row) value(node, struct, "$");
    }

    private static Object value(JsonNode n, DataType t, String path) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (t instanceof StructType st) {
            expect(n.isObject(), path, "an object", n);
            Object[] values = new Object[st.fields().length];
            for (int i = 0; i < values.length; i++) {
                StructField f = st.fields()[i];
                values[i] = value(n.get(f.name()), f.dataType(), path + "." + f.name());
            }
            return RowFactory.create(values);
        }
        if (t instanceof StringType) {
            expect(n.isTextual(), path, "a string", n);
            return n.asText();
        }
        if (t instanceof BooleanType) {
            expect(n.isBoolean(), path, "a boolean", n);
            return n.asBoolean();
        }
        if (t instanceof ByteType || t instanceof ShortType || t instanceof IntegerType || t instanceof LongType) {
            expect(n.isIntegralNumber() && n.canConvertToLong(), path, "an integer", n);
            long v = n.asLong();
            if (t instanceof ByteType) {
                expect(v == (byte) v, path, "a TINYINT", n);
                return (byte) v;
            }
            if (t instanceof ShortType) {
                expect(v == (short) v, path, "a SMALLINT", n);
                return (short) v;
            }
            if (t instanceof IntegerType) {
                expect(v == (int) v, path, "an INT", n);
                return (int) v;
            }
            return v;
        }
        if (t instanceof FloatType) {
            expect(n.isNumber(), path, "a number", n);
            return n.floatValue();
        }
        if (t instanceof DoubleType) {
            expect(n.isNumber(), path, "a number", n);
            return n.asDouble();
        }
        if (t instanceof ArrayType a) {
            expect(n.isArray(), path, "an array", n);
            List<Object> items = new ArrayList<>();
            int i = 0;
            for (JsonNode e : n) {
                items.add(value(e, a.elementType(), path + "[" + i++ + "]"));
            }
            return CollectionConverters.asScala(items).toList();
        }
        if (t instanceof MapType m) {
            expect(n.isObject(), path, "an object", n);
            Map<String, Object> out = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                out.put(e.getKey(), value(e.getValue(), m.valueType(), path + "." + e.getKey()));
            }
            return scala.collection.immutable.Map$.MODULE$.from(CollectionConverters.asScala(out));
        }
        throw new IllegalArgumentException(path + ": unsupported type " + t.simpleString());
    }

    private static void expect(boolean ok, String path, String what, JsonNode n) {
        if (!ok) {
            throw new IllegalArgumentException(path + " should be " + what + ", got " + n);
        }
    }
}
