package io.sparkmm.kernels.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The committed kernels.fatbin against the CUDA sources it was built from, on any machine: no GPU
 * and no nvcc needed (with nvcc on PATH, a rebuild must also be byte-identical).
 *
 * <p>Targets are read from the fatbin container itself: a 16-byte header (magic 0xBA55ED50, version,
 * header size, payload size) and then entries, each with its own header (kind: 1 PTX, 2 ELF cubin;
 * header size; payload size; the target's SM number as a 32-bit word at offset 28). For every cubin
 * the embedded ELF is checked as well: machine EM_CUDA (190) and, in the CUDA ELF ABI nvcc 13
 * writes (e_ident[EI_ABIVERSION] = 8), the SM number in bits 8..15 of e_flags; the two markers must
 * agree, so a misread container layout cannot pass by accident.
 */
class KernelFatbinTest {

    private static final Path ROOT = repositoryRoot();
    private static final Path SRC = ROOT.resolve("kernels/src/main/cuda");
    private static final Path RES = ROOT.resolve("kernels/src/main/resources/io/sparkmm/kernels/cuda");
    private static final String REBUILD = "run scripts/build-kernels.sh";
    private static final int FATBIN_MAGIC = 0xBA55ED50;
    private static final int EM_CUDA = 190;

    @Test
    void manifestHashesEveryCurrentSource() throws IOException {
        Map<String, String> listed = new LinkedHashMap<>();
        for (String line : manifest()) {
            if (line.startsWith("source: ")) {
                String[] f = line.substring(8).split(" ");
                listed.put(f[1], f[0]);
            }
        }
        List<String> present = new ArrayList<>();
        try (Stream<Path> files = Files.list(SRC)) {
            files.map(p -> "kernels/src/main/cuda/" + p.getFileName())
                    .filter(p -> p.endsWith(".cu") || p.endsWith(".cuh") || p.endsWith(".h"))
                    .sorted().forEach(present::add);
        }
        assertThat(listed.keySet()).as("CUDA sources named in kernels.manifest; " + REBUILD)
                .containsExactlyInAnyOrderElementsOf(present);
        for (Map.Entry<String, String> e : listed.entrySet()) {
            assertThat(sha256(Files.readAllBytes(ROOT.resolve(e.getKey()))))
                    .as(e.getKey() + " changed since the fatbin was built: " + REBUILD).isEqualTo(e.getValue());
        }
    }

    @Test
    void fatbinIsTheOneTheManifestDescribes() throws IOException {
        byte[] fatbin = fatbin();
        String line = manifest().stream().filter(l -> l.startsWith("fatbin: ")).findFirst().orElse("fatbin: none");
        assertThat(line).as("manifest fatbin line; " + REBUILD)
                .isEqualTo("fatbin: " + sha256(fatbin) + " " + fatbin.length);
    }

    @Test
    void fatbinOnTheClasspathIsTheCommittedOne() throws IOException {
        try (InputStream in = KernelFatbinTest.class.getResourceAsStream("/io/sparkmm/kernels/cuda/kernels.fatbin")) {
            assertThat(in).as("kernels.fatbin as a class-path resource").isNotNull();
            assertThat(in.readAllBytes()).isEqualTo(fatbin());
        }
    }

    @Test
    void fatbinStartsWithTheMagic() throws IOException {
        byte[] fatbin = fatbin();
        assertThat(fatbin).startsWith((byte) 0x50, (byte) 0xED, (byte) 0x55, (byte) 0xBA);
        ByteBuffer b = ByteBuffer.wrap(fatbin).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getInt(0)).isEqualTo(FATBIN_MAGIC);
        assertThat(16 + b.getLong(8)).as("header size + declared payload = file size").isEqualTo(fatbin.length);
    }

    @Test
    void everyKernelOfTheHeaderIsInTheFatbinAndTheManifest() throws IOException {
        List<String> kernels = headerKernels();
        assertThat(kernels).as("kernels declared in sparkmm_kernels.h").hasSizeGreaterThanOrEqualTo(14)
                .contains("sparkmm_matmul", "sparkmm_paged_attention", "sparkmm_argmax");
        String bytes = new String(fatbin(), StandardCharsets.ISO_8859_1);
        List<String> inManifest = manifest().stream().filter(l -> l.startsWith("kernel: "))
                .map(l -> l.substring(8)).toList();
        assertThat(inManifest).as("kernels in the manifest; " + REBUILD).containsExactlyElementsOf(kernels);
        for (String k : kernels) {
            // the cubins' symbol tables hold the unmangled names (extern "C"); \0 on both sides
            // rules out a longer name that merely contains this one
            assertThat(bytes).as(k + " in kernels.fatbin; " + REBUILD).contains("\0" + k + "\0");
        }
    }

    @Test
    void fatbinHoldsSassForEveryTargetAndPtxForTheNewest() throws IOException {
        ByteBuffer b = ByteBuffer.wrap(fatbin()).order(ByteOrder.LITTLE_ENDIAN);
        int headerSize = Short.toUnsignedInt(b.getShort(6));
        long end = headerSize + b.getLong(8);
        TreeSet<Integer> sass = new TreeSet<>();
        TreeSet<Integer> ptx = new TreeSet<>();
        long off = headerSize;
        while (off < end) {
            int at = Math.toIntExact(off);
            int kind = Short.toUnsignedInt(b.getShort(at));
            int entryHeader = b.getInt(at + 4);
            long payload = b.getLong(at + 8);
            int sm = b.getInt(at + 28);
            int body = at + entryHeader;
            if (kind == 2) {
                assertThat(b.getInt(body)).as("ELF magic of the sm_" + sm + " cubin").isEqualTo(0x464C457F);
                assertThat(Short.toUnsignedInt(b.getShort(body + 18))).as("e_machine").isEqualTo(EM_CUDA);
                assertThat(b.get(body + 8)).as("CUDA ELF ABI version (e_flags layout)").isEqualTo((byte) 8);
                int eFlags = b.getInt(body + 48);
                assertThat((eFlags >>> 8) & 0xff).as("SM in the ELF e_flags vs the fatbin entry").isEqualTo(sm);
                sass.add(sm);
            } else if (kind == 1) {
                ptx.add(sm);
            }
            off = body + payload;
        }
        assertThat(off).as("entries tile the fatbin exactly").isEqualTo(end);
        assertThat(sass).as("SASS targets; " + REBUILD).containsExactly(80, 86, 89, 90);
        assertThat(ptx).as("PTX (JIT for newer GPUs)").containsExactly(90);
    }

    /**
     * With nvcc on PATH, {@code build-kernels.sh --check} rebuilds into a temp dir and must
     * reproduce both files byte for byte. Without nvcc nothing can be rebuilt; the test then checks
     * what it can, that the manifest records the compiler, and says so in its output.
     */
    @Test
    void rebuildIsByteIdenticalWhenNvccIsPresent() throws IOException, InterruptedException {
        String compiler = manifest().stream().filter(l -> l.startsWith("nvcc: ")).findFirst().orElse("");
        assertThat(compiler).as("manifest's nvcc line").matches("nvcc: .*release \\d+\\.\\d+, V[\\d.]+");
        if (!onPath("nvcc")) {
            System.out.println("KernelFatbinTest: nvcc absent: rebuild not checked (fatbin built by "
                    + compiler.substring(6) + ")");
            return;
        }
        Process p = new ProcessBuilder("bash", "scripts/build-kernels.sh", "--check")
                .directory(ROOT.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as("scripts/build-kernels.sh --check:\n" + new String(out, StandardCharsets.UTF_8)
                + "\n" + REBUILD + " with " + compiler.substring(6)).isZero();
    }

    private static List<String> headerKernels() throws IOException {
        Pattern decl = Pattern.compile("^__global__ void ([A-Za-z_][A-Za-z0-9_]*)\\(", Pattern.MULTILINE);
        Matcher m = decl.matcher(Files.readString(SRC.resolve("sparkmm_kernels.h")));
        List<String> names = new ArrayList<>();
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    private static List<String> manifest() throws IOException {
        return Files.readAllLines(RES.resolve("kernels.manifest"));
    }

    private static byte[] fatbin() throws IOException {
        return Files.readAllBytes(RES.resolve("kernels.fatbin"));
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        return path != null && Stream.of(path.split(java.io.File.pathSeparator))
                .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, tool)));
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // surefire runs in the module directory; walking up also works from an IDE at the root
    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("scripts/build-kernels.sh"))) {
                return d;
            }
        }
        throw new UncheckedIOException(new IOException("no scripts/build-kernels.sh above " + dir));
    }
}
