package io.sparkmm.engine.encoders;

import java.util.Arrays;

/**
 * One named tensor at a media encoder's boundary, as the family sees it: element type and dims,
 * {@link #ANY} where the family accepts any size (a batch of one, a variable patch count).
 *
 * @param name the graph's input or output name the family feeds or reads
 * @param kind float32 or int64
 * @param dims the shape, {@link #ANY} for a free dimension
 */
public record EncoderTensor(String name, Kind kind, long[] dims) {

    /** A dimension the family does not fix. */
    public static final long ANY = -1;

    public enum Kind { FLOAT, INT64 }

    public EncoderTensor {
        if (name == null || name.isBlank() || kind == null || dims == null) {
            throw new IllegalArgumentException("an encoder tensor needs a name, a kind and dims");
        }
        dims = dims.clone();
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    public int rank() {
        return dims.length;
    }

    /**
     * Whether a graph's declared shape (its free or symbolic dims as negative values) can hold what
     * this describes: same rank, and every dim both sides fix is equal.
     */
    public boolean compatibleWith(long[] declared) {
        if (declared.length != dims.length) {
            return false;
        }
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] >= 0 && declared[i] >= 0 && dims[i] != declared[i]) {
                return false;
            }
        }
        return true;
    }

    /** Shapes as users read them: [1, 3, 336, 336], '?' for a free dim. */
    public static String shape(long[] dims) {
        return Arrays.stream(dims).mapToObj(d -> d < 0 ? "?" : Long.toString(d))
                .collect(java.util.stream.Collectors.joining(", ", "[", "]"));
    }

    @Override
    public String toString() {
        return name + " " + kind.name().toLowerCase(java.util.Locale.ROOT) + shape(dims);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EncoderTensor t && t.name.equals(name) && t.kind == kind && Arrays.equals(t.dims, dims);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * name.hashCode() + kind.hashCode()) + Arrays.hashCode(dims);
    }
}
