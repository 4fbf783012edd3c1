package io.sparkmm.connector.sql;

import io.sparkmm.connector.generate.GeneratorMetrics;
import io.sparkmm.connector.generate.GeneratorSettings;
import io.sparkmm.connector.generate.OrderedWindow;
import io.sparkmm.connector.generate.RowInput;
import io.sparkmm.connector.generate.TaskWindow;
import io.sparkmm.connector.media.HadoopRemoteFiles;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.catalyst.expressions.SortOrder;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.catalyst.plans.physical.Partitioning;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.metric.SQLMetric;
import org.apache.spark.sql.execution.metric.SQLMetrics;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The batched physical operator of one {@code mm_generate} call, as Spark plans Python UDFs into a
 * batch-evaluating operator: each task's rows go through the executor's shared engine in an ordered
 * look-ahead window ({@link TaskWindow}, the DataFrame path's), and each row comes out as the input
 * row followed by the result struct, in input order, exactly once. The call's options are constant
 * (the strategy checks), so one engine and one window serve the whole task.
 *
 * <p>Product elements (generate, result, child) match the constructor: Spark copies plan nodes by
 * reflection when it canonicalizes them.
 */
public final class MmGenerateExec extends SparkPlan {

    private final MmGenerate generate;
    private final Attribute result;
    private final SparkPlan child;
    private transient volatile GeneratorMetrics lastMetrics;
    private transient volatile scala.collection.immutable.Map<String, SQLMetric> sqlMetrics;

    /**
     * @param generate the call, its arguments over {@code child}'s output
     * @param result the attribute its struct is bound to, appended to {@code child}'s output
     */
    public MmGenerateExec(MmGenerate generate, Attribute result, SparkPlan child) {
        this.generate = generate;
        this.result = result;
        this.child = child;
    }

    public MmGenerate generate() {
        return generate;
    }

    public Attribute result() {
        return result;
    }

    public SparkPlan child() {
        return child;
    }

    /** The sparkmm accumulators of this operator's latest execution (filled as tasks run). */
    public GeneratorMetrics lastMetrics() {
        return lastMetrics;
    }

    @Override
    public RDD<InternalRow> doExecute() {
        Map<String, String> options = generate.constantOptions();
        GeneratorSettings settings = generate.settings(options);
        String modality = MmGenerate.mediaModality(options);
        GeneratorMetrics metrics = new GeneratorMetrics(sparkContext());
        lastMetrics = metrics;
        SQLMetric outputRows = metrics().apply("numOutputRows");
        // the session's Hadoop configuration, as Spark's file sources ship it, for media paths
        Broadcast<SerializableConfiguration> hadoopConf = SerializableConfiguration.broadcast(sparkContext(),
                session().sessionState().newHadoopConf());
        List<Expression> arguments = List.of(generate.promptArgument(), generate.mediaArgument());
        Seq<Attribute> input = child.output();
        DataType mediaType = generate.mediaArgument().dataType();
        StructType outSchema = schema();
        boolean withLogprobs = generate.withLogprobs();
        StructType parsed = generate.responseType();
        FlatMapFunction<Iterator<InternalRow>, InternalRow> task = rows -> {
            UnsafeProjection evalArguments = UnsafeProjection.create(CollectionConverters.asScala(arguments).toSeq(), input);
            UnsafeProjection toUnsafe = UnsafeProjection.create(outSchema);
            int partition = TaskWindow.partition();
            // the window holds rows while their requests run; the child reuses one row object per call
            Iterator<InternalRow> copies = new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return rows.hasNext();
                }

                @Override
                public InternalRow next() {
                    return rows.next().copy();
                }
            };
            return TaskWindow.open(settings, new HadoopRemoteFiles(hadoopConf.value().value()), metrics, copies,
                    new OrderedWindow.RowHandler<InternalRow, InternalRow>() {
                        @Override
                        public RowInput input(InternalRow row, long index) {
                            UnsafeRow a = evalArguments.apply(row);
                            Object media = a.isNullAt(1) ? null : MmGenerate.javaMedia(a.get(1, mediaType), mediaType);
                            String name = media instanceof String path ? path : "#" + index + " of partition " + partition;
                            return MmGenerate.rowInput(name, a.isNullAt(0) ? null : a.getUTF8String(0), media, modality);
                        }

                        @Override
                        public InternalRow output(InternalRow row, Object[] values) {
                            outputRows.add(1);
                            return toUnsafe.apply(new JoinedRow(row,
                                    new GenericInternalRow(new Object[] {MmGenerate.internalResult(values, withLogprobs, parsed)})));
                        }
                    });
        };
        return child.execute().toJavaRDD().mapPartitions(task).rdd();
    }

    @Override
    public scala.collection.immutable.Map<String, SQLMetric> metrics() {
        if (sqlMetrics == null) {
            sqlMetrics = scala.collection.immutable.Map$.MODULE$.<String, SQLMetric>empty()
                    .updated("numOutputRows", SQLMetrics.createMetric(sparkContext(), "number of output rows"));
        }
        return sqlMetrics;
    }

    @Override
    public Seq<Attribute> output() {
        List<Attribute> out = new ArrayList<>(CollectionConverters.asJava(child.output()));
        out.add(result);
        return CollectionConverters.asScala(out).toSeq();
    }

    @Override
    public AttributeSet producedAttributes() {
        return AttributeSet.apply(result);
    }

    /** Rows keep their partitions and their order: the window emits them in input order. */
    @Override
    public Partitioning outputPartitioning() {
        return child.outputPartitioning();
    }

    @Override
    public Seq<SortOrder> outputOrdering() {
        return child.outputOrdering();
    }

    @Override
    public Seq<SparkPlan> children() {
        return CollectionConverters.asScala(List.of(child)).toSeq();
    }

    @Override
    public SparkPlan withNewChildrenInternal(IndexedSeq<SparkPlan> newChildren) {
        return new MmGenerateExec(generate, result, newChildren.apply(0));
    }

    @Override
    public int productArity() {
        return 3;
    }

    @Override
    public Object productElement(int n) {
        return switch (n) {
            case 0 -> generate;
            case 1 -> result;
            case 2 -> child;
            default -> throw new IndexOutOfBoundsException(n);
        };
    }

    @Override
    public boolean canEqual(Object that) {
        return that instanceof MmGenerateExec;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MmGenerateExec e && e.generate.equals(generate) && e.result.equals(result)
                && e.child.equals(child);
    }

    @Override
    public int hashCode() {
        return (generate.hashCode() * 31 + result.hashCode()) * 31 + child.hashCode();
    }
}
