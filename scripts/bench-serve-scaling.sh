#!/usr/bin/env bash
# One run of the serving-scaling check: starts `./nemotron serve` (demo model by default) on a free port, warms it
# up, measures `bench serve` at concurrency 1 and 16, then with and without a shared 256-token prompt prefix,
# prints every JSON line and the c16/c1 throughput ratio, and stops the server.
#   scripts/bench-serve-scaling.sh [--model DIR|demo] [--gen-len 128]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL=demo
GEN=128
while [[ $# -gt 0 ]]; do
  case "$1" in
    --model) MODEL="$2"; shift 2 ;;
    --gen-len) GEN="$2"; shift 2 ;;
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
bench --concurrency 8 --requests 16 --prompt-len 16 --gen-len 64 --seed 91 >/dev/null
bench --concurrency 8 --requests 16 --prompt-len 16 --gen-len 64 --seed 92 >/dev/null
C1=$(bench --concurrency 1 --requests 8 --prompt-len 16 --gen-len "$GEN" --seed 31)
C16=$(bench --concurrency 16 --requests 64 --prompt-len 16 --gen-len "$GEN" --seed 41)
NOSHARE=$(bench --concurrency 1 --requests 8 --prompt-len 320 --gen-len 16 --seed 51)
SHARE=$(bench --concurrency 1 --requests 8 --prompt-len 320 --gen-len 16 --shared-prefix-len 256 --seed 52)
echo "c1        $C1"
echo "c16       $C16"
echo "no-share  $NOSHARE"
echo "share-256 $SHARE"
python3 - "$C1" "$C16" "$NOSHARE" "$SHARE" <<'PY'
import json, sys
c1, c16, no, sh = (json.loads(a) for a in sys.argv[1:])
print(f"throughput c16/c1 = {c16['output_tokens_per_s'] / c1['output_tokens_per_s']:.2f}x")
print(f"TTFT p50 without / with a shared 256-token prefix = {no['ttft_ms']['p50']:.1f} / {sh['ttft_ms']['p50']:.1f} ms, "
      f"cached prompt tokens {no['cached_prompt_tokens']} / {sh['cached_prompt_tokens']}")
PY
