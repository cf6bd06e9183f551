#!/usr/bin/env bash
# Builds the self-contained GPU test bundle: everything scripts/gpu-run.sh needs on a machine that has an NVIDIA
# driver and CUDA libraries but no JDK and no network.
#
#   scripts/gpu-bundle.sh [OUT_DIR]          build (default OUT_DIR: gpu-bundle/ at the repository root, git-ignored)
#   scripts/gpu-bundle.sh --check OUT_DIR    only check an existing bundle's contents and size
#
# Layout of OUT_DIR (must stay under 60 MiB: the device runner carries at most 64 MiB of ignored paths):
#   jdk/                 a jlinked JDK 25 runtime (only the modules below; debug stripped; no man pages, no headers)
#   lib/                 inference-core and cuda-kernels jars (the fatbin is inside cuda-kernels), their runtime
#                        dependencies, and JCuda's jars when inference-core depends on them
#   test-classes/<module>/  compiled tests of inference-core and cuda-kernels (GPU tests carry @Tag("gpu"))
#   junit/               the JUnit Platform console launcher (junit-platform-console-standalone)
#   reference/           the oracles the GPU tests read: stories260k (HF export and expected outputs, without the
#                        llama2.c .bin and .gguf copies), nemotron-nas-tiny, the Ultra config.json
#   gpu-run.sh           the runner (a copy of scripts/gpu-run.sh)
#   bundle.properties    what was bundled: commit, versions, classpath, benchmark entry point
#
# Left out on purpose: the service fat jar (237 MB, mostly ONNX Runtime natives for RAG) and DJL's tokenizers
# (18 MB of Rust natives for every platform): GPU tests feed token ids, never text.
#
# Maven is used only to build and to fetch jars into the bundle (package, dependency:copy-dependencies,
# dependency:copy), never to install. Offline first; online only when a jar is missing from ~/.m2.
set -euo pipefail

readonly LIMIT_BYTES=$((60 * 1024 * 1024))
readonly JAVA_MODULES=java.base,java.logging,java.xml,java.sql,java.management,jdk.management,jdk.jfr,jdk.incubator.vector,jdk.unsupported,jdk.zipfs
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() { echo "gpu-bundle: $*" >&2; exit 1; }

