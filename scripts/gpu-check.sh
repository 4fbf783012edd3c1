#!/usr/bin/env bash
# One device call: probe, kernel selftest (if packed), GPU test suite, benchmark. Carry: .gpu (see
# gpu-pack.sh). Logs and JUnit reports land in $OUT. Exit status: the suite's (or the selftest's).
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"; exec > >(tee "$OUT/gpu-check.log") 2>&1
echo "== probe"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "no nvidia-smi"
if [ -z "${FORCE_CARRIED_JRE:-}" ] && command -v java >/dev/null && java -version 2>&1 | grep -q 'version "\(1[7-9]\|2[0-9]\)'; then JAVA=java
else mkdir -p /tmp/jre && tar -C /tmp/jre -xJf .gpu/jre17.tar.xz && JAVA=$(ls -d /tmp/jre/*/bin/java); fi
"$JAVA" -version 2>&1 | head -1
# CUDA 13 user-space libs: pip wheels (nvidia/cu13/lib or nvidia/*/lib) and the driver's mount
LIBDIRS=$(find /opt /usr \( -name 'libcublasLt.so.13*' -o -name 'libcudart.so.13*' -o -name 'libnvrtc.so.13*' \) \
          -printf '%h\n' 2>/dev/null | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH="${LIBDIRS}/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"; ldconfig -p | grep -m1 'libcuda.so.1' || echo "libcuda.so.1 not in ldconfig cache"
SELFTEST_RC=0
if [ -x .gpu/kernel_selftest ]; then
  echo "== kernel selftest"; timeout 120 .gpu/kernel_selftest; SELFTEST_RC=$?; echo "selftest rc $SELFTEST_RC"
fi
CP=.gpu/test-classes:$(ls .gpu/lib/*.jar | grep -v console-standalone | tr '\n' ':')
JOPTS="--add-modules jdk.incubator.vector -Xmx8g -Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp -Dsparkmm.gpu.required=true"
echo "== gpu suite"
timeout 240 "$JAVA" $JOPTS -jar .gpu/lib/junit-platform-console-standalone-*.jar execute --disable-banner \
  --details=tree --fail-if-no-tests -cp "$CP" --select-package io.sparkmm --include-tag gpu --reports-dir "$OUT/junit"; RC=$?
echo "== bench"
if [ -n "${BENCH_MAIN:-}" ]; then timeout 240 "$JAVA" $JOPTS -cp "$CP" "$BENCH_MAIN" "$OUT/bench.csv"; fi
if [ "$RC" -eq 0 ]; then RC=$SELFTEST_RC; fi
exit $RC
