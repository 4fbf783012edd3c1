package io.sparkmm.connector.generate;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Where a transform's inputs sit in the input schema, checked at analysis time: a missing column
 * or a wrong type fails with an IllegalArgumentException naming the column, the option that
 * named it and the types expected. Then reads one {@link Row} into a {@link RowInput}.
 */
final class InputColumns implements Serializable {

    private final int prompt;
    private final PromptTemplate template;
    private final Map<String, Integer> templateSlots = new HashMap<>();
    private final int image;
    private final int audio;
    private final int video;
    private final int key;
    private final int[] mediaForName;

    InputColumns(GeneratorSettings s, StructType schema) {
        if ((s.promptCol() == null) == (s.promptTemplate() == null)) {
            throw new IllegalArgumentException("sparkmm: set exactly one of promptCol and promptTemplate (got "
                    + (s.promptCol() == null ? "neither" : "both") + ")");
        }
        prompt = s.promptCol() == null ? -1 : index(schema, s.promptCol(), "promptCol", true, false);
        template = s.promptTemplate() == null ? null : new PromptTemplate(s.promptTemplate());
        if (template != null) {
            for (String c : template.columns()) {
                templateSlots.put(c, index(schema, c, "promptTemplate slot {" + c + "}", false, false));
            }
        }
        image = s.imageCol() == null ? -1 : index(schema, s.imageCol(), "imageCol", false, true);
        audio = s.audioCol() == null ? -1 : index(schema, s.audioCol(), "audioCol", false, true);
        video = s.videoCol() == null ? -1 : index(schema, s.videoCol(), "videoCol", false, true);
        key = s.keyCol() == null ? -1 : index(schema, s.keyCol(), "keyCol", false, false);
        mediaForName = Arrays.stream(new int[] {image, audio, video}).filter(i -> i >= 0).toArray();
        if (Arrays.asList(schema.fieldNames()).contains(s.outputCol())) {
            throw new IllegalArgumentException("sparkmm: outputCol '" + s.outputCol()
                    + "' already exists in the input; pick another name with setOutputCol");
        }
    }

    private static int index(StructType schema, String col, String option, boolean mustBeString, boolean media) {
        int i;
        try {
            i = schema.fieldIndex(col);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sparkmm: column '" + col + "' named by " + option
                    + " is not in the input; columns are " + Arrays.toString(schema.fieldNames()));
        }
        StructField f = schema.fields()[i];
        DataType t = f.dataType();
        if (mustBeString && !(t instanceof StringType)) {
            throw new IllegalArgumentException("sparkmm: column '" + col + "' named by " + option + " has type "
                    + t.simpleString() + "; expected string");
        }
        if (media && !isMediaType(t)) {
            throw new IllegalArgumentException("sparkmm: column '" + col + "' named by " + option + " has type "
                    + t.simpleString() + "; expected binary (content), string (a path), array<binary> or array<string>");
        }
        return i;
    }

    static boolean isMediaType(DataType t) {
        if (t instanceof ArrayType a) {
            t = a.elementType();
        }
        return t instanceof BinaryType || t instanceof StringType;
    }

    RowInput read(Row row, long index, int partition) {
        String name = name(row, index, partition);
        String text;
        try {
            text = prompt >= 0 ? (String) row.get(prompt) : template.render(c -> row.get(templateSlots.get(c)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("row " + name + ": " + e.getMessage(), e);
        }
        return new RowInput(name, text, media(row, image), media(row, audio), media(row, video));
    }

    private static Object media(Row row, int i) {
        if (i < 0 || row.isNullAt(i)) {
            return null;
        }
        Object v = row.get(i);
        return v instanceof scala.collection.Seq<?> ? row.getList(i) : v;
    }

    /** The key column's value, else the first media path, else the row's place in its partition. */
    private String name(Row row, long index, int partition) {
        if (key >= 0 && !row.isNullAt(key)) {
            return String.valueOf(row.get(key));
        }
        for (int i : mediaForName) {
            if (!row.isNullAt(i) && row.get(i) instanceof String path) {
                return path;
            }
        }
        return "#" + index + " of partition " + partition;
    }
}
