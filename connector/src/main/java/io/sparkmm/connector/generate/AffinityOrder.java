package io.sparkmm.connector.generate;

import io.sparkmm.connector.generate.GeneratorOptions.Affinity;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.substring;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * Places rows into tasks for the {@link GeneratorOptions#AFFINITY} option: a hash shuffle on an
 * affinity key into as many partitions as the input has, then a sort within each partition, so
 * rows that can share KV blocks, an encoder output and a processed image run in one task (one
 * executor's engine and caches) next to each other, and are submitted to the engine together,
 * where in-flight prefix sharing lets the first compute what the others reuse.
 *
 * <p>The keys are Spark expressions (no UDF), computed on the rows as they are: media by
 * {@code xxhash64} of the media columns' values (the bytes of binary content, the string of a
 * path: two paths to one file are two keys), the prompt text from {@code promptCol} or the
 * template's literals and slot columns.
 */
final class AffinityOrder {

    /**
     * Text characters that make the prefix key of a row without media. Rows agreeing on less share
     * at most about one 16-token KV block of text, not worth a shuffle; longer keys would split rows
     * that share a long prefix but differ early (after a short instruction).
     */
    static final int PREFIX_CHARS = 64;

    private AffinityOrder() {
    }

    /** {@code df} shuffled and sorted for {@code s.affinity()}; unchanged for NONE. */
    static Dataset<Row> apply(Dataset<Row> df, GeneratorSettings s) {
        if (s.affinity() == Affinity.NONE) {
            return df;
        }
        Column text = promptText(s);
        List<Column> media = new ArrayList<>();
        for (String c : new String[] {s.imageCol(), s.audioCol(), s.videoCol()}) {
            if (c != null) {
                media.add(column(c));
            }
        }
        Column key;
        if (media.isEmpty()) {
            // text-only input: media affinity has nothing to group by, so it only spreads rows
            key = s.affinity() == Affinity.PREFIX ? xxhash64(substring(text, 1, PREFIX_CHARS)) : xxhash64(text);
        } else {
            Column noMedia = media.get(0).isNull();
            for (Column m : media.subList(1, media.size())) {
                noMedia = noMedia.and(m.isNull());
            }
            // rows without media would otherwise all hash alike (xxhash64 skips nulls) and pile into one task
            Column textKey = s.affinity() == Affinity.PREFIX ? xxhash64(substring(text, 1, PREFIX_CHARS)) : xxhash64(text);
            key = when(noMedia, textKey).otherwise(xxhash64(media.toArray(Column[]::new)));
        }
        int partitions = df.rdd().getNumPartitions();
        Dataset<Row> shuffled = df.repartition(partitions, key);
        // media: one item's rows adjacent; prefix: also by text, so the longest shared prefixes are adjacent
        return s.affinity() == Affinity.PREFIX ? shuffled.sortWithinPartitions(key, text) : shuffled.sortWithinPartitions(key);
    }

    /** The prompt text as an expression: the prompt column, or the template's literals around its slot columns. */
    private static Column promptText(GeneratorSettings s) {
        if (s.promptCol() != null) {
            return column(s.promptCol());
        }
        PromptTemplate t = new PromptTemplate(s.promptTemplate());
        List<String> literals = t.literals();
        List<String> slots = t.columns();
        List<Column> parts = new ArrayList<>();
        parts.add(lit(literals.get(0)));
        for (int i = 0; i < slots.size(); i++) {
            // a null slot makes the whole key null: that row fails anyway (a null slot is its error)
            parts.add(column(slots.get(i)).cast("string"));
            parts.add(lit(literals.get(i + 1)));
        }
        return concat(parts.toArray(Column[]::new));
    }

    /** A top-level column by its exact name (InputColumns resolves names the same way): dots are not paths. */
    private static Column column(String name) {
        return col("`" + name.replace("`", "``") + "`");
    }
}
