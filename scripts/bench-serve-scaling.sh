#!/usr/bin/env bash
# One run of the serving-scaling check: starts `./nemotron serve` (demo model by default) on a free port, warms it
# up, measures `bench serve` at concurrency 1 and 16 in --rounds interleaved rounds (c1, c16, c1, c16, ...: the
# 2-core VM's noise drifts over seconds, so one pair can land on different sides of a slow spell; the medians of
# the interleaved runs are compared), then with and without a shared 256-token prompt prefix, prints every JSON
# line and the ratio of the median throughputs, and stops the server.
#   scripts/bench-serve-scaling.sh [--model DIR|demo] [--gen-len 128] [--rounds 3]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL=demo
GEN=128
ROUNDS=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) MODEL="$2"; shift 2 ;;
    --gen-len) GEN="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LOG=$(mktemp)
"$ROOT/nemotron" build
"$ROOT/nemotron" serve --model "$MODEL" --port "$PORT" --management-port "$MPORT" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  grep -q "ready in" "$LOG" && break
  kill -0 $SERVER 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 1
done
bench() { "$ROOT/nemotron" bench serve --target "127.0.0.1:$PORT" --output json "$@" 2>/dev/null; }
# warm-up: JIT-compiles the server's kernels and streaming path before anything is measured
# (both shapes: batched steps and single-sequence steps run different kernels, each needs its C2 compile)
bench --concurrency 8 --requests 16 --prompt-len 16 --gen-len 64 --seed 91 >/dev/null
bench --concurrency 1 --requests 8 --prompt-len 16 --gen-len 128 --seed 93 >/dev/null
bench --concurrency 8 --requests 16 --prompt-len 16 --gen-len 64 --seed 92 >/dev/null
bench --concurrency 1 --requests 8 --prompt-len 16 --gen-len 128 --seed 94 >/dev/null
C1=()
C16=()
for r in $(seq 1 "$ROUNDS"); do
  C1+=("$(bench --concurrency 1 --requests 8 --prompt-len 16 --gen-len "$GEN" --seed $((30 + r)))")
  C16+=("$(bench --concurrency 16 --requests 64 --prompt-len 16 --gen-len "$GEN" --seed $((40 + r)))")
done
NOSHARE=$(bench --concurrency 1 --requests 8 --prompt-len 320 --gen-len 16 --seed 51)
SHARE=$(bench --concurrency 1 --requests 8 --prompt-len 320 --gen-len 16 --shared-prefix-len 256 --seed 52)
for r in $(seq 0 $((ROUNDS - 1))); do
  echo "c1        ${C1[$r]}"
  echo "c16       ${C16[$r]}"
done
echo "no-share  $NOSHARE"
echo "share-256 $SHARE"
python3 - "$NOSHARE" "$SHARE" "${C1[@]}" "${C16[@]}" <<'PY'
import json, statistics, sys
no, sh = json.loads(sys.argv[1]), json.loads(sys.argv[2])
runs = [json.loads(a)['output_tokens_per_s'] for a in sys.argv[3:]]
c1, c16 = runs[:len(runs) // 2], runs[len(runs) // 2:]
m1, m16 = statistics.median(c1), statistics.median(c16)
print("output tok/s c1: " + " ".join(f"{v:.0f}" for v in c1) + f" (median {m1:.0f}); c16: "
      + " ".join(f"{v:.0f}" for v in c16) + f" (median {m16:.0f})")
print(f"throughput c16/c1 = {m16 / m1:.2f}x (medians)")
print(f"TTFT p50 without / with a shared 256-token prefix = {no['ttft_ms']['p50']:.1f} / {sh['ttft_ms']['p50']:.1f} ms, "
      f"cached prompt tokens {no['cached_prompt_tokens']} / {sh['cached_prompt_tokens']}")
PY
