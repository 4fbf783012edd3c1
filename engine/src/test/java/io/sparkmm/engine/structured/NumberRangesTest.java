package io.sparkmm.engine.structured;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Bounded numbers against BigDecimal comparison (the oracle): on random decimal strings, the
 * compiled automaton accepts a number exactly when it is a JSON number without exponent inside the
 * bounds; and what it generates is always inside them.
 */
class NumberRangesTest {

    private record Range(String min, boolean minIncl, String max, boolean maxIncl) {
        boolean contains(BigDecimal x) {
            boolean above = min == null || (minIncl ? x.compareTo(new BigDecimal(min)) >= 0 : x.compareTo(new BigDecimal(min)) > 0);
            boolean below = max == null || (maxIncl ? x.compareTo(new BigDecimal(max)) <= 0 : x.compareTo(new BigDecimal(max)) < 0);
            return above && below;
        }

        String schema() {
            StringBuilder sb = new StringBuilder("{\"type\": \"number\"");
            if (min != null) {
                sb.append(", \"").append(minIncl ? "minimum" : "exclusiveMinimum").append("\": ").append(min);
            }
            if (max != null) {
                sb.append(", \"").append(maxIncl ? "maximum" : "exclusiveMaximum").append("\": ").append(max);
            }
            return sb.append('}').toString();
        }
    }

    private static final List<Range> RANGES = List.of(
            new Range("0.5", true, "2.25", true), new Range("0.5", false, "2.25", false), new Range("-1.75", true, "-0.125", false),
            new Range("-3", false, "4.1", true), new Range("0", false, null, false), new Range(null, false, "0", true),
            new Range("1.05", true, "1.1", true), new Range("-0.5", true, "0.5", false), new Range("7", true, "7", true),
            new Range("-10.001", true, null, false), new Range("12.3", false, "123.45", true));

    @Test
    void acceptsExactlyTheNumbersInsideTheBounds() {
        Random rnd = new Random(11);
        for (Range r : RANGES) {
            ByteDfa dfa = ByteDfa.of(JsonSchemaCompiler.compile(r.schema()), r.schema());
            DfaSampler sampler = new DfaSampler(dfa);
            int inside = 0;
            List<String> candidates = new java.util.ArrayList<>();
            for (String b : new String[] {r.min(), r.max()}) {
                if (b != null) {
                    BigDecimal v = new BigDecimal(b);
                    // each bound, a hair either side, and the bound with a trailing zero (equal by value)
                    for (BigDecimal x : List.of(v, v.add(new BigDecimal("0.001")), v.subtract(new BigDecimal("0.001")))) {
                        candidates.add(x.toPlainString());
                    }
                    candidates.add(v.toPlainString() + (v.scale() > 0 ? "0" : ".0"));
                }
            }
            for (int k = 0; k < 2000; k++) {
                candidates.add(randomNumber(rnd));
            }
            for (String s : candidates) {
                boolean expected = r.contains(new BigDecimal(s));
                assertThat(dfa.matches(s.getBytes(StandardCharsets.UTF_8))).as("%s on %s", r.schema(), s).isEqualTo(expected);
                inside += expected ? 1 : 0;
            }
            for (int k = 0; k < 500; k++) {
                String member = sampler.sample(rnd, 10);
                assertThat(r.contains(new BigDecimal(member))).as("%s generated %s", r.schema(), member).isTrue();
            }
            assertThat(inside).as("%s: the random numbers reach inside the range", r.schema()).isPositive();
        }
    }

    @Test
    void integerBoundsRoundInward() {
        ByteDfa dfa = ByteDfa.of(JsonSchemaCompiler.compile("{\"type\": \"integer\", \"minimum\": 0.5, \"exclusiveMaximum\": 4}"), "x");
        for (int i = -3; i <= 6; i++) {
            assertThat(dfa.matches(Integer.toString(i).getBytes(StandardCharsets.UTF_8))).as("%d", i).isEqualTo(i >= 1 && i <= 3);
        }
        assertThatThrownBy(() -> JsonSchemaCompiler.compile("{\"type\": \"number\", \"minimum\": 2, \"exclusiveMaximum\": 2}"))
                .hasMessageContaining("is empty");
    }

    /** Mostly small numbers near the ranges' ends, some with leading zeros or trailing zeros. */
    private static String randomNumber(Random rnd) {
        StringBuilder sb = new StringBuilder();
        if (rnd.nextInt(3) == 0) {
            sb.append('-');
        }
        int intDigits = 1 + rnd.nextInt(3);
        for (int i = 0; i < intDigits; i++) {
            sb.append(i == 0 && intDigits > 1 && rnd.nextInt(8) != 0 ? (char) ('1' + rnd.nextInt(9)) : (char) ('0' + rnd.nextInt(10)));
        }
        if (rnd.nextBoolean()) {
            sb.append('.');
            int frac = 1 + rnd.nextInt(4);
            for (int i = 0; i < frac; i++) {
                sb.append((char) ('0' + rnd.nextInt(10)));
            }
        }
        String s = sb.toString();
        // JSON has no leading zeros: "007" is not a number the automaton may accept, whatever its value
        return s.replaceFirst("^(-?)0+(\\d)", "$1$2");
    }
}
