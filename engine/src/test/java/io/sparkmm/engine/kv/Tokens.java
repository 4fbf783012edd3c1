package io.sparkmm.engine.kv;

import java.util.ArrayList;
import java.util.List;

/** A minimal {@link TokenSequence} for block-manager tests. */
record Tokens(int[] ids, String salt, List<int[]> ranges, List<String> keys) implements TokenSequence {
    static Tokens of(int... ids) {
        return new Tokens(ids, null, List.of(), List.of());
    }

    static Tokens range(int from, int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = from + i;
        }
        return of(ids);
    }

    @Override
    public int numTokens() {
        return ids.length;
    }

    @Override
    public int tokenAt(int position) {
        return ids[position];
    }

    @Override
    public String cacheSalt() {
        return salt;
    }

    @Override
    public List<BlockExtraKey> extraKeysIn(int start, int end) {
        List<BlockExtraKey> out = new ArrayList<>();
        for (int i = 0; i < ranges.size(); i++) {
            int[] r = ranges.get(i);
            if (r[0] < end && r[1] > start) {
                out.add(new BlockExtraKey(keys.get(i), r[0] - start));
            }
        }
        return out;
    }
}
