package io.sparkmm.engine.models;

import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;
import io.sparkmm.processors.prompt.PlaceholderRange;

/**
 * Puts an item's encoder rows into the decoder's input embeddings: the is-embed positions of its
 * placeholder range take rows 0, 1, 2, ... in order; its other positions (start, end, newline
 * tokens) keep their text embeddings. Used by the paged runner (for the part of a range inside a
 * chunk) and by the naive oracle (whole ranges), so both merge the same way.
 */
public final class MediaRows {

    private MediaRows() {
    }

    /**
     * For prompt positions [from, to) inside {@code range}: hidden[firstRow + (p - from)] =
     * encoderRows[the embedding index of p], for each is-embed position p.
     *
     * @param encoderRows [range.numEmbeddings(), hidden]
     * @param hidden [T, hidden], the rows of this batch
     * @param firstRow the row of hidden that holds position {@code from}
     */
    public static void merge(Backend backend, Tensor encoderRows, PlaceholderRange range, int from, int to,
                             Tensor hidden, int firstRow) {
        int p = from;
        while (p < to) {
            int i = p - range.offset();
            if (!range.isEmbed(i)) {
                p++;
                continue;
            }
            int runEnd = p + 1;
            while (runEnd < to && range.isEmbed(runEnd - range.offset())) {
                runEnd++;
            }
            backend.copyRows(encoderRows, range.embeddingsBefore(i), hidden, firstRow + (p - from), runEnd - p);
            p = runEnd;
        }
    }

    /**
     * The ids to look the text embeddings up with: a placeholder position's own embedding is
     * replaced, so an id there that lies outside the text vocabulary (a LLaVA image token added
     * after the embedding table) is looked up as 0 instead of failing.
     *
     * @param ids the token ids at positions [start, start + ids.length)
     */
    public static int[] lookupIds(int[] ids, int start, Iterable<PlaceholderRange> ranges, int vocab) {
        int[] out = null;
        for (PlaceholderRange r : ranges) {
            int from = Math.max(start, r.offset());
            int to = Math.min(start + ids.length, r.end());
            for (int p = from; p < to; p++) {
                if (r.isEmbed(p - r.offset()) && ids[p - start] >= vocab) {
                    if (out == null) {
                        out = ids.clone();
                    }
                    out[p - start] = 0;
                }
            }
        }
        return out != null ? out : ids;
    }
}
