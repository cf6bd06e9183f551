#!/usr/bin/env bash
# One run of the serving-scaling check: starts `./nemotron serve` (demo model by default) on a free port, measures
# `bench serve` at concurrency 1 and 16 from one warm client in --rounds interleaved rounds, then with and without a
# shared 256-token prompt prefix, prints every JSON line and the ratio of the median throughputs, and stops the
# server.
#   scripts/bench-serve-scaling.sh [--model DIR|demo] [--gen-len 128] [--rounds 5]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL=demo
GEN=128
ROUNDS=5
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
# One client process measures both concurrencies: `bench serve --concurrency 1,16 --rounds N` runs each load once
# unmeasured (the client's and the server's JIT compilation of both the single-sequence and the batched paths),
# then N interleaved measured rounds (c1, c16, c1, c16, ...: this VM's noise drifts over seconds), and reports the
# median throughput of each and their ratio. A fresh client JVM per measurement would spend its first seconds
# compiling on the same two cores the server is measured on.
SCALING=$(bench --concurrency 1,16 --rounds "$ROUNDS" --requests 48 --prompt-len 16 --gen-len "$GEN" --seed 31)
NOSHARE=$(bench --concurrency 1 --requests 8 --prompt-len 320 --gen-len 16 --seed 51)
SHARE=$(bench --concurrency 1 --requests 8 --prompt-len 320 --gen-len 16 --shared-prefix-len 256 --seed 52)
echo "$SCALING"
echo "no-share  $NOSHARE"
echo "share-256 $SHARE"
python3 - "$NOSHARE" "$SHARE" "$SCALING" <<'PY'
import json, sys
no, sh = json.loads(sys.argv[1]), json.loads(sys.argv[2])
lines = [json.loads(l) for l in sys.argv[3].splitlines() if l.strip()]
runs = [l for l in lines if 'summary' not in l]
summary = next(l['summary'] for l in lines if 'summary' in l)
c1 = [r['output_tokens_per_s'] for r in runs if r['concurrency'] == 1]
c16 = [r['output_tokens_per_s'] for r in runs if r['concurrency'] == 16]
m = summary['median_output_tokens_per_s']
print("output tok/s c1: " + " ".join(f"{v:.0f}" for v in c1) + f" (median {m['1']:.0f}); c16: "
      + " ".join(f"{v:.0f}" for v in c16) + f" (median {m['16']:.0f})")
print(f"throughput c16/c1 = {summary['throughput_ratio']:.2f}x (medians)")
print(f"TTFT p50 without / with a shared 256-token prefix = {no['ttft_ms']['p50']:.1f} / {sh['ttft_ms']['p50']:.1f} ms, "
      f"cached prompt tokens {no['cached_prompt_tokens']} / {sh['cached_prompt_tokens']}")
PY
