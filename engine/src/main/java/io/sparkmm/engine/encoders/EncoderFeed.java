package io.sparkmm.engine.encoders;

import java.util.Arrays;

/**
 * One input value of an external encoder call: float32 or int64 data and its shape.
 *
 * @param name the graph input it feeds
 * @param floats the data when the input is float32, else null
 * @param longs the data when the input is int64, else null
 * @param shape its dims, all fixed
 */
public record EncoderFeed(String name, float[] floats, long[] longs, long[] shape) {

    public EncoderFeed {
        if ((floats == null) == (longs == null)) {
            throw new IllegalArgumentException("encoder feed " + name + " needs exactly one of float or int64 data");
        }
        long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        int len = floats != null ? floats.length : longs.length;
        if (n != len) {
            throw new IllegalArgumentException("encoder feed " + name + " has " + len + " values for shape "
                    + EncoderTensor.shape(shape));
        }
    }

    public static EncoderFeed ofFloats(String name, float[] data, long... shape) {
        return new EncoderFeed(name, data, null, shape);
    }

    public static EncoderFeed ofLongs(String name, long[] data, long... shape) {
        return new EncoderFeed(name, null, data, shape);
    }

    public EncoderTensor.Kind kind() {
        return floats != null ? EncoderTensor.Kind.FLOAT : EncoderTensor.Kind.INT64;
    }
}
