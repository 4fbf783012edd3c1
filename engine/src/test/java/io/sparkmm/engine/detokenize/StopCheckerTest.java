package io.sparkmm.engine.detokenize;

import io.sparkmm.engine.detokenize.StopChecker.Match;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StopCheckerTest {

    private static Optional<Match> feed(StopChecker c, String... deltas) {
        Optional<Match> m = Optional.empty();
        for (String d : deltas) {
            m = c.append(d);
        }
        return m;
    }

    @Test
    void stopStringSpanningTwoDeltas() {
        StopChecker c = new StopChecker(List.of("END"));
        assertThat(c.append("Hello E")).isEmpty();
        Match m = c.append("ND of it").orElseThrow();
        assertThat(m.stop()).isEqualTo("END");
        assertThat(m.index()).isEqualTo(6);
        assertThat(m.text()).isEqualTo("Hello ");
    }

    @Test
    void stopStringSpanningManyDeltas() {
        Match m = feed(new StopChecker(List.of("<stop>")), "a<", "s", "to", "p", ">b").orElseThrow();
        assertThat(m.text()).isEqualTo("a");
    }

    @Test
    void stopAtTheVeryStartGivesEmptyText() {
        Match m = new StopChecker(List.of("\n\n")).append("\n\nmore").orElseThrow();
        assertThat(m.index()).isZero();
        assertThat(m.text()).isEmpty();
    }

    @Test
    void theEarlierOccurrenceWinsWhicheverIsListedFirst() {
        // "world" is listed first but "lo" starts earlier in the same delta
        Match m = new StopChecker(List.of("world", "lo")).append("hello world").orElseThrow();
        assertThat(m.stop()).isEqualTo("lo");
        assertThat(m.text()).isEqualTo("hel");
        // across deltas: "ab" completes first in time and also starts first
        Match n = feed(new StopChecker(List.of("bcd", "ab")), "xa", "bcd").orElseThrow();
        assertThat(n.stop()).isEqualTo("ab");
        assertThat(n.text()).isEqualTo("x");
    }

    @Test
    void atEqualStartsTheFirstListedWins() {
        Match m = new StopChecker(List.of("abc", "ab")).append("xabcx").orElseThrow();
        assertThat(m.stop()).isEqualTo("abc");
        assertThat(m.text()).isEqualTo("x");
    }

    @Test
    void noFalseMatchAcrossTheDeltaBoundary() {
        StopChecker c = new StopChecker(List.of("abc"));
        assertThat(feed(c, "ab", "xc", "a", "b", "d", "bc")).isEmpty();
        assertThat(c.text()).isEqualTo("abxcabdbc");
        assertThat(c.match()).isEmpty();
    }

    @Test
    void textBeforeMinTokensIsNeverMatchedLater() {
        StopChecker c = new StopChecker(List.of("stop", "xy"));
        c.appendUnchecked("please stop");
        // the old "stop" stays unmatched; "xy" starting in the unchecked text and ending here does match
        assertThat(c.append(" now")).isEmpty();
        c.appendUnchecked("x");
        Match m = c.append("y!").orElseThrow();
        assertThat(m.stop()).isEqualTo("xy");
        assertThat(m.text()).isEqualTo("please stop now");
    }

    @Test
    void afterAMatchTheCheckerIsDone() {
        StopChecker c = new StopChecker(List.of("."));
        Match m = c.append("One. Two").orElseThrow();
        assertThat(c.append(" three.")).contains(m);
        assertThat(c.text()).isEqualTo("One. Two");
        assertThat(c.stableLength()).isEqualTo(3);
    }

    @Test
    void stableLengthHoldsBackWhatCouldStartAStopString() {
        StopChecker c = new StopChecker(List.of("ab", "wxyz"));
        c.append("hello w");
        assertThat(c.stableLength()).isEqualTo(4);
        assertThat(new StopChecker(List.of("q")).append("abc").isEmpty()).isTrue();
    }

    @Test
    void emptyDeltaAndEmptyStopList() {
        StopChecker none = new StopChecker(List.of());
        assertThat(feed(none, "anything", "")).isEmpty();
        assertThat(none.stableLength()).isEqualTo(8);
        assertThatThrownBy(() -> new StopChecker(List.of(""))).hasMessageContaining("empty");
    }
}
