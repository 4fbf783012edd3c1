#!/usr/bin/env bash
# Builds the CUDA kernels into the committed fatbin and its manifest, so that every build and jar
# has kernels without nvcc (see /work/shared/GPU.md §5 and kernels/src/main/cuda/sparkmm_kernels.h).
#
#   scripts/build-kernels.sh                  rebuild kernels.fatbin + kernels.manifest in place
#   scripts/build-kernels.sh --check          rebuild into a temp dir; rc 0 only if both files are
#                                             byte-identical to the committed ones (KernelFatbinTest)
#   scripts/build-kernels.sh --selftest BIN   build the standalone GPU self-test driver
#                                             (kernels/src/test/cuda/kernel_selftest.cu) into BIN
#
# Flags: no --use_fast_math (IEEE division, sqrt, exp), and --fmad=false so that a * b + c rounds
# twice as in the CPU reference backend; where a kernel wants a fused multiply-add (GEMM and dot
# products) it calls fmaf explicitly, which keeps its rounding fixed whatever the compiler does.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=kernels/src/main/cuda
RES=kernels/src/main/resources/io/sparkmm/kernels/cuda
NVCC=${NVCC:-nvcc}
FLAGS=(-fatbin --fmad=false
       -gencode arch=compute_80,code=sm_80 -gencode arch=compute_86,code=sm_86
       -gencode arch=compute_89,code=sm_89 -gencode arch=compute_90,code=sm_90
       -gencode arch=compute_90,code=compute_90)
cd "$ROOT"

die() { echo "build-kernels: $*" >&2; exit 1; }
command -v "$NVCC" >/dev/null || die "nvcc not found (set NVCC or PATH); the committed fatbin stays as it is"

kernel_names() {
    sed -n 's/^__global__ void \([A-Za-z_][A-Za-z0-9_]*\)(.*/\1/p' "$SRC/sparkmm_kernels.h"
}

# Builds into directory $1: kernels.fatbin, kernels.manifest, ptxas.log (the last is not committed:
# it holds compile times).
build() {
    local out=$1
    mkdir -p "$out"
    # Compiled from the repository root with relative paths, so no absolute path of this checkout
    # can end up in the output.
    "$NVCC" "${FLAGS[@]}" -Xptxas -v -o "$out/kernels.fatbin" "$SRC/all.cu" 2> "$out/ptxas.log" \
        || { cat "$out/ptxas.log" >&2; die "nvcc failed"; }
    if grep -qi 'spill stores' "$out/ptxas.log" && grep -i 'spill stores' "$out/ptxas.log" | grep -vq ' 0 bytes spill stores'; then
        echo "build-kernels: warning: register spills (see $out/ptxas.log)" >&2
    fi
    local m=$out/kernels.manifest
    {
        echo "# sparkmm CUDA kernels, written by scripts/build-kernels.sh; do not edit"
        echo "nvcc: $("$NVCC" --version | grep -m1 'release')"
        echo "flags: ${FLAGS[*]}"
        for f in $(cd "$SRC" && ls *.cu *.cuh *.h | LC_ALL=C sort); do
            echo "source: $(sha256sum "$SRC/$f" | cut -d' ' -f1) $SRC/$f"
        done
        echo "fatbin: $(sha256sum "$out/kernels.fatbin" | cut -d' ' -f1) $(stat -c %s "$out/kernels.fatbin")"
        for k in $(kernel_names); do
            grep -aq "$k" "$out/kernels.fatbin" || die "kernel $k is not in the fatbin"
            echo "kernel: $k"
        done
        # Per target and kernel: registers and static shared memory, without the compile times
        awk '/Compiling entry function/ { match($0, /sm_[0-9]+/); arch = substr($0, RSTART, RLENGTH); next }
             /Function properties for/ { fn = $NF; next }
             /Used [0-9]+ registers/ && fn ~ /^sparkmm_/ {
                 regs = $0; sub(/.*Used /, "", regs); sub(/ registers.*/, "", regs)
                 smem = "0"; if (match($0, /[0-9]+ bytes smem/)) { smem = substr($0, RSTART, RLENGTH); sub(/ bytes smem/, "", smem) }
                 printf "usage: %s %s regs=%s smem=%s\n", arch, fn, regs, smem }' "$out/ptxas.log" | LC_ALL=C sort
    } > "$m"
}

case "${1:-}" in
    "")
        build "$RES"
        mkdir -p kernels/target/cuda && mv "$RES/ptxas.log" kernels/target/cuda/ptxas.log
        echo "build-kernels: $RES/kernels.fatbin ($(stat -c %s "$RES/kernels.fatbin") bytes), ptxas log in kernels/target/cuda/ptxas.log"
        ;;
    --check)
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        build "$tmp"
        rc=0
        cmp -s "$tmp/kernels.fatbin" "$RES/kernels.fatbin" || { echo "build-kernels --check: kernels.fatbin differs from a rebuild" >&2; rc=1; }
        diff -u "$RES/kernels.manifest" "$tmp/kernels.manifest" >&2 || { echo "build-kernels --check: kernels.manifest differs from a rebuild" >&2; rc=1; }
        [ $rc -eq 0 ] && echo "build-kernels --check: rebuild is byte-identical"
        exit $rc
        ;;
    --selftest)
        [ $# -eq 2 ] || die "usage: $0 --selftest OUT_BINARY"
        # The driver includes the kernel sources itself; sm_90 SASS plus compute_90 PTX covers the H200
        # and lets the driver JIT for any newer GPU.
        "$NVCC" -O2 --fmad=false -std=c++17 -I "$SRC" \
            -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90 \
            -o "$2" kernels/src/test/cuda/kernel_selftest.cu
        echo "build-kernels: self-test driver in $2"
        ;;
    *)
        die "unknown argument '$1' (none, --check or --selftest OUT_BINARY)"
        ;;
esac
