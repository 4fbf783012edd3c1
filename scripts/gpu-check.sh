#!/usr/bin/env bash
# One device call: probe, kernel selftest (if packed), discovery, the GPU suites of kernels and engine,
# then (with BENCH_MAIN set) the HF baseline (scripts/gpu-hf-bench.py) and the Java bench on the
# checkpoints it writes. Carry: .gpu (see gpu-pack.sh). Logs, JUnit reports and CSVs land in $OUT.
# Each stage has its own timeout so that the whole stays under 540 s (45+2*20+190+100+110 + setup ~20);
# run(timeout_s=540). Exit status: the suites' (else discovery's, else the selftest's).
#   BENCH_MAIN=io.sparkmm.engine.gpu.CudaThroughputBench bash scripts/gpu-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"; exec > >(tee "$OUT/gpu-check.log") 2>&1
echo "== probe"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "no nvidia-smi"
if [ ! -f .gpu/jre17.tar.xz ]; then echo "no .gpu/ here: run scripts/gpu-pack.sh and carry .gpu"; exit 2; fi
if [ -z "${FORCE_CARRIED_JRE:-}" ] && command -v java >/dev/null && java -version 2>&1 | grep -q 'version "\(1[7-9]\|2[0-9]\)'; then JAVA=java
else mkdir -p /tmp/jre && tar -C /tmp/jre -xJf .gpu/jre17.tar.xz && JAVA=$(ls -d /tmp/jre/*/bin/java | head -1); fi
"$JAVA" -version 2>&1 | head -1
# CUDA 13 user-space libs: pip wheels (nvidia/cu13/lib or nvidia/*/lib) and the driver's mount
LIBDIRS=$(find /opt /usr \( -name 'libcublasLt.so.13*' -o -name 'libcudart.so.13*' -o -name 'libnvrtc.so.13*' \) \
          -printf '%h\n' 2>/dev/null | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH="${LIBDIRS}/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"; ldconfig -p | grep -m1 'libcuda.so.1' || echo "libcuda.so.1 not in ldconfig cache"
# DJL extracts its tokenizers library into a cache dir: keep it in /tmp (HOME may be read-only)
export DJL_CACHE_DIR=/tmp/djl ENGINE_CACHE_DIR=/tmp/djl
SELFTEST_RC=0
if [ -x .gpu/kernel_selftest ]; then
  echo "== kernel selftest"; timeout 45 .gpu/kernel_selftest; SELFTEST_RC=$?; echo "selftest rc $SELFTEST_RC"
fi
CP=.gpu/test-classes:$(ls .gpu/lib/*.jar | grep -v console-standalone | tr '\n' ':')
JOPTS="--add-modules jdk.incubator.vector -Xmx16g -Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp -Dai.djl.offline=true -Dsparkmm.gpu.required=true"
CONSOLE=$(ls .gpu/lib/junit-platform-console-standalone-*.jar)
# discovery only (seconds): a class missing from the packed classpath shows here as 0 tests, per suite
DISCOVER_RC=0
for pkg in io.sparkmm.kernels io.sparkmm.engine; do
  echo "== discover $pkg"
  timeout 20 "$JAVA" $JOPTS -jar "$CONSOLE" discover --disable-banner --disable-ansi-colors -cp "$CP" \
    --select-package "$pkg" --include-tag gpu > "$OUT/discover.txt" 2>&1
  cat "$OUT/discover.txt"
  # parameterized methods count as containers until run, so count the *GpuTest classes and methods
  CLASSES=$(grep -c 'GpuTest *$' "$OUT/discover.txt"); METHODS=$(grep -c '[a-zA-Z]([A-Za-z]*)' "$OUT/discover.txt")
  echo "$pkg: $CLASSES gpu test classes, $METHODS test methods found"
  if [ "$CLASSES" -eq 0 ] || [ "$METHODS" -eq 0 ]; then DISCOVER_RC=3; fi
done
echo "== gpu suites (kernels + engine)"
timeout 190 "$JAVA" $JOPTS -jar "$CONSOLE" execute --disable-banner --details=tree --fail-if-no-tests -cp "$CP" \
  --select-package io.sparkmm.kernels --select-package io.sparkmm.engine --include-tag gpu \
  --reports-dir "$OUT/junit"; RC=$?
echo "suites rc $RC"
if [ -n "${BENCH_MAIN:-}" ]; then
  echo "== hf bench (python, writes /tmp/hf-bench/*)"
  timeout 100 python3 scripts/gpu-hf-bench.py "$OUT/hf-bench.csv"; echo "hf bench rc $?"
  echo "== java bench $BENCH_MAIN"
  timeout 110 "$JAVA" $JOPTS -cp "$CP" "$BENCH_MAIN" "$OUT/bench.csv" ${BENCH_ARGS:-}; echo "java bench rc $?"
fi
if [ "$RC" -eq 0 ]; then RC=$DISCOVER_RC; fi
if [ "$RC" -eq 0 ]; then RC=$SELFTEST_RC; fi
exit $RC
