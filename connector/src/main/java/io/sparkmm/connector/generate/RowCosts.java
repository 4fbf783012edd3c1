package io.sparkmm.connector.generate;

import io.sparkmm.connector.engine.EngineLease;
import io.sparkmm.connector.engine.ExecutorEngines;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.processors.ProcessorKwargs;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The first stage of {@code balance=tokens}: prices each row before anything is decoded and
 * appends two columns, its cost and, for a row that cannot fit the model's context, its error.
 * Cost = the prompt's tokens after placeholder expansion (chat template and tokenizer as the
 * engine will run them; each image's placeholder tokens from its width and height, each audio
 * clip's from its duration, by the model family's processor formula) + maxTokens.
 *
 * <p>A container's duration can be rounded up by up to a frame of the codec, so a clip is priced
 * as {@value #DURATION_MARGIN_S} s shorter than its duration says: at most one token under its
 * real count, never over, so a row is never refused for a length it does not have.
 *
 * <p>A row that cannot be priced (bad prompt, bad template slot, a size the processor refuses)
 * costs 1 and keeps no error here: the generation stage reports the very error it reports without
 * balancing. An image of unknown size counts its placeholder as one token, so its cost is a lower
 * bound, and a row is refused only when even that bound is over the context.
 *
 * <p>The tokenizer and processor are those of the executor's shared engine, which the generation
 * stage uses next on the same executor, so pricing costs no extra model load.
 */
final class RowCosts implements MapPartitionsFunction<Row, Row> {

    private final GeneratorSettings settings;
    private final InputColumns columns;
    private final int width;
    private final int height;
    private final int duration;

    static final double DURATION_MARGIN_S = 0.02;

    RowCosts(GeneratorSettings settings, StructType schema, int width, int height, int duration) {
        this.settings = settings;
        this.columns = new InputColumns(settings, schema);
        this.width = width;
        this.height = height;
        this.duration = duration;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        EngineLease lease = ExecutorEngines.acquire(settings.engineKey(), settings.processorCacheBytes());
        TaskContext task = TaskContext.get();
        if (task != null) {
            task.addTaskCompletionListener((TaskCompletionListener) ctx -> lease.close());
        }
        MultimodalProcessor processor = lease.engine().processor();
        int context = lease.engine().model().model().languageModel().config().maxPositionEmbeddings();
        int partition = task == null ? 0 : task.partitionId();
        ProcessorKwargs kwargs = settings.processorKwargs();
        return new Iterator<>() {
            private long index;

            @Override
            public boolean hasNext() {
                boolean more = rows.hasNext();
                if (!more) {
                    lease.close();   // let go of the engine as soon as the rows are priced
                }
                return more;
            }

            @Override
            public Row next() {
                Row row = rows.next();
                long i = index++;
                long cost = 1;
                String error = null;
                try {
                    RowInput in = columns.read(row, i, partition);
                    int prompt = promptTokens(processor, in, row, kwargs);
                    long total = (long) prompt + settings.samplingOptions().maxTokens();
                    if (total > context) {
                        error = "row " + in.name() + ": needs " + total + " tokens (" + prompt + " prompt tokens with its"
                                + " media + maxTokens " + settings.samplingOptions().maxTokens() + "), more than the"
                                + " model's context of " + context + " tokens (max_position_embeddings); not sent to the"
                                + " engine";
                    } else {
                        cost = total;
                    }
                } catch (RuntimeException e) {
                    cost = 1;   // the generation stage reports this row's error as it always does
                }
                Object[] values = new Object[row.length() + 2];
                for (int c = 0; c < row.length(); c++) {
                    values[c] = row.get(c);
                }
                values[row.length()] = cost;
                values[row.length() + 1] = error;
                return RowFactory.create(values);
            }
        };
    }

    private int promptTokens(MultimodalProcessor processor, RowInput in, Row row, ProcessorKwargs kwargs) {
        if (in.prompt() == null || in.prompt().isEmpty()) {
            throw new IllegalArgumentException("no prompt");
        }
        PromptInput input = new PromptInput(in.prompt(), null, settings.chatTemplate(), settings.systemPrompt(),
                List.of(), List.of(), List.of(), kwargs);
        return processor.promptTokens(input, sizes(in.images(), row), lengths(in.audio(), row));
    }

    /** {milliseconds, 1000} per clip (a lower bound, see the class comment), null where the duration is unknown. */
    private List<long[]> lengths(Object audio, Row row) {
        List<long[]> out = new ArrayList<>();
        if (audio == null) {
            return out;
        }
        int n = audio instanceof List<?> l ? l.size() : 1;
        List<?> seconds = values(row, duration);
        for (int i = 0; i < n; i++) {
            Object d = i < seconds.size() ? seconds.get(i) : null;
            out.add(d instanceof Double s && s >= 0 && Double.isFinite(s)
                    ? new long[] {(long) Math.floor(Math.max(0, s - DURATION_MARGIN_S) * 1000), 1000} : null);
        }
        return out;
    }

    /** {width, height} per image, null where the size is unknown; none for a row without images. */
    private List<int[]> sizes(Object images, Row row) {
        List<int[]> out = new ArrayList<>();
        if (images == null) {
            return out;
        }
        int n = images instanceof List<?> l ? l.size() : 1;
        List<?> ws = values(row, width);
        List<?> hs = values(row, height);
        for (int i = 0; i < n; i++) {
            Object w = i < ws.size() ? ws.get(i) : null;
            Object h = i < hs.size() ? hs.get(i) : null;
            out.add(w instanceof Integer wi && h instanceof Integer hi && wi > 0 && hi > 0 ? new int[] {wi, hi} : null);
        }
        return out;
    }

    private static List<?> values(Row row, int col) {
        if (col < 0 || row.isNullAt(col)) {
            return List.of();
        }
        Object v = row.get(col);
        if (v instanceof scala.collection.Seq<?>) {
            return row.getList(col);
        }
        return java.util.Collections.singletonList(v);
    }
}