# Contents and size of a finished bundle. Fails naming what is missing or how far over the limit it is.
check_bundle() {
  local dir=$1 missing=()
  [[ -x $dir/jdk/bin/java ]] || missing+=("jdk/bin/java")
  [[ -f $dir/gpu-run.sh ]] || missing+=("gpu-run.sh")
  [[ -f $dir/gpu-slice.json ]] || missing+=("gpu-slice.json")
  [[ -f $dir/gpu-slice-torch.py ]] || missing+=("gpu-slice-torch.py")
  [[ -f $dir/bundle.properties ]] || missing+=("bundle.properties")
  compgen -G "$dir/junit/junit-platform-console-standalone-*.jar" >/dev/null || missing+=("junit/junit-platform-console-standalone-*.jar")
  compgen -G "$dir/lib/inference-core-*.jar" >/dev/null || missing+=("lib/inference-core-*.jar")
  compgen -G "$dir/lib/cuda-kernels-*.jar" >/dev/null || missing+=("lib/cuda-kernels-*.jar")
  [[ -d $dir/test-classes/inference-core ]] || missing+=("test-classes/inference-core")
  for ref in stories260k/hf/model.safetensors nemotron-nas-tiny/nas-tiny-a-bf16/model.safetensors \
             nemotron-nas-tiny/nas-tiny-a-f32/model.safetensors nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.config.json; do
    [[ -f $dir/reference/$ref ]] || missing+=("reference/$ref")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "gpu-bundle: $dir is incomplete, missing: ${missing[*]}" >&2
    return 1
  fi
  local bytes
  bytes=$(du -sb "$dir" | cut -f1)
  printf 'gpu-bundle: %s: %d bytes (%.1f MiB), limit %d bytes (60 MiB)\n' "$dir" "$bytes" \
    "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" "$LIMIT_BYTES"
  if (( bytes >= LIMIT_BYTES )); then
    echo "gpu-bundle: over the limit by $((bytes - LIMIT_BYTES)) bytes; largest parts:" >&2
    du -s --block-size=1 "$dir"/* "$dir"/jdk/lib/* 2>/dev/null | sort -n -r | head -8 >&2
    return 1
  fi
}

if [[ ${1:-} == --check ]]; then
  [[ $# -eq 2 ]] || die "usage: $0 --check BUNDLE_DIR"
  check_bundle "$2"
  exit
fi
[[ $# -le 1 ]] || die "usage: $0 [OUT_DIR] | --check BUNDLE_DIR"
out=${1:-$root/gpu-bundle}
mkdir -p "$out"
out=$(cd "$out" && pwd)
[[ $out != "$root" && $out != / ]] || die "refusing to use $out as the bundle folder"

# A JDK 25 with jlink: JAVA_HOME when it is one, else the usual install folder.
java_home=${JAVA_HOME:-}
if [[ -z $java_home || ! -x $java_home/bin/jlink ]] || ! "$java_home/bin/java" -version 2>&1 | grep -q '"25'; then
  java_home=/usr/lib/jvm/temurin-25-jdk-amd64
fi
[[ -x $java_home/bin/jlink ]] || die "no JDK 25 with jlink found (set JAVA_HOME)"
export JAVA_HOME=$java_home
reference=${NEMOTRON_REFERENCE_DIR:-$root/../shared/reference}
[[ -d $reference/stories260k && -d $reference/nemotron-nas-tiny ]] || die "reference data not found at $reference (set NEMOTRON_REFERENCE_DIR)"

mvn() {
  # offline first: everything is normally in ~/.m2 already
  (cd "$root" && ./mvnw -B -ntp -q -o "$@") || (cd "$root" && ./mvnw -B -ntp -q "$@")
}

echo "gpu-bundle: building inference-core and cuda-kernels (tests compiled, not run)"
mvn -pl inference-core,cuda-kernels -am package -DskipTests

rm -rf "$out"/{jdk,lib,test-classes,junit,reference,gpu-run.sh,bundle.properties}
mkdir -p "$out"/{lib,test-classes,junit,reference}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp "$root"/inference-core/target/inference-core-*.jar "$root"/cuda-kernels/target/cuda-kernels-*.jar "$out/lib/"
rm -f "$out"/lib/*-sources.jar "$out"/lib/*-javadoc.jar
unzip -l "$out"/lib/cuda-kernels-*.jar | grep -q 'nemotron_kernels.fatbin$' \
  || echo "gpu-bundle: WARNING: cuda-kernels has no fatbin (nvcc missing at build time); the GPU tests will say so"

# Runtime and test dependencies of inference-core, except the JUnit jars (the console launcher brings its own
# matching platform and Jupiter engine) and DJL's tokenizer with its dependency tree (see the header).
mvn -pl inference-core dependency:list -DincludeScope=test -DoutputFile="$work/deps.txt" >/dev/null
junit_version=$(sed -n 's/.*org\.junit\.platform:junit-platform-launcher:jar:\([^:]*\):.*/\1/p' "$work/deps.txt" | head -1)
[[ -n $junit_version ]] || die "could not find the JUnit Platform version in inference-core's dependencies"
mvn -pl inference-core dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$out/lib" \
  -DexcludeGroupIds=org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian,org.jspecify,ai.djl,ai.djl.huggingface,net.java.dev.jna,org.apache.commons,commons-codec,commons-io,com.google.code.gson,com.google.errorprone
# JCuda's natives jar carries JNI libraries for every JCuda module (9.5 MB, mostly the nvPTX compiler binding);
# the CUDA backend loads only the driver binding (and the runtime one beside it), so the rest stays out.
for natives in "$out"/lib/jcuda-natives-*.jar; do
  [[ -f $natives ]] || continue
  command -v zip >/dev/null || die "zip is needed to trim $natives"
  zip -q -d "$natives" 'lib/libJNvPTXCompiler*' 'lib/libJNvrtc*' >/dev/null || true
done
mvn -pl inference-core dependency:copy \
  -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_version" -DoutputDirectory="$out/junit"

cp -r "$root/inference-core/target/test-classes" "$out/test-classes/inference-core"
cp -r "$root/cuda-kernels/target/test-classes" "$out/test-classes/cuda-kernels"

# Reference data: what GPU tests read, nothing else.
mkdir -p "$out/reference/stories260k" "$out/reference/nemotron"
cp "$reference/README.md" "$out/reference/" 2>/dev/null || true
find "$reference/stories260k" -maxdepth 1 -type f ! -name '*.bin' ! -name '*.gguf' -exec cp {} "$out/reference/stories260k/" \;
cp -r "$reference/stories260k/hf" "$out/reference/stories260k/"
cp -r "$reference/nemotron-nas-tiny" "$out/reference/"
cp "$reference/nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.config.json" "$out/reference/nemotron/"
chmod -R u+w "$out/reference"

echo "gpu-bundle: jlink $JAVA_MODULES"
"$JAVA_HOME/bin/jlink" --add-modules "$JAVA_MODULES" --strip-debug --no-header-files --no-man-pages \
  --compress zip-9 --output "$out/jdk" 2>&1 | grep -v 'incubator modules' || true
[[ -x $out/jdk/bin/java ]] || die "jlink failed"
# --strip-debug leaves libjvm.so's symbol table (5 MB); the JVM does not need it to run.
if command -v strip >/dev/null; then
  chmod u+w "$out/jdk/lib/server/libjvm.so" && strip --strip-unneeded "$out/jdk/lib/server/libjvm.so"
fi

cp "$root/scripts/gpu-run.sh" "$out/gpu-run.sh"
chmod +x "$out/gpu-run.sh"
# The benchmark's slice spec and its PyTorch eager twin (gpu-run.sh runs both sides from the one spec).
cp "$root/scripts/gpu-slice.json" "$root/scripts/gpu-slice-torch.py" "$out/"
chmod +x "$out/gpu-slice-torch.py"

# The GPU benchmark's main class, when this build has one (gpu-run.sh skips the benchmark otherwise).
bench_main=io.nemotron.core.bench.GpuSliceBenchmark
bench_class=${bench_main//.//}.class
if ! unzip -l "$out"/lib/inference-core-*.jar | grep -q " $bench_class\$"; then
  bench_main=
fi
{
  echo "# written by scripts/gpu-bundle.sh"
  echo "commit=$(cd "$root" && git rev-parse HEAD 2>/dev/null || echo unknown)$(cd "$root" && git diff --quiet 2>/dev/null || echo '+dirty')"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "java.modules=$JAVA_MODULES"
  echo "java.version=$("$out/jdk/bin/java" -version 2>&1 | head -1 | sed 's/.*"\(.*\)".*/\1/')"
  echo "junit.version=$junit_version"
  echo "jvm.flags=--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseG1GC -Xss4m"
  echo "benchmark.main=$bench_main"
} > "$out/bundle.properties"

# Self-check with the bundled runtime: a JUnit run of a CPU test that reads bundled reference data proves the
# runtime, the jars, the console launcher and the reference folder fit together before the bundle travels.
echo "gpu-bundle: self-check (MemoryPlannerTest on the bundled runtime)"
cp=$(find "$out/lib" -name '*.jar' | sort | tr '\n' ':')$out/test-classes/inference-core
if ! "$out/jdk/bin/java" --add-modules jdk.incubator.vector -Dnemotron.reference.dir="$out/reference" \
    -jar "$out"/junit/junit-platform-console-standalone-*.jar execute --disable-banner --details=summary \
    --class-path "$cp" --select-class io.nemotron.core.backend.cuda.MemoryPlannerTest > "$work/selfcheck.log" 2>&1; then
  cat "$work/selfcheck.log" >&2
  die "self-check failed"
fi
grep -E 'tests (successful|failed)' "$work/selfcheck.log" | sed 's/^ */gpu-bundle: self-check: /'

check_bundle "$out"
