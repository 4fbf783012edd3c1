package io.sparkmm.processors.prompt;

import java.util.ArrayList;
import java.util.List;

/**
 * Applies a {@link PromptReplacement} to a prompt, on token ids (so pre-tokenized prompts with
 * media work) or on text. The number of placeholders must equal the number of items; otherwise
 * the request fails with a message that names both counts (the vLLM complaint "placeholder /
 * image count mismatch" becomes a clear per-request error).
 *
 * <p>If the prompt already holds the expanded form (each item's placeholder repeated exactly
 * its count, as a Hugging Face processor would have produced), the ranges are only located.
 */
public final class PromptUpdater {

    private PromptUpdater() {
    }

    /**
     * @param counts the placeholder count of each item, in the order the items were given
     */
    public static UpdatedPrompt applyToTokens(int[] tokenIds, PromptReplacement spec, int[] counts) {
        List<Integer> at = new ArrayList<>();
        for (int i = 0; i < tokenIds.length; i++) {
            if (tokenIds[i] == spec.placeholderTokenId()) {
                at.add(i);
            }
        }
        if (spec.featureTokenId() == spec.placeholderTokenId() && at.size() != counts.length) {
            UpdatedPrompt located = locateExpanded(tokenIds, spec, counts);
            if (located != null) {
                return located;
            }
        }
        if (at.size() != counts.length) {
            throw mismatch(spec, at.size(), counts.length);
        }
        int total = tokenIds.length - counts.length;
        for (int c : counts) {
            if (c < 1) {
                throw new IllegalArgumentException(spec.modality() + " placeholder count must be >= 1, got " + c);
            }
            total += c;
        }
        int[] out = new int[total];
        List<PlaceholderRange> ranges = new ArrayList<>(counts.length);
        int o = 0;
        int item = 0;
        for (int i = 0; i < tokenIds.length; i++) {
            if (item < counts.length && i == at.get(item)) {
                ranges.add(new PlaceholderRange(o, counts[item]));
                for (int r = 0; r < counts[item]; r++) {
                    out[o++] = spec.featureTokenId();
                }
                item++;
            } else {
                out[o++] = tokenIds[i];
            }
        }
        return new UpdatedPrompt(out, ranges);
    }

    /** Expands each placeholder string in a text prompt to {@code counts[i]} copies. */
    public static String applyToText(String prompt, PromptReplacement spec, int[] counts) {
        String p = spec.placeholderText();
        StringBuilder sb = new StringBuilder(prompt.length());
        int from = 0;
        int item = 0;
        int found;
        while ((found = prompt.indexOf(p, from)) >= 0) {
            if (item >= counts.length) {
                throw mismatch(spec, countOccurrences(prompt, p), counts.length);
            }
            sb.append(prompt, from, found);
            sb.append(p.repeat(counts[item++]));
            from = found + p.length();
        }
        if (item != counts.length) {
            throw mismatch(spec, item, counts.length);
        }
        return sb.append(prompt, from, prompt.length()).toString();
    }

    /** Ranges of an already-expanded prompt, or null when it is not exactly that. */
    private static UpdatedPrompt locateExpanded(int[] ids, PromptReplacement spec, int[] counts) {
        List<PlaceholderRange> ranges = new ArrayList<>();
        int i = 0;
        while (i < ids.length) {
            if (ids[i] != spec.placeholderTokenId()) {
                i++;
                continue;
            }
            int start = i;
            while (i < ids.length && ids[i] == spec.placeholderTokenId()) {
                i++;
            }
            int run = i - start;
            // a run may hold several items back to back
            int offset = start;
            while (run > 0) {
                if (ranges.size() >= counts.length || counts[ranges.size()] > run) {
                    return null;
                }
                int c = counts[ranges.size()];
                ranges.add(new PlaceholderRange(offset, c));
                offset += c;
                run -= c;
            }
        }
        return ranges.size() == counts.length && !ranges.isEmpty() ? new UpdatedPrompt(ids, ranges) : null;
    }

    private static int countOccurrences(String s, String p) {
        int n = 0;
        for (int i = s.indexOf(p); i >= 0; i = s.indexOf(p, i + p.length())) {
            n++;
        }
        return n;
    }

    private static IllegalArgumentException mismatch(PromptReplacement spec, int placeholders, int items) {
        return new IllegalArgumentException("the prompt has " + placeholders + " " + spec.placeholderText()
                + " placeholder" + (placeholders == 1 ? "" : "s") + " but " + items + " " + spec.modality()
                + (items == 1 ? " was" : "s were") + " given; put one " + spec.placeholderText() + " per "
                + spec.modality() + " in the prompt");
    }
}
