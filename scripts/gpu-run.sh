#!/usr/bin/env bash
# Runs the GPU tests and the GPU benchmark from a bundle built by scripts/gpu-bundle.sh, on a machine with an
# NVIDIA driver and CUDA libraries but no JDK and no network. Everything it writes goes to RESULTS_DIR:
#
#   gpu-run.json          the summary (always written): status, GPU, test counts, benchmark outcome, timings
#   gpu-run.log           this script's own log
#   nvidia-smi.txt        the GPU as the driver reports it
#   selfcheck.log         a CPU-only JUnit run that proves the bundled runtime works on this machine
#   junit/ , junit.log    JUnit console reports (XML) and output of the tests tagged "gpu"
#   benchmark.json, benchmark.log   the GPU benchmark (GpuSliceBenchmark: a slice of Ultra, gpu-slice.json), when
#                         the bundle has one
#   benchmark-torch.json, benchmark-torch.log   the same slice in PyTorch eager (gpu-slice-torch.py, python3)
#   benchmark-comparison.json   the side-by-side: ours / torch median step time per case, and the issue's bar
#
#   BUNDLE_DIR/gpu-run.sh BUNDLE_DIR RESULTS_DIR        (or scripts/gpu-run.sh from a checkout)
#
# Without a GPU (nvidia-smi absent or failing) the GPU part is skipped with a message and gpu-run.json says
# "status": "skipped"; the exit code is then 0. "status": "incomplete" (exit 0) means the run was clean but the
# bundle had no tests tagged gpu or no benchmark. Exit 1 when tests fail or a step times out, 2 on bad usage.
# The whole run fits in 8 minutes: each step has its own timeout (self-check 45 s, tests 240 s, benchmark 90 s,
# PyTorch twin 90 s).
# NEMOTRON_NVIDIA_SMI overrides the nvidia-smi used for detection (a non-executable path simulates no GPU);
# NEMOTRON_PYTHON the python3 that runs the PyTorch twin (and is asked for site-packages).
# NCCL: when NEMOTRON_SITE_PACKAGES is unset, it is set from python3's site-packages folders, so that the NCCL tests
# find a pip-installed libnccl.so.2 (see the NCCL block below).
set -uo pipefail

readonly SELFCHECK_TIMEOUT_S=45
readonly TESTS_TIMEOUT_S=240
readonly BENCH_TIMEOUT_S=90
readonly TORCH_TIMEOUT_S=90

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUNDLE_DIR RESULTS_DIR" >&2
  exit 2
fi
bundle=$(cd "$1" 2>/dev/null && pwd) || { echo "gpu-run: no bundle folder $1" >&2; exit 2; }
mkdir -p "$2" || { echo "gpu-run: cannot create $2" >&2; exit 2; }
results=$(cd "$2" && pwd)
log=$results/gpu-run.log
: > "$log"
started=$(date +%s)

say() { echo "gpu-run: $*" | tee -a "$log"; }

# JSON string escaping for the few free-text values (messages, GPU names).
json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/ }
  printf '"%s"' "$s"
}

prop() { sed -n "s/^$1=//p" "$bundle/bundle.properties" 2>/dev/null | head -1; }

status=ok
gpu_json=null
selfcheck_json=null
tests_json=null
bench_json=null
message=""

write_summary() {
  local now
  now=$(date +%s)
  {
    printf '{\n'
    printf '  "status": %s,\n' "$(json_str "$status")"
    printf '  "message": %s,\n' "$(json_str "$message")"
    printf '  "gpu": %s,\n' "$gpu_json"
    printf '  "bundle": {"commit": %s, "built": %s, "java": %s},\n' "$(json_str "$(prop commit)")" \
      "$(json_str "$(prop built)")" "$(json_str "$(prop java.version)")"
    printf '  "selfcheck": %s,\n' "$selfcheck_json"
    printf '  "tests": %s,\n' "$tests_json"
    printf '  "benchmark": %s,\n' "$bench_json"
    printf '  "elapsed_s": %d\n' "$((now - started))"
    printf '}\n'
  } > "$results/gpu-run.json"
}

