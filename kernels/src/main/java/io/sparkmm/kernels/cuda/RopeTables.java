package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.RopePositions;

import java.nio.ByteBuffer;

/**
 * The tables {@code sparkmm_rope} reads, packed for one host-to-device copy per call:
 * {@code positions[S * n]} ints (row r's position in section s at {@code s * n + r}),
 * {@code section_of[hd/2]} ints, then {@code inv_freq[hd/2]} floats. Pure; unit-tested.
 */
final class RopeTables {

    private final ByteBuffer packed;
    private final long sectionOfOffset;
    private final long invFreqOffset;

    private RopeTables(ByteBuffer packed, long sectionOfOffset, long invFreqOffset) {
        this.packed = packed;
        this.sectionOfOffset = sectionOfOffset;
        this.invFreqOffset = invFreqOffset;
    }

    /** Packs the tables; the caller has checked that positions and invFreq fit n and headDim. */
    static RopeTables of(RopePositions positions, int headDim, float[] invFreq) {
        int[] sectionOf = positions.sectionOfEachFrequency(headDim);
        int n = positions.rows();
        int sections = positions.numSections();
        int half = headDim / 2;
        ByteBuffer b = CudaDevice.host(4L * ((long) sections * n + 2L * half));
        for (int s = 0; s < sections; s++) {
            b.asIntBuffer().position(s * n).put(positions.positions(s));
        }
        b.asIntBuffer().position(sections * n).put(sectionOf);
        b.asFloatBuffer().position(sections * n + half).put(invFreq);
        return new RopeTables(b, 4L * sections * n, 4L * ((long) sections * n + half));
    }

    /** The packed bytes, little-endian, positioned at 0. */
    ByteBuffer packed() {
        return packed.duplicate().order(packed.order());
    }

    /** Byte offset of section_of (positions start at 0). */
    long sectionOfOffset() {
        return sectionOfOffset;
    }

    /** Byte offset of inv_freq. */
    long invFreqOffset() {
        return invFreqOffset;
    }
}
