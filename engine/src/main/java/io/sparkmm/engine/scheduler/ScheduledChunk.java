package io.sparkmm.engine.scheduler;

import java.util.Arrays;
import java.util.List;

/**
 * The work of one request in one step: compute positions [startPosition, startPosition + len).
 * Arrays are copied in and out so the record stays immutable across the engine seam.
 *
 * @param startPosition the request's numComputedTokens before this step
 * @param tokenIds the tokens at those positions
 * @param slotMapping per token: the KV slot it is written to, block * blockSize + pos % blockSize
 * @param blockTable block ids covering positions [0, startPosition + len)
 * @param samples true when the chunk reaches the end of the known tokens: the engine samples one
 *     token after it
 * @param encodeItems media items to run through the encoder in this step, before the forward pass
 *     (each whole: the encoder attends bidirectionally); their outputs enter the encoder cache
 *     under their hash. Empty when every needed output is cached.
 * @param mediaInChunk media items whose placeholder range overlaps this chunk: each overlap
 *     position {@code pos} in [max(start, offset), min(end, offset + length)) takes row
 *     {@code pos - offset} of the cached encoder output of that item's hash
 */
public record ScheduledChunk(String requestId, int startPosition, int[] tokenIds, int[] slotMapping,
                                                          int[] blockTable, boolean samples, List<MediaItem> encodeItems,
                                                          List<MediaItem> mediaInChunk) {
    /** A chunk with no media. */
    public ScheduledChunk(String requestId, int startPosition, int[] tokenIds, int[] slotMapping, int[] blockTable,
                                                boolean samples) {
        this(requestId, startPosition, tokenIds, slotMapping, blockTable, samples, List.of(), List.of());
    }

    public ScheduledChunk {
        encodeItems = List.copyOf(encodeItems);
        mediaInChunk = List.copyOf(mediaInChunk);
        tokenIds = tokenIds.clone();
        slotMapping = slotMapping.clone();
        blockTable = blockTable.clone();
        if (tokenIds.length != slotMapping.length) {
            throw new IllegalArgumentException("tokenIds and slotMapping differ in length");
        }
    }

    public int numTokens() {
        return tokenIds.length;
    }

    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    @Override
    public int[] slotMapping() {
        return slotMapping.clone();
    }

    @Override
    public int[] blockTable() {
        return blockTable.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScheduledChunk c && requestId.equals(c.requestId) && startPosition == c.startPosition
                && samples == c.samples && Arrays.equals(tokenIds, c.tokenIds)
                && Arrays.equals(slotMapping, c.slotMapping) && Arrays.equals(blockTable, c.blockTable)
                && encodeItems.equals(c.encodeItems) && mediaInChunk.equals(c.mediaInChunk);
    }

    @Override
    public int hashCode() {
        return (requestId.hashCode() * 31 + startPosition) * 31 + Arrays.hashCode(tokenIds);
    }

    @Override
    public String toString() {
        return "ScheduledChunk[" + requestId + " @" + startPosition + " +" + tokenIds.length
                + (samples ? " samples" : "") + ", blocks=" + Arrays.toString(blockTable)
                + (mediaInChunk.isEmpty() ? "" : ", media=" + mediaInChunk + ", encode=" + encodeItems) + "]";
    }
}