# Totals of the JUnit legacy XML reports: "tests failures errors skipped".
junit_totals() {
  local t=0 f=0 e=0 s=0 line
  for xml in "$1"/TEST-*.xml; do
    [[ -f $xml ]] || continue
    line=$(grep -m1 -o '<testsuite [^>]*>' "$xml")
    t=$((t + $(sed -n 's/.* tests="\([0-9]*\)".*/\1/p' <<< "$line")))
    f=$((f + $(sed -n 's/.* failures="\([0-9]*\)".*/\1/p' <<< "$line")))
    e=$((e + $(sed -n 's/.* errors="\([0-9]*\)".*/\1/p' <<< "$line")))
    s=$((s + $(sed -n 's/.* skipped="\([0-9]*\)".*/\1/p' <<< "$line")))
  done
  echo "$t $f $e $s"
}

java=$bundle/jdk/bin/java
console=$(ls "$bundle"/junit/junit-platform-console-standalone-*.jar 2>/dev/null | head -1)
if [[ ! -x $java || -z $console || ! -f $bundle/bundle.properties ]]; then
  status=error
  message="$bundle is not a complete bundle (need jdk/bin/java, junit/junit-platform-console-standalone-*.jar, bundle.properties); build it with scripts/gpu-bundle.sh"
  say "$message"
  write_summary
  exit 2
