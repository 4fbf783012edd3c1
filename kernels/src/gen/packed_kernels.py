"""Writes PackedKernels.java and PackedWideKernels.java: the register kernels of PackedGemm,
unrolled by hand so that every accumulator stays in a register (the Vector API has no arrays of
vectors the JIT keeps in registers). Edit the shapes here and rerun:

    python3 kernels/src/gen/packed_kernels.py

With --check it writes nothing and fails if the committed files differ (PackedKernelsSourceTest).
"""
import os
import sys
import textwrap

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'main', 'java', 'io', 'sparkmm', 'kernels', 'simd') + os.sep

CHECK = '--check' in sys.argv
stale = []


def emit(name, text):
    """Writes the file, or with --check only notes whether it differs from what is committed."""
    path = OUT + name
    if CHECK:
        with open(path) as f:
            if f.read() != text:
                stale.append(name)
        return
    with open(path, 'w') as f:
        f.write(text)


def zero(names):
    return ''.join(f'        FloatVector {n} = FloatVector.zero(FS);\n' for n in names)

def wparams(f32):
    return 'float[] wf' if f32 else 'int kind, short[] wb'

def loads(f32, idx, off):
    if f32:
        return (f'            FloatVector b{idx} = FloatVector.fromArray(FS, wf, {off});\n'
                f'            FloatVector b{idx+1} = FloatVector.fromArray(FS, wf, {off} + L);\n')
    return (f'            FloatVector b{idx} = lo(kind, wb, {off});\n'
            f'            FloatVector b{idx+1} = hi(kind, wb, {off});\n')

def small_kernel(name, rows, pairs, doc, f32, lastparam=False):
    accs = [f'c{r}{v}' for r in range(rows) for v in range(2*pairs)]
    ps = ', '.join(f'int o{i}' for i in range(pairs))
    extra = 'int last, ' if lastparam else ''
    suffix = '' if f32 else 'Wide'
    out = f'''    /** {doc} */
    static void {name}{suffix}(float[] x, int k, {extra}{wparams(f32)}, {ps}, float[] tile) {{
''' + zero(accs)
    xoff = ['', 'k + ', '2 * k + ', 'x3 + ']
    if lastparam:
        out += '        int x3 = last * k;\n'
    # one induction variable: the JIT then hoists the panel loads' range checks out of the loop
    out += '        for (int q = 0; q < k; q++) {\n'
    for i in range(pairs):
        out += loads(f32, 2*i, f'o{i} + q * NR')
    for r in range(rows):
        pre = 'FloatVector a' if r == 0 else 'a'
        out += f'            {pre} = FloatVector.broadcast(FS, x[{xoff[r]}q]);\n'
        for v in range(2*pairs):
            out += f'            c{r}{v} = a.fma(b{v}, c{r}{v});\n'
    out += '        }\n'
    for r in range(rows):
        for v in range(2*pairs):
            out += f'        c{r}{v}.intoArray(tile, {r * 8 + v} * L);\n'
    out += '    }\n\n'
    return out

def coff(r, v):
    return 'co' + ('' if r == 0 else (' + ldc' if r == 1 else f' + {r} * ldc')) + ('' if v == 0 else (' + L' if v == 1 else f' + {v} * L'))

