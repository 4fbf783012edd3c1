package io.sparkmm.connector.sql;

import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.ConditionalExpression;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression$;
import org.apache.spark.sql.catalyst.plans.logical.Filter;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.execution.FilterExec;
import org.apache.spark.sql.execution.ProjectExec;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.SparkStrategy;
import org.apache.spark.sql.types.Metadata;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractPartialFunction;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plans the {@code mm_generate} calls of a SELECT list or a WHERE clause into
 * {@link MmGenerateExec} operators below the projection or filter, which then read the calls'
 * results as columns: the way Spark takes Python UDFs out of a plan to evaluate them in batches.
 *
 * <p>A call is taken out when its options are constant and every input it reads comes from the
 * operator's child. Calls in a conditional branch stay where they are (a CASE branch or the second
 * argument of COALESCE may be there precisely to skip rows, and an operator would run every row), as
 * do calls nested in another call's arguments; those are evaluated a row at a time, as before.
 * Equal calls are computed once per row. Each taken-out call gets its own operator, stacked.
 */
public final class MmGenerateStrategy extends SparkStrategy {

    @Override
    public Seq<SparkPlan> apply(LogicalPlan plan) {
        if (plan instanceof Project project) {
            // NamedExpression is a Scala trait over the Expression class: Java sees no subtype relation
            List<Expression> named = new ArrayList<>();
            for (NamedExpression e : CollectionConverters.asJava(project.projectList())) {
                named.add((Expression) e);
            }
            Map<MmGenerate, Attribute> calls = calls(named, project.child());
            if (calls.isEmpty()) {
                return none();
            }
            List<NamedExpression> projectList = new ArrayList<>();
            for (Expression e : named) {
                projectList.add((NamedExpression) replace(e, calls));
            }
            return one(new ProjectExec(CollectionConverters.asScala(projectList).toList(), operators(calls, project.child())));
        }
        if (plan instanceof Filter filter) {
            Map<MmGenerate, Attribute> calls = calls(List.of(filter.condition()), filter.child());
            if (calls.isEmpty()) {
                return none();
            }
            // the filter's output is its child's: the results are dropped once the condition has read them
            List<NamedExpression> childOutput = new ArrayList<>(CollectionConverters.asJava(filter.child().output()));
            return one(new ProjectExec(CollectionConverters.asScala(childOutput).toList(),
                    new FilterExec(replace(filter.condition(), calls), operators(calls, filter.child()))));
        }
        return none();
    }

    private SparkPlan operators(Map<MmGenerate, Attribute> calls, LogicalPlan child) {
        SparkPlan plan = planLater(child);
        for (Map.Entry<MmGenerate, Attribute> c : calls.entrySet()) {
            plan = new MmGenerateExec(c.getKey(), c.getValue(), plan);
        }
        return plan;
    }

    /** The calls to take out of {@code expressions}, each with the attribute its result will be. */
    static Map<MmGenerate, Attribute> calls(List<? extends Expression> expressions, LogicalPlan child) {
        Map<MmGenerate, Attribute> out = new LinkedHashMap<>();
        AttributeSet available = child.outputSet();
        for (Expression e : expressions) {
            collect(e, available, out);
        }
        return out;
    }

    private static void collect(Expression e, AttributeSet available, Map<MmGenerate, Attribute> out) {
        if (e instanceof MmGenerate call) {
            if (batchable(call, available) && !out.containsKey(call)) {
                out.put(call, new AttributeReference("mm_generate", call.dataType(), false, Metadata.empty(),
                        NamedExpression$.MODULE$.newExprId(), CollectionConverters.asScala(List.<String>of()).toSeq()));
            }
            return;
        }
        Seq<Expression> evaluatedForEveryRow = e instanceof ConditionalExpression c ? c.alwaysEvaluatedInputs() : e.children();
        for (Expression child : CollectionConverters.asJava(evaluatedForEveryRow)) {
            collect(child, available, out);
        }
    }

    private static boolean batchable(MmGenerate call, AttributeSet available) {
        if (call.constantOptions() == null || !call.references().subsetOf(available)) {
            return false;
        }
        for (Expression argument : CollectionConverters.asJava(call.children())) {
            if (argument.exists(new scala.runtime.AbstractFunction1<Expression, Object>() {
                @Override
                public Object apply(Expression x) {
                    return x instanceof MmGenerate;
                }
            })) {
                return false;
            }
        }
        return true;
    }

    private static Expression replace(Expression e, Map<MmGenerate, Attribute> calls) {
        return e.transformUp(new AbstractPartialFunction<Expression, Expression>() {
            @Override
            public boolean isDefinedAt(Expression x) {
                return x instanceof MmGenerate m && calls.containsKey(m);
            }

            @Override
            public <A1 extends Expression, B1> B1 applyOrElse(A1 x, scala.Function1<A1, B1> otherwise) {
                @SuppressWarnings("unchecked")
                B1 replaced = x instanceof MmGenerate m && calls.containsKey(m) ? (B1) calls.get(m) : otherwise.apply(x);
                return replaced;
            }
        });
    }

    private static Seq<SparkPlan> one(SparkPlan p) {
        return CollectionConverters.asScala(List.of(p)).toSeq();
    }

    private static Seq<SparkPlan> none() {
        return CollectionConverters.asScala(List.<SparkPlan>of()).toSeq();
    }
}
