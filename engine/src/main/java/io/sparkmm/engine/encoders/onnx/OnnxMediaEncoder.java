package io.sparkmm.engine.encoders.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.sparkmm.engine.MediaInput;
import io.sparkmm.engine.encoders.EncoderFeed;
import io.sparkmm.engine.encoders.EncoderPort;
import io.sparkmm.engine.encoders.EncoderSignature;
import io.sparkmm.engine.encoders.EncoderTensor;
import io.sparkmm.engine.encoders.MediaEncoder;
import io.sparkmm.kernels.Backend;
import io.sparkmm.kernels.Tensor;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A family's media encoder from an ONNX file, run by ONNX Runtime. Everything that can be checked
 * before a row runs is checked when it opens (the file, that ONNX Runtime can load it and has its
 * ops, its input names, types and shapes against what the family's processor produces, its output
 * against what the language model takes), and every such error names the file. What can only show
 * at run time (a free output dim that comes out wrong) fails the item, naming both shapes.
 */
public final class OnnxMediaEncoder implements MediaEncoder {

    private final Path file;
    private final OnnxSessions.Key key;
    private final OrtSession session;
    private final EncoderPort port;
    private final Backend backend;
    private final String outputName;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private OnnxMediaEncoder(Path file, OnnxSessions.Key key, OrtSession session, EncoderPort port, Backend backend,
                             String outputName) {
        this.file = file;
        this.key = key;
        this.session = session;
        this.port = port;
        this.backend = backend;
        this.outputName = outputName;
    }

    /**
     * Opens {@code file} for the family's {@code port}, with ONNX Runtime's execution provider
     * following the backend (CPU, or CUDA for a cuda backend) and {@code threads} intra-op threads.
     *
     * @throws IllegalArgumentException naming the file when it is missing, unreadable by ONNX Runtime
     *     (corrupt, an op it lacks) or does not fit the family's encoder (names, types, shapes)
     */
    public static OnnxMediaEncoder open(Path file, EncoderPort port, Backend backend, int threads) {
        Path abs = file.toAbsolutePath().normalize();
        if (!Files.isRegularFile(abs)) {
            throw new IllegalArgumentException("ONNX encoder file " + abs + " does not exist or is not a file");
        }
        Path real;
        try {
            real = abs.toRealPath();
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("ONNX encoder file " + abs + " cannot be read: " + e.getMessage(), e);
        }
        OnnxSessions.Key key = new OnnxSessions.Key(real, OnnxDevice.forBackend(backend.name()), threads);
        OrtSession session;
        try {
            session = OnnxSessions.acquire(key);
        } catch (OrtException | RuntimeException e) {
            throw new IllegalArgumentException("ONNX encoder file " + abs + " could not be loaded by ONNX Runtime ("
                    + key.device() + "): " + e.getMessage(), e);
        }
        try {
            EncoderPort graphPort = forGraph(abs, session, port);
            String output = check(abs, session, graphPort.signature());
            return new OnnxMediaEncoder(abs, key, session, graphPort, backend, output);
        } catch (RuntimeException e) {
            OnnxSessions.release(key);
            throw e;
        }
    }

    private static EncoderPort forGraph(Path file, OrtSession session, EncoderPort port) {
        Map<String, String> metadata;
        try {
            metadata = session.getMetadata().getCustomMetadata();
        } catch (OrtException e) {
            throw new IllegalArgumentException("ONNX encoder file " + file + ": cannot read its metadata: "
                    + e.getMessage(), e);
        }
        try {
            return port.forGraph(metadata);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("ONNX encoder file " + file + " " + e.getMessage(), e);
        }
    }

