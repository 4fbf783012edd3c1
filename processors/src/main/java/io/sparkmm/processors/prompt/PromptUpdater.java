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
     * @param counts the placeholder count of each item, in the order the items were given; each
     *     placeholder becomes that many copies of the spec's feature token, all embedded
     */
    public static UpdatedPrompt applyToTokens(int[] tokenIds, PromptReplacement spec, int[] counts) {
        List<ItemReplacement> perItem = new ArrayList<>(counts.length);
        for (int c : counts) {
            if (c < 1) {
                throw new IllegalArgumentException(spec.modality() + " placeholder count must be >= 1, got " + c);
            }
            perItem.add(ItemReplacement.repeat(spec.featureTokenId(), c));
        }
        return applyToTokens(tokenIds, spec, perItem);
    }

    /**
     * Replaces the i-th placeholder token by {@code perItem.get(i)}'s token sequence; each range
     * carries that replacement's is-embed mask.
     */
    public static UpdatedPrompt applyToTokens(int[] tokenIds, PromptReplacement spec, List<ItemReplacement> perItem) {
        List<Integer> at = new ArrayList<>();
        for (int i = 0; i < tokenIds.length; i++) {
            if (tokenIds[i] == spec.placeholderTokenId()) {
                at.add(i);
            }
        }
        // Already expanded (as a Hugging Face processor leaves it)? Then only locate. When the
        // placeholder is not the feature token (Qwen-VL: <img> then 256 <imgpad>), an expanded
        // prompt has as many placeholders as items, so the counts alone cannot tell.
        UpdatedPrompt located = locateExpanded(tokenIds, spec, perItem);
        if (located != null) {
            return located;
        }
        if (at.size() != perItem.size()) {
            throw mismatch(spec, at.size(), perItem.size());
        }
        int total = tokenIds.length - perItem.size();
        for (ItemReplacement r : perItem) {
            total += r.length();
        }
        int[] out = new int[total];
        List<PlaceholderRange> ranges = new ArrayList<>(perItem.size());
        int o = 0;
        int item = 0;
        for (int i = 0; i < tokenIds.length; i++) {
            if (item < perItem.size() && i == at.get(item)) {
                ItemReplacement r = perItem.get(item);
                ranges.add(r.rangeAt(o));
                for (int j = 0; j < r.length(); j++) {
                    out[o++] = r.token(j);
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

    /**
     * Ranges of an already-expanded prompt (each item's whole replacement present, in order, as a
     * Hugging Face processor would have produced it), or null when it is not exactly that: every
     * placeholder token of the prompt must lie inside a located replacement.
     */
    private static UpdatedPrompt locateExpanded(int[] ids, PromptReplacement spec, List<ItemReplacement> perItem) {
        if (perItem.isEmpty()) {
            return null;
        }
        List<PlaceholderRange> ranges = new ArrayList<>();
        boolean[] covered = new boolean[ids.length];
        int from = 0;
        for (ItemReplacement r : perItem) {
            int found = indexOf(ids, r, from);
            if (found < 0) {
                return null;
            }
            ranges.add(r.rangeAt(found));
            for (int j = 0; j < r.length(); j++) {
                covered[found + j] = true;
            }
            from = found + r.length();
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == spec.placeholderTokenId() && !covered[i]) {
                return null;
            }
        }
        return new UpdatedPrompt(ids, ranges);
    }

    private static int indexOf(int[] ids, ItemReplacement r, int from) {
        outer:
        for (int i = from; i + r.length() <= ids.length; i++) {
            for (int j = 0; j < r.length(); j++) {
                if (ids[i + j] != r.token(j)) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
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
