#!/usr/bin/env bash
# Packs what the GPU machine needs into .gpu/ (ignored; carried by run(carry=[".gpu"])): the kernels
# jar, its test classes, every test-scope dependency (bytedeco cuda + javacpp with linux natives
# included), the JUnit console launcher and a jlinked Java 17. See /work/shared/GPU.md §4, §10.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .gpu && mkdir -p .gpu/lib
mvn -q -B -o -pl kernels -am package -DskipTests
cp kernels/target/sparkmm-kernels-*.jar .gpu/lib/ && cp -r kernels/target/test-classes .gpu/
mvn -q -B -o -pl kernels dependency:copy-dependencies -DincludeScope=test \
  -DexcludeGroupIds=org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian -DoutputDirectory="$PWD/.gpu/lib"
mvn -q -B dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.4 -DoutputDirectory="$PWD/.gpu/lib"
# the kernels' own C++ self-test (no Java needed on the device), when nvcc is here to build it
if command -v nvcc >/dev/null; then bash scripts/build-kernels.sh --selftest .gpu/kernel_selftest; fi
J=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
"$J/bin/jlink" --add-modules java.base,java.logging,java.xml,jdk.management,jdk.incubator.vector,jdk.unsupported,jdk.zipfs \
  --compress=2 --strip-debug --no-header-files --no-man-pages --output /tmp/jre17.$$
tar -C /tmp -cf - jre17.$$ | xz -T2 -6 > .gpu/jre17.tar.xz && rm -rf /tmp/jre17.$$
du -sh .gpu