def tile_kernel(mr, f32):
    """F32 tiles read x in place; 16-bit ones read a copy at the constant row stride KC (see PackedGemm)."""
    copied = not f32
    accs = [f'c{r}{v}' for r in range(mr) for v in range(2)]
    suffix = '' if f32 else 'Wide'
    name = f'tile{mr}x1'
    doc = f"{mr} rows x one panel (two vectors){'' if f32 else ', widened'}: {mr*2} accumulators."
    if mr == 8 and not copied:
        doc = doc + (" c[8][2L] (row stride ldc, from co) = its chains continued over kl more k: x's rows from x[xo..]"
                     " (row stride k; rows past {@code last} repeat it, their sums unused), the panel's rows from bo"
                     " ({@code [kl][NR]}); from +0 when first.")
    if mr == 8 and copied:
        doc = doc + (" c[8][2L] (row stride ldc, from co) = its chains continued over kl more k: row r's"
                     " activations from xp[r KC..] (rows copied at the constant stride {@link PackedGemm#KC},"
                     " so each broadcast is one load at a fixed displacement), the panel's rows from bo"
                     " ({@code [kl][NR]}); from +0 when first.")
    doc = "    /**\n" + "\n".join("     * " + l for l in textwrap.wrap(doc, 95)) + "\n     */"
    xparams = 'float[] xp' if copied else 'float[] x, int xo, int k, int last'
    out = f"""{doc}
    static void {name}{suffix}({xparams}, {wparams(f32)}, int bo, int kl,
                               float[] c, int co, int ldc, boolean first) {{
"""
    if not copied:
        for r in range(mr):
            out += f'        int x{r} = xo + Math.min({r}, last) * k;\n'
    for a in accs:
        out += f'        FloatVector {a};\n'
    out += '        if (first) {\n'
    out += '            ' + ' = '.join(accs) + ' = FloatVector.zero(FS);\n'
    out += '        } else {\n'
    for r in range(mr):
        for v in range(2):
            out += f'            c{r}{v} = FloatVector.fromArray(FS, c, {coff(r, v)});\n'
    out += '        }\n'
    if not copied:
        out += '        for (int pb = bo, q = 0; q < kl; pb += NR, q++) {\n'
        out += loads(f32, 0, 'pb')
    else:
        out += '        for (int q = 0; q < kl; q++) {\n'
        out += loads(f32, 0, 'bo + q * NR')
    for r in range(mr):
        pre = 'FloatVector a' if r == 0 else 'a'
        if not copied:
            xi = f'x{r} + q'
        else:
            xi = 'q' if r == 0 else ('KC + q' if r == 1 else f'{r} * KC + q')
        out += f"            {pre} = FloatVector.broadcast(FS, {'xp' if copied else 'x'}[{xi}]);\n"
        for v in range(2):
            out += f'            c{r}{v} = a.fma(b{v}, c{r}{v});\n'
    out += '        }\n'
    for r in range(mr):
        for v in range(2):
            out += f'        c{r}{v}.intoArray(c, {coff(r, v)});\n'
    out += '    }\n\n'
    return out

head = '''package io.sparkmm.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register kernels of {@link PackedGemm} (see it for the summation contract), unrolled by
 * hand so every accumulator stays in a register: the decode kernels (one, two or four rows
 * against groups of panels, into a tile of row stride 8L) and the blocked tiles (eight or six rows x one
 * panel, continuing the chains stored in c). Each comes twice: over F32 panels (wf), and over 16-bit
 * ones (wb, "Wide") widened by {@link #lo} and {@link #hi}. Generated shapes, not generics: a
 * dtype test inside the k loop measured about 10% slower on F32 (the JIT did not unswitch it).
 */
// Written by kernels/src/gen/packed_kernels.py: edit that, not this file.
final class PackedKernels {

    private static final VectorSpecies<Float> FS = Gemm.FS;
    private static final VectorSpecies<Short> PAIRS = VectorSpecies.of(short.class, FS.vectorShape());
    private static final int L = Gemm.L;
    private static final int NR = PackedWeight.NR;
    private static final int KC = PackedGemm.KC;
    private static final int HIGH_HALF = 0xffff0000;

    private PackedKernels() {
    }

    /**
     * A 16-bit panel row's first vector (its outputs [0, L)) from o as F32, exactly. BF16 rows are
     * stored pairwise ({@link PackedWeight}): one load of 2L patterns gives both vectors, this one
     * by a shift of each 32-bit pair, {@link #hi} by a mask. F16 rows are in order.
     */
    static FloatVector lo(int kind, short[] wb, int o) {
        if (kind == PackedGemm.BF16) {
            return ShortVector.fromArray(PAIRS, wb, o).reinterpretAsInts()
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        }
        return StreamGemm.f16(wb, o);
    }

    /** A 16-bit panel row's second vector (its outputs [L, 2L)); see {@link #lo}. */
    static FloatVector hi(int kind, short[] wb, int o) {
        if (kind == PackedGemm.BF16) {
            return ShortVector.fromArray(PAIRS, wb, o).reinterpretAsInts().and(HIGH_HALF).reinterpretAsFloats();
        }
        return StreamGemm.f16(wb, o + L);
    }

'''
def kernels(f32):
    b = ''
    b += small_kernel('row1', 1, 4, 'tile[0][v L, v L + L) = one row against the four panels at o0..o3: eight chains in flight.', f32)
    b += small_kernel('rows2', 2, 2, 'tile[r][v L, v L + L) = rows 0 and 1 against the two panels at o0, o1.', f32)
    b += small_kernel('rows4', 4, 2, 'Rows 0, 1, 2 and {@code last} (3, or 2 again when there are three rows) against the two panels at o0, o1.', f32, True)
    b += tile_kernel(8, f32)
    b += tile_kernel(6, f32)
    return b.replace('Wide(', '(')