    /** Checks the graph against the family's signature; returns the output to read. */
    private static String check(Path file, OrtSession session, EncoderSignature sig) {
        Map<String, NodeInfo> inputs;
        Map<String, NodeInfo> outputs;
        try {
            inputs = session.getInputInfo();
            outputs = session.getOutputInfo();
        } catch (OrtException e) {
            throw new IllegalArgumentException("ONNX encoder file " + file + ": cannot read its inputs and outputs: "
                    + e.getMessage(), e);
        }
        Set<String> want = new TreeSet<>();
        sig.inputs().forEach(t -> want.add(t.name()));
        if (!want.equals(new TreeSet<>(inputs.keySet()))) {
            throw new IllegalArgumentException("ONNX encoder file " + file + " has inputs " + describe(inputs)
                    + ", but the " + sig.family() + " " + sig.modality() + " encoder is fed " + sig.inputs()
                    + " (the graph must cover " + sig.covers() + ")");
        }
        for (EncoderTensor t : sig.inputs()) {
            expect(file, "input", t, inputs.get(t.name()), sig);
        }
        String out;
        if (outputs.containsKey(sig.output().name())) {
            out = sig.output().name();
        } else if (outputs.size() == 1) {
            out = outputs.keySet().iterator().next();
        } else {
            throw new IllegalArgumentException("ONNX encoder file " + file + " has outputs " + describe(outputs)
                    + " and none is named " + sig.output().name() + ": the " + sig.family() + " family reads "
                    + sig.output());
        }
        expect(file, "output", sig.output(), outputs.get(out), sig);
        return out;
    }

    private static void expect(Path file, String what, EncoderTensor want, NodeInfo node, EncoderSignature sig) {
        if (!(node.getInfo() instanceof TensorInfo info)) {
            throw new IllegalArgumentException("ONNX encoder file " + file + ": " + what + " " + node.getName()
                    + " is not a tensor; the " + sig.family() + " family expects " + want);
        }
        OnnxJavaType type = want.kind() == EncoderTensor.Kind.FLOAT ? OnnxJavaType.FLOAT : OnnxJavaType.INT64;
        if (info.type != type || !want.compatibleWith(info.getShape())) {
            throw new IllegalArgumentException("ONNX encoder file " + file + ": " + what + " " + node.getName() + " is "
                    + typeName(info) + EncoderTensor.shape(info.getShape()) + ", but the " + sig.family() + " "
                    + sig.modality() + " encoder " + (what.equals("input") ? "feeds " : "must give ") + want
                    + " (the graph must cover " + sig.covers() + ")");
        }
    }

    private static String typeName(TensorInfo info) {
        return info.type == OnnxJavaType.FLOAT ? "float" : info.type == OnnxJavaType.INT64 ? "int64"
                : info.type.toString().toLowerCase(java.util.Locale.ROOT);
    }

    private static String describe(Map<String, NodeInfo> nodes) {
        List<String> out = new ArrayList<>();
        for (NodeInfo n : nodes.values()) {
            out.add(n.getInfo() instanceof TensorInfo t ? n.getName() + " " + typeName(t) + EncoderTensor.shape(t.getShape())
                    : n.getName());
        }
        return out.toString();
    }

    @Override
    public Tensor encode(MediaInput item) {
        List<EncoderFeed> feeds = port.feeds(item);
        OrtEnvironment env = OnnxSessions.environment();
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            for (EncoderFeed f : feeds) {
                in.put(f.name(), f.floats() != null
                        ? OnnxTensor.createTensor(env, FloatBuffer.wrap(f.floats()), f.shape())
                        : OnnxTensor.createTensor(env, LongBuffer.wrap(f.longs()), f.shape()));
            }
            float[] rows;
            try (OrtSession.Result result = session.run(in, Set.of(outputName))) {
                OnnxValue v = result.get(outputName).orElseThrow();
                OnnxTensor t = (OnnxTensor) v;
                FloatBuffer buf = t.getFloatBuffer();
                float[] data = new float[buf.remaining()];
                buf.get(data);
                rows = port.embeddings(item, data, t.getInfo().getShape());
            }
            return backend.upload(rows, item.numEmbeddings(), port.hiddenSize());
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX encoder " + file + " failed on " + item.modality() + " " + item.hash()
                    + ": " + e.getMessage(), e);
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    @Override
    public String description() {
        return "ONNX Runtime encoder " + file + " (" + key.device() + ", " + key.threads() + " threads)";
    }

    /** The ONNX Runtime version this JVM runs. */
    public static String runtimeVersion() {
        return OnnxSessions.version();
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            OnnxSessions.release(key);
        }
    }
}