fi
read -r -a jvm_flags <<< "$(prop jvm.flags)"
jvm_flags+=("-Dnemotron.reference.dir=$bundle/reference")
classpath=$(find "$bundle/lib" -name '*.jar' | sort | tr '\n' ':')
test_dirs=()
for d in "$bundle"/test-classes/*/; do test_dirs+=("${d%/}"); done
classpath+=$(IFS=:; echo "${test_dirs[*]}")

# 1. The bundled runtime works here (no GPU needed): a CPU test through the same console launcher.
say "self-check: $(prop java.version) runtime, MemoryPlannerTest"
if timeout "$SELFCHECK_TIMEOUT_S" "$java" "${jvm_flags[@]}" -jar "$console" execute --disable-banner \
    --details=summary --class-path "$classpath" --select-class io.nemotron.core.backend.cuda.MemoryPlannerTest \
    > "$results/selfcheck.log" 2>&1; then
  selfcheck_json='{"passed": true}'
else
  rc=$?
  selfcheck_json="{\"passed\": false, \"exit_code\": $rc}"
  status=failed
  say "self-check failed (exit $rc), see selfcheck.log"
fi

# 2. Is there a GPU?
smi=${NEMOTRON_NVIDIA_SMI:-$(command -v nvidia-smi || true)}
if [[ -z $smi || ! -x $smi ]]; then
  reason="nvidia-smi not found${NEMOTRON_NVIDIA_SMI:+ at NEMOTRON_NVIDIA_SMI=$NEMOTRON_NVIDIA_SMI}"
elif ! "$smi" -L > "$results/nvidia-smi.txt" 2>&1; then
  reason="nvidia-smi failed: $(head -1 "$results/nvidia-smi.txt")"
else
  reason=""
fi
if [[ -n $reason ]]; then
  [[ $status == ok ]] && status=skipped
  message="no GPU on this machine ($reason): GPU tests and benchmark skipped"
  gpu_json='{"present": false}'
  say "$message"
  write_summary
  say "summary in $results/gpu-run.json"
  [[ $status == skipped ]] && exit 0 || exit 1
fi
"$smi" --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader >> "$results/nvidia-smi.txt" 2>&1
IFS=, read -r gpu_name gpu_mem gpu_driver gpu_cc < <("$smi" --query-gpu=name,memory.total,driver_version,compute_cap \
  --format=csv,noheader 2>/dev/null | head -1)
gpu_json="{\"present\": true, \"name\": $(json_str "${gpu_name:-?}"), \"memory\": $(json_str "${gpu_mem# }"), \"driver\": $(json_str "${gpu_driver# }"), \"compute_capability\": $(json_str "${gpu_cc# }")}"
say "GPU: ${gpu_name:-?},${gpu_mem:-?}, driver${gpu_driver:-?}"

# NCCL. The GPU machines may carry NCCL only as a pip wheel (PyTorch's nvidia-nccl-cu12:
# <site-packages>/nvidia/nccl/lib/libnccl.so.2), which no loader path covers. NcclLibrary tries the system loader
# (LD_LIBRARY_PATH, ld.so cache), then $NCCL_LIBRARY, then that wheel under each folder of $NEMOTRON_SITE_PACKAGES;
# unless the caller set it, ask Python for its site-packages folders (NEMOTRON_PYTHON overrides python3).
if [[ -z ${NEMOTRON_SITE_PACKAGES:-} ]]; then
  py=${NEMOTRON_PYTHON:-$(command -v python3 || true)}
  if [[ -n $py && -x $py ]]; then
    NEMOTRON_SITE_PACKAGES=$("$py" -c 'import os, site
print(os.pathsep.join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null || true)
  fi
fi
export NEMOTRON_SITE_PACKAGES=${NEMOTRON_SITE_PACKAGES:-}
nccl_wheel=""
IFS=: read -r -a site_dirs <<< "$NEMOTRON_SITE_PACKAGES"
for d in "${site_dirs[@]}"; do
  if [[ -n $d && -f $d/nvidia/nccl/lib/libnccl.so.2 ]]; then nccl_wheel=$d/nvidia/nccl/lib/libnccl.so.2; break; fi
done
if [[ -n $nccl_wheel ]]; then
  say "NCCL: pip wheel $nccl_wheel (used when the system loader and \$NCCL_LIBRARY find none)"
else
  say "NCCL: no pip wheel under NEMOTRON_SITE_PACKAGES='$NEMOTRON_SITE_PACKAGES'; the NCCL tests need the system loader or \$NCCL_LIBRARY to find libnccl.so.2, else they skip"
fi

# 3. The GPU tests: everything tagged "gpu" in the bundled test classes.
say "GPU tests (tag gpu, timeout ${TESTS_TIMEOUT_S}s)"
mkdir -p "$results/junit"
scan=()
for d in "${test_dirs[@]}"; do scan+=(--scan-class-path "$d"); done
timeout "$TESTS_TIMEOUT_S" "$java" "${jvm_flags[@]}" -jar "$console" execute --disable-banner --details=tree \
  --class-path "$classpath" "${scan[@]}" --include-tag gpu --reports-dir "$results/junit" > "$results/junit.log" 2>&1
rc=$?
read -r t f e s <<< "$(junit_totals "$results/junit")"
tests_json="{\"exit_code\": $rc, \"tests\": $t, \"failures\": $f, \"errors\": $e, \"skipped\": $s, \"timed_out\": $([[ $rc -eq 124 ]] && echo true || echo false)}"
say "GPU tests: $t run, $f failed, $e errors, $s skipped (exit $rc)"
if [[ $rc -ne 0 ]]; then status=failed; fi
if [[ $t -eq 0 ]]; then say "NOTE: this bundle has no tests tagged gpu"; fi
# On a machine with a GPU, GPU tests that all skip (JCuda or libcuda not loadable, ...) verified nothing.
if [[ $t -gt 0 && $s -eq $t ]]; then
  status=failed
  say "every GPU test was skipped although nvidia-smi sees a GPU: see junit.log for the reason"
fi

# The "status" of a JSON file written by the benchmark or its PyTorch twin ("ok", "skipped"), empty when absent
# (the first "status" key: both write it at the top, before any nested object).
json_status() {
  grep -o '"status" *: *"[a-z]*"' "$1" 2>/dev/null | head -1 | sed 's/.*"\([a-z]*\)"$/\1/'
}

# 4. The GPU benchmark, when this build has one: the slice of Ultra on our CUDA backend, then the same slice (the one
# spec, gpu-slice.json) in PyTorch eager, which also writes the side-by-side.
bench_main=$(prop benchmark.main)
torch_missing=""
if [[ -z $bench_main ]]; then
  bench_json='{"ran": false, "reason": "this build has no GPU benchmark entry point (io.nemotron.core.bench.GpuSliceBenchmark)"}'
  say "benchmark: not in this build"
else
  spec=$bundle/gpu-slice.json
  say "benchmark: $bench_main (timeout ${BENCH_TIMEOUT_S}s)"
  timeout "$BENCH_TIMEOUT_S" "$java" "${jvm_flags[@]}" -cp "$classpath" "$bench_main" --spec "$spec" \
    --ultra-config "$bundle/reference/nemotron/Llama-3_1-Nemotron-Ultra-253B-v1.config.json" \
    --output "$results/benchmark.json" > "$results/benchmark.log" 2>&1
  rc=$?
  ours=$(json_status "$results/benchmark.json")
  # it skips only without a usable GPU, and nvidia-smi sees one here: a skip is a failure
  if [[ $rc -ne 0 || $ours != ok ]]; then
    status=failed
    say "benchmark failed (exit $rc, status '${ours}'), see benchmark.log"
  fi
  py=${NEMOTRON_PYTHON:-$(command -v python3 || true)}
  if [[ -n $py && -x $py ]]; then
    say "PyTorch eager twin: $py gpu-slice-torch.py (timeout ${TORCH_TIMEOUT_S}s)"
    timeout "$TORCH_TIMEOUT_S" "$py" "$bundle/gpu-slice-torch.py" --spec "$spec" --output "$results/benchmark-torch.json" \
      --compare "$results/benchmark.json" --comparison "$results/benchmark-comparison.json" \
      > "$results/benchmark-torch.log" 2>&1
    trc=$?
  else
    trc=127
    echo "no python3 to run gpu-slice-torch.py" > "$results/benchmark-torch.log"
  fi
  theirs=$(json_status "$results/benchmark-torch.json")
  if [[ $trc -ne 0 ]]; then
    status=failed
    say "PyTorch twin failed (exit $trc), see benchmark-torch.log"
  elif [[ $theirs != ok ]]; then
    torch_missing="no PyTorch baseline ($(head -1 "$results/benchmark-torch.log"))"
    say "PyTorch twin: $theirs, see benchmark-torch.log"
  fi
  bench_json="{\"ran\": true, \"exit_code\": $rc, \"status\": $(json_str "$ours"), \"timed_out\": $([[ $rc -eq 124 ]] && echo true || echo false), \"json\": \"benchmark.json\", \"torch\": {\"exit_code\": $trc, \"status\": $(json_str "$theirs"), \"timed_out\": $([[ $trc -eq 124 ]] && echo true || echo false), \"json\": \"benchmark-torch.json\"}, \"comparison\": \"benchmark-comparison.json\"}"
fi

# A clean run that had nothing to measure is not a pass: say what was missing.
missing=()
[[ $t -eq 0 ]] && missing+=("no tests tagged gpu")
[[ -z $bench_main ]] && missing+=("no GPU benchmark")
[[ -n $torch_missing ]] && missing+=("$torch_missing")
if [[ $status == ok && ${#missing[@]} -gt 0 ]]; then
  status=incomplete
  message="GPU run finished, but this bundle has $(IFS=';'; echo "${missing[*]}" | sed 's/;/ and /g')"
else
  message="GPU run finished: $status"
fi
write_summary
say "summary in $results/gpu-run.json"
[[ $status == ok || $status == incomplete ]]
