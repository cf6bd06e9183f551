#!/usr/bin/env bash
# The step thread's own time per decode step (bench step --engine) of two builds, side by side: runs alternate
# between the jars so machine load drifts hit both alike; each run prints its median line, and the summary gives the
# median over runs of each jar.
#   scripts/step-thread-before-after.sh BEFORE.jar AFTER.jar [RUNS] [extra bench step options...]
# Example (README, Performance): the build of ad620f7 plus the benchmark, against this branch's build.
set -euo pipefail
before=$1; after=$2; runs=${3:-3}; shift $(( $# < 3 ? $# : 3 ))
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -XX:+UseG1GC)
bench=(bench step --model demo --engine --batch 16 --context 16 --gen-len 128 --rounds 1 --threads 2 "$@")
out=$(mktemp -d)
for ((i = 1; i <= runs; i++)); do
  for side in before after; do
    jar=$before; [[ $side == after ]] && jar=$after
    line=$("$java" "${flags[@]}" -jar "$jar" "${bench[@]}" 2>/dev/null | grep '^concurrency')
    echo "$side run $i: $line"
    echo "$line" | sed -E "s/.*step thread's own ([0-9.]+) ms.*/\1/" >> "$out/$side"
    echo "$line" | sed -E "s/.*forward ([0-9.]+) ms.*/\1/" >> "$out/$side.forward"
    echo "$line" | sed -E "s/.*own CPU ([0-9.]+) ms.*/\1/" >> "$out/$side.cpu"
  done
done
median() { sort -g "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
b=$(median "$out/before"); a=$(median "$out/after")
bc=$(median "$out/before.cpu"); ac=$(median "$out/after.cpu")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "medians per decode step: step thread's own wall time before $b ms, after $a ms (after/before $(ratio "$a" "$b"));" \
  "its own CPU time before $bc ms, after $ac ms (after/before $(ratio "$ac" "$bc"));" \
  "forward before $(median "$out/before.forward") ms, after $(median "$out/after.forward") ms"
