package io.sparkmm.connector.generate;

import io.sparkmm.engine.EngineRequest;
import io.sparkmm.engine.multimodal.MultimodalProcessor;
import io.sparkmm.engine.multimodal.PromptInput;
import io.sparkmm.processors.ProcessorKwargs;
import io.sparkmm.processors.media.MediaSource;
import io.sparkmm.processors.media.RemoteFiles;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns one {@link RowInput} into an {@link EngineRequest} in the calling task thread: checks the
 * prompt, turns media values into sources (refusing paths outside {@code allowedRoots}), derives
 * the row's seed and runs the multimodal processor. Any problem throws with a message naming the
 * row and the item; the caller turns it into that row's error.
 */
public final class RequestFactory {

    private final GeneratorSettings settings;
    private final MultimodalProcessor processor;
    private final List<String> roots;
    private final ProcessorKwargs processorKwargs;
    private final RemoteFiles remoteFiles;
    /** The rows' parameters but the seed, built once: they parse the structured-output JSON, if any. */
    private final io.sparkmm.engine.sampling.SamplingParams baseSampling;

    /**
     * {@code remoteFiles} reads non-local media paths: it should carry the job's Hadoop
     * configuration (see {@link io.sparkmm.connector.media.HadoopRemoteFiles}), or
     * {@code spark.hadoop.*} settings would not apply to media paths.
     */
    public RequestFactory(GeneratorSettings settings, MultimodalProcessor processor, RemoteFiles remoteFiles) {
        this.settings = settings;
        this.remoteFiles = java.util.Objects.requireNonNull(remoteFiles, "remoteFiles");
        this.processor = processor;
        this.roots = settings.allowedRoots().stream().map(RequestFactory::canonical).toList();
        this.processorKwargs = settings.processorKwargs();
        this.baseSampling = settings.sampling(0L);
    }

    public GeneratorSettings settings() {
        return settings;
    }

    public EngineRequest build(RowInput row) {
        if (row.prompt() == null || row.prompt().isEmpty()) {
            throw new IllegalArgumentException("row " + row.name() + ": the prompt is " + (row.prompt() == null ? "null" : "empty"));
        }
        List<MediaSource> images = sources(row, "image", row.images());
        List<MediaSource> audio = sources(row, "audio", row.audio());
        List<MediaSource> video = sources(row, "video", row.video());
        long seed = rowSeed(settings.samplingOptions().seed(), row);
        PromptInput input = new PromptInput(row.prompt(), null, settings.chatTemplate(), settings.systemPrompt(),
                images, audio, video, processorKwargs);
        // no request id: the engine numbers requests, and row names need not be unique across tasks
        return processor.build(null, input, baseSampling.withSeed(seed));
    }

    /** Null media is no media; an array's null element is an error (a row should not silently lose an item). */
    private List<MediaSource> sources(RowInput row, String kind, Object value) {
        List<MediaSource> out = new ArrayList<>();
        if (value == null) {
            return out;
        }
        List<?> items = value instanceof List<?> l ? l : List.of(value);
        for (int i = 0; i < items.size(); i++) {
            Object v = items.get(i);
            String item = "row " + row.name() + " " + kind + (items.size() > 1 || value instanceof List ? "[" + i + "]" : "");
            if (v instanceof byte[] b) {
                out.add(MediaSource.ofBytes(item, b));
            } else if (v instanceof String path) {
                checkAllowed(item, path);
                out.add(MediaSource.ofPath(path, remoteFiles));
            } else if (v == null) {
                throw new IllegalArgumentException(item + " is null");
            } else {
                throw new IllegalArgumentException(item + ": expected binary content or a path string, got "
                        + v.getClass().getSimpleName());
            }
        }
        return out;
    }

    private void checkAllowed(String item, String path) {
        if (roots.isEmpty()) {
            return;
        }
        String c = canonical(path);
        for (String root : roots) {
            if (c.equals(root) || c.startsWith(root.endsWith("/") ? root : root + "/")) {
                return;
            }
        }
        throw new IllegalArgumentException(item + ": path " + path + " is outside allowedRoots " + settings.allowedRoots());
    }

    /**
     * A comparable form of a path or URI with "." and ".." resolved, so "/data/../etc" cannot pass
     * as being under "/data", and with symbolic links of existing local files resolved, so a link
     * inside a root cannot point outside it. Local paths and file: URIs (also Hadoop's unescaped
     * "file:/a b.png") become absolute paths; other URIs keep their scheme and authority.
     */
    static String canonical(String p) {
        String local = p;
        if (p.regionMatches(true, 0, "file:", 0, 5)) {
            local = p.substring(5);
            if (local.startsWith("//")) {
                int slash = local.indexOf('/', 2);
                local = slash < 0 ? "/" : local.substring(slash);
            }
        } else if (p.matches("^[a-zA-Z][a-zA-Z0-9+.-]+:.*")) {
            try {
                return new URI(p).normalize().toString();
            } catch (Exception e) {
                return p; // compared as given: only an equal or longer root prefix can match it
            }
        }
        Path path = Path.of(local).toAbsolutePath().normalize();
        try {
            return path.toRealPath().toString();
        } catch (java.io.IOException e) {
            return path.toString(); // missing files keep their normalized form; reading them fails later anyway
        }
    }

    /**
     * hash(base seed, prompt, media): the same row content gives the same seed in any task, attempt
     * or partitioning, so reruns reproduce sampled rows. Media in memory count by their bytes,
     * paths by the path string (reading a file twice just for the seed would cost I/O). Public so
     * a row's draw can be reproduced with the engine alone (the tests' oracle does).
     */
    public static long rowSeed(long base, RowInput row) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (int i = 0; i < 8; i++) {
                md.update((byte) (base >>> (8 * i)));
            }
            update(md, "p", row.prompt());
            update(md, "i", row.images());
            update(md, "a", row.audio());
            update(md, "v", row.video());
            byte[] d = md.digest();
            long seed = 0;
            for (int i = 0; i < 8; i++) {
                seed = (seed << 8) | (d[i] & 0xff);
            }
            return seed;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static void update(MessageDigest md, String tag, Object v) {
        md.update(tag.getBytes(StandardCharsets.UTF_8));
        if (v == null) {
            md.update((byte) 0);
        } else if (v instanceof byte[] b) {
            md.update((byte) 1);
            md.update(lengthBytes(b.length));
            md.update(b);
        } else if (v instanceof List<?> l) {
            md.update((byte) 2);
            md.update(lengthBytes(l.size()));
            for (Object o : l) {
                update(md, "e", o);
            }
        } else {
            byte[] s = v.toString().getBytes(StandardCharsets.UTF_8);
            md.update((byte) 3);
            md.update(lengthBytes(s.length));
            md.update(s);
        }
    }

    private static byte[] lengthBytes(int n) {
        return new byte[] {(byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n};
    }
}
