#!/usr/bin/env bash
# Packs what the GPU machine needs into .gpu/ (ignored; carried by run(carry=[".gpu"])): the kernels,
# processors and engine jars, the kernels' and the engine's GPU test classes, the runtime jars those
# suites load on Linux, the JUnit console launcher and a jlinked Java 17. See /work/shared/GPU.md §4,
# §10. Budget: at most 64 MiB travel per call and the tracked tree is ~17.5 MB, so .gpu must stay
# under ~44 MiB; this script fails when it does not.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .gpu && mkdir -p .gpu/lib .gpu/test-classes
mvn -q -B -o -pl engine -am package -DskipTests
cp kernels/target/sparkmm-kernels-*.jar processors/target/sparkmm-processors-*.jar \
   engine/target/sparkmm-engine-*-SNAPSHOT.jar .gpu/lib/
cp -r kernels/target/test-classes/. .gpu/test-classes/
# of the engine's test classes only the GPU suite and its bench (the rest is 12 MB of HF fixtures);
# the suite writes its tiny checkpoints at run time, so no resources are needed
mkdir -p .gpu/test-classes/io/sparkmm/engine/gpu
cp engine/target/test-classes/io/sparkmm/engine/gpu/*.class .gpu/test-classes/io/sparkmm/engine/gpu/
find .gpu/test-classes -name '*DryRun*' -delete  # local scratch copies, never carried
# Runtime jars. Left out, because the GPU suites and the bench never load them (checked by running
# the suites' logic on a CPU backend over exactly this classpath and JRE): media (javacv, ffmpeg,
# opencv, openblas, javafx: ~190 MB with natives); the tokenizer stack (DJL tokenizers + api, gson,
# jna, commons-compress) and jinjava's tree (guava, commons-*, javassist, yaml, ...), since the suites
# use token ids and delete tokenizer.json, and jinjava would also need java.desktop (java.beans) in
# the JRE; JUnit (the console launcher has it); byte-buddy (assertj needs it only for soft assertions).
# Should a later suite need the tokenizer: DJL's jar holds its Rust library for 4 platforms (18 MB);
# `zip -d JAR 'native/lib/win-x86_64/*' 'native/lib/osx-aarch64/*' 'native/lib/linux-aarch64/*'`
# keeps linux-x86_64 only (5 MB), and jinjava needs java.desktop added to the jlink below.
mvn -q -B -o -pl engine dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$PWD/.gpu/lib" \
  -DexcludeGroupIds=org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian,org.openjfx,com.hubspot,com.hubspot.immutables,com.google.guava,com.google.errorprone,com.google.j2objc,com.google.code.findbugs,com.google.code.gson,org.checkerframework,org.javassist,commons-net,commons-io,commons-codec,org.yaml,ch.obermuhlner,org.derive4j,com.googlecode.java-ipv6,org.immutables,com.google.re2j,com.fasterxml.jackson.dataformat,com.fasterxml.jackson.datatype,ai.djl,ai.djl.huggingface,net.java.dev.jna,net.bytebuddy \
  -DexcludeArtifactIds=opencv,openblas,ffmpeg,javacv,commons-lang3,commons-compress
# bytedeco's linux jar has 27 JNI wrappers (5 MB); the backend binds only cudart (cublas kept for a
# later cuBLASLt path: 1.6 MB)
CJ=$(ls .gpu/lib/cuda-*-linux-x86_64.jar)
zip -q -d "$CJ" $(unzip -Z1 "$CJ" | grep -E '\.so$' | grep -vE 'libjni(cudart|cublas)\.so$')
mvn -q -B -o dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.4 -DoutputDirectory="$PWD/.gpu/lib"
# the kernels' own C++ self-test (no Java needed on the device), when nvcc is here to build it
if command -v nvcc >/dev/null; then bash scripts/build-kernels.sh --selftest .gpu/kernel_selftest; fi
J=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
"$J/bin/jlink" --add-modules java.base,java.logging,java.xml,jdk.management,jdk.incubator.vector,jdk.unsupported,jdk.zipfs \
  --compress=2 --strip-debug --no-header-files --no-man-pages --output /tmp/jre17.$$
tar -C /tmp -cf - jre17.$$ | xz -T2 -6 > .gpu/jre17.tar.xz && rm -rf /tmp/jre17.$$
du -sh .gpu
KIB=$(du -sk .gpu | cut -f1)
echo ".gpu: $((KIB / 1024)) MiB (limit 44 MiB so that .gpu + the tracked tree stay under 64 MiB)"
if [ "$KIB" -gt $((44 * 1024)) ]; then echo "gpu-pack: .gpu is over 44 MiB" >&2; exit 1; fi