f32head = head[:head.index('    /**\n     * A 16-bit panel row')]
f32head = f32head.replace('import jdk.incubator.vector.ShortVector;\nimport jdk.incubator.vector.VectorOperators;\n', '')
f32head = f32head.replace('    private static final VectorSpecies<Short> PAIRS = VectorSpecies.of(short.class, FS.vectorShape());\n', '')
f32head = f32head.replace('    private static final int HIGH_HALF = 0xffff0000;\n', '')
f32head = f32head.replace('    private static final int KC = PackedGemm.KC;\n', '')
f32head = f32head.replace(''' * panel, continuing the chains stored in c). Each comes twice: over F32 panels (wf), and over 16-bit
 * ones (wb, "Wide") widened by {@link #lo} and {@link #hi}. Generated shapes, not generics: a
 * dtype test inside the k loop measured about 10% slower on F32 (the JIT did not unswitch it).''', ''' * panel, continuing the chains stored in c), over F32 panels (wf). {@link PackedWideKernels} has
 * the same shapes over 16-bit panels: a dtype test inside the k loop measured about 10% slower on
 * F32 (the JIT did not unswitch it), so each dtype family gets its own loops.''')
assert '{@link #lo}' not in f32head
emit('PackedKernels.java', f32head + kernels(True).rstrip() + '\n}\n')
widehead = head.replace('final class PackedKernels {', 'final class PackedWideKernels {').replace('    private PackedKernels() {', '    private PackedWideKernels() {')
widehead = widehead.replace(''' * The register kernels of {@link PackedGemm} (see it for the summation contract), unrolled by
 * hand so every accumulator stays in a register: the decode kernels (one, two or four rows
 * against groups of panels, into a tile of row stride 8L) and the blocked tiles (eight or six rows x one
 * panel, continuing the chains stored in c). Each comes twice: over F32 panels (wf), and over 16-bit
 * ones (wb, "Wide") widened by {@link #lo} and {@link #hi}. Generated shapes, not generics: a
 * dtype test inside the k loop measured about 10% slower on F32 (the JIT did not unswitch it).''', ''' * {@link PackedKernels}' shapes over 16-bit panels (wb), each weight widened exactly to F32 in
 * registers by {@link #lo} and {@link #hi}: BF16 by a shift or a mask of pairs, F16 by
 * {@link StreamGemm#f16}.''')
emit('PackedWideKernels.java', widehead + kernels(False).rstrip() + '\n}\n')
if stale:
    sys.exit('stale, rerun python3 kernels/src/gen/packed_kernels.py: ' + ', '.join(stale))

