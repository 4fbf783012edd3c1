package io.sparkmm.connector.sql;

import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.catalyst.FunctionIdentifier;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.ExpressionInfo;
import org.apache.spark.sql.execution.SparkStrategy;
import scala.Function1;
import scala.Option;
import scala.Tuple3;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

import java.io.Serializable;

/**
 * Registers sparkmm's SQL functions in every session built with
 * {@code spark.sql.extensions=io.sparkmm.connector.sql.SparkmmExtensions}:
 * {@code mm_generate(prompt, media [, options map<string,string>])} returning
 * {@code struct<text, finish_reason, prompt_tokens, completion_tokens, cached_tokens, error>}.
 * The model is the option {@code modelPath}, else the Spark conf {@code spark.sparkmm.model}
 * (read on the driver when the query is analyzed). Also registers {@link MmGenerateStrategy}, which
 * plans the calls into the batched {@link MmGenerateExec} operator.
 */
public final class SparkmmExtensions extends AbstractFunction1<SparkSessionExtensions, BoxedUnit>
        implements Serializable {

    /** The Spark conf naming the default model directory of mm_generate. */
    public static final String MODEL_CONF = "spark.sparkmm.model";

    @Override
    public BoxedUnit apply(SparkSessionExtensions extensions) {
        ExpressionInfo info = new ExpressionInfo(MmGenerate.class.getName(), null, "mm_generate",
                "_FUNC_(prompt, media [, options]) - generates text for the prompt and its media (binary content, "
                        + "a path, or an array of either) with the executor's shared sparkmm engine",
                "");
        Function1<Seq<Expression>, Expression> builder = new AbstractFunction1<>() {
            @Override
            public Expression apply(Seq<Expression> children) {
                String model = SparkSession.getActiveSession().isDefined()
                        ? SparkSession.getActiveSession().get().conf().get(MODEL_CONF, null) : null;
                return new MmGenerate(CollectionConverters.asJava(children), model);
            }
        };
        extensions.injectFunction(new Tuple3<>(new FunctionIdentifier("mm_generate", Option.empty()), info, builder));
        extensions.injectPlannerStrategy(new AbstractFunction1<SparkSession, SparkStrategy>() {
            @Override
            public SparkStrategy apply(SparkSession session) {
                return new MmGenerateStrategy();
            }
        });
        return BoxedUnit.UNIT;
    }
}
