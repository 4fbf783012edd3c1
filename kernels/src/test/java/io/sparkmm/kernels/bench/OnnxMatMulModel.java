package io.sparkmm.kernels.bench;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A one-node ONNX model, {@code y[n, m] = MatMul(x[n, k], w[k, m])} with w an F32 initializer
 * and n symbolic, written as ONNX protobuf bytes by hand (no Python, no protobuf library): the
 * few messages and field numbers of onnx.proto it needs (ModelProto 1 ir_version, 7 graph, 8
 * opset_import; GraphProto 1 node, 2 name, 5 initializer, 11 input, 12 output; TensorProto 1 dims,
 * 2 data_type, 8 name, 9 raw_data; ValueInfoProto / TypeProto / TensorShapeProto for the
 * signatures). This is how PyTorch exports a Linear layer: MatMul with the transposed weight.
 */
final class OnnxMatMulModel {

    private static final int FLOAT = 1;
    private static final int IR_VERSION = 8;
    private static final int OPSET = 13;

    private OnnxMatMulModel() {
    }

    /**
     * The model bytes for weights {@code w[m, k]} (row-major, the layout of a Hugging Face
     * Linear), stored transposed as MatMul's [k, m] initializer.
     */
    static byte[] of(float[] w, int m, int k) {
        ByteBuffer raw = ByteBuffer.allocate(Math.multiplyExact(4 * k, m)).order(ByteOrder.LITTLE_ENDIAN);
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < m; j++) {
                raw.putFloat(w[j * k + p]);
            }
        }
        Proto init = new Proto().varint(1, k).varint(1, m).varint(2, FLOAT).string(8, "w").bytes(9, raw.array());
        Proto node = new Proto().string(1, "x").string(1, "w").string(2, "y").string(3, "matmul").string(4, "MatMul");
        Proto graph = new Proto().message(1, node).string(2, "sparkmm_matmul").message(5, init)
                .message(11, valueInfo("x", k)).message(12, valueInfo("y", m));
        Proto opset = new Proto().string(1, "").varint(2, OPSET);
        return new Proto().varint(1, IR_VERSION).string(2, "sparkmm").message(7, graph).message(8, opset).toBytes();
    }

    /** A float tensor [n, cols] with n symbolic. */
    private static Proto valueInfo(String name, int cols) {
        Proto shape = new Proto().message(1, new Proto().string(2, "n")).message(1, new Proto().varint(1, cols));
        Proto tensor = new Proto().varint(1, FLOAT).message(2, shape);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensor));
    }

    /** Protobuf wire format: varint (type 0) and length-delimited (type 2) fields. */
    private static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long value) {
            writeVarint((long) field << 3);
            writeVarint(value);
            return this;
        }

        Proto bytes(int field, byte[] b) {
            writeVarint((long) field << 3 | 2);
            writeVarint(b.length);
            out.write(b, 0, b.length);
            return this;
        }

        Proto string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto m) {
            return bytes(field, m.toBytes());
        }

        byte[] toBytes() {
            return out.toByteArray();
        }

        private void writeVarint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) (v & 0x7F) | 0x80);
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}
