package io.sparkmm.kernels.cuda;

import io.sparkmm.kernels.cuda.Kernel.P;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernels the ABI header declares, parsed from {@code src/main/cuda/sparkmm_kernels.h}
 * (surefire runs in the module directory): name to parameter kinds. Independent of
 * {@link Kernel}, so the tests can hold the Java table and every launch against the header.
 */
final class AbiHeader {

    static final Path PATH = Path.of("src", "main", "cuda", "sparkmm_kernels.h");
    private static final Pattern KERNEL = Pattern.compile("__global__\\s+void\\s+(\\w+)\\s*\\(([^)]*)\\)\\s*;");

    private AbiHeader() {
    }

    static Map<String, List<P>> kernels() {
        String text;
        try {
            text = Files.readString(PATH);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the ABI header " + PATH.toAbsolutePath(), e);
        }
        text = text.replaceAll("//[^\n]*", " ");
        Map<String, List<P>> kernels = new LinkedHashMap<>();
        Matcher m = KERNEL.matcher(text);
        while (m.find()) {
            List<P> params = new ArrayList<>();
            for (String p : m.group(2).split(",")) {
                params.add(kind(p.strip()));
            }
            kernels.put(m.group(1), List.copyOf(params));
        }
        if (kernels.isEmpty()) {
            throw new IllegalStateException("no __global__ kernels found in " + PATH.toAbsolutePath());
        }
        return kernels;
    }

    /** "const float* x" is a pointer; "int64_t count", "int n", "float eps" are scalars. */
    static P kind(String param) {
        if (param.contains("*")) {
            return P.PTR;
        }
        String type = param.replace("const ", "").strip().split("\\s+")[0];
        return switch (type) {
            case "int" -> P.I32;
            case "int64_t" -> P.I64;
            case "float" -> P.F32;
            default -> throw new IllegalArgumentException("unknown kernel parameter type in '" + param + "'");
        };
    }
}
