#!/usr/bin/env python3
"""The GPU benchmark's slice of Ultra in PyTorch eager: the baseline GpuSliceBenchmark (Java, CUDA backend) is
compared with. Both read the same slice spec (scripts/gpu-slice.json), so the shapes cannot drift.

    gpu-slice-torch.py --spec gpu-slice.json --output torch.json [--compare ours.json --comparison comparison.json]

Same slice, same cases, same timing and counting as the Java side: BF16 weights made on the device (uniform, norms
1), torch.nn.functional ops as Hugging Face's Llama modules use them (RMSNorm in FP32 then BF16, llama3 RoPE with
rotate_half, SiLU-gated MLP), attention through F.scaled_dot_product_attention with the GQA group of a kv head laid
side by side as query rows (no repeated K/V), a contiguous KV cache per FULL layer. Decode at each batch size with
`context` tokens already in the cache (each sequence prefilled first in chunks); prefill of one sequence in chunks.
No lm_head. Each case: warm-up, then `repeats` timings of torch.cuda.synchronize, perf_counter, step(s),
torch.cuda.synchronize, perf_counter.

Bytes and FLOPs are counted exactly as GpuSlice.java counts them (see count()).

Without torch, or where torch.cuda.is_available() is false, it writes {"status": "skipped", "reason": ...} and exits
0. --compare writes the side-by-side (ours / torch median step time per case, < 1 = ours faster) whatever the two
statuses are; a side that did not run makes it "skipped" with the reason.
"""
import argparse
import json
import math
import statistics
import sys
import time

IMPLEMENTATION = "pytorch-eager"


# --- counting: the same conventions as GpuSlice.java ------------------------------------------------------------

def linear_params(spec):
    h = spec["hidden_size"]
    q = spec["num_attention_heads"] * spec["head_dim"]
    n = 0
    for b in spec["blocks"]:
        if b["attention"] == "full":
            n += 2 * h * q + 2 * h * b["kv_heads"] * spec["head_dim"]
        elif b["attention"] == "linear":
            n += h * h
        if b["ffn"] == "mlp":
            n += 3 * h * b["intermediate_size"]
        elif b["ffn"] == "linear":
            n += h * h
    return n


def block_weight_bytes(spec):
    norms = sum((b["attention"] != "no_op") + (b["ffn"] != "no_op") for b in spec["blocks"])
    return 2 * (linear_params(spec) + norms * spec["hidden_size"])


def kv_bytes_per_token(spec):
    return sum(2 * b["kv_heads"] * spec["head_dim"] * 2 for b in spec["blocks"] if b["attention"] == "full")


def attention_flops(spec, start, end):
    full = sum(1 for b in spec["blocks"] if b["attention"] == "full")
    seen = (end * (end + 1) - start * (start + 1)) // 2
    return 4 * spec["num_attention_heads"] * spec["head_dim"] * seen * full


def decode_counts(spec, batch, context):
    bytes_ = block_weight_bytes(spec) + batch * (context + 1) * kv_bytes_per_token(spec)
    flops = batch * (2 * linear_params(spec) + attention_flops(spec, context, context + 1))
    return bytes_, flops


def prefill_counts(spec, tokens, chunk):
    bytes_ = sum(block_weight_bytes(spec) + min(tokens, s + chunk) * kv_bytes_per_token(spec)
                 for s in range(0, tokens, chunk))
    return bytes_, 2 * linear_params(spec) * tokens + attention_flops(spec, 0, tokens)


def result(name, kind, batch, context, tokens, ms, bytes_, flops, peak):
    median = statistics.median(ms)
    seconds = median / 1e3
    return {
        "name": name, "kind": kind, "batch": batch, "context": context, "tokens": tokens, "repeats": len(ms),
        "median_ms": median, "mean_ms": statistics.fmean(ms), "min_ms": min(ms), "bytes": bytes_, "flops": flops,
        "bandwidth_bytes_per_s": bytes_ / seconds,
        "bandwidth_fraction_of_peak": bytes_ / seconds / peak if peak else None,
        "tflops": flops / seconds / 1e12, "tokens_per_s": tokens / seconds,
    }


def header(spec):
    return {
        "implementation": IMPLEMENTATION, "status": "",
        "slice": {"layers": spec["layers"], "linear_params": linear_params(spec),
                  "block_weight_bytes": block_weight_bytes(spec), "kv_bytes_per_token": kv_bytes_per_token(spec),
                  "lm_head": "not run: the slice measures its blocks"},
    }


# --- the model --------------------------------------------------------------------------------------------------

def llama3_inv_freq(torch, spec):
    """transformers' _compute_llama3_parameters (rope_type llama3), or plain RoPE without rope_scaling."""
    hd = spec["head_dim"]
    inv = 1.0 / (spec["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    rs = spec.get("rope_scaling")
    if not rs:
        return inv
    factor, lff, hff = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old / lff, old / hff
    wavelen = 2 * math.pi / inv
    inv_l = torch.where(wavelen > low_wavelen, inv / factor, inv)
    smooth = (old / wavelen - lff) / (hff - lff)
    smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
    medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
    return torch.where(medium, smoothed, inv_l)


class Slice:
    def __init__(self, torch, spec, device, max_batch, decode_len, prefill_len):
        self.torch = torch
        self.F = torch.nn.functional
        self.spec = spec
        self.device = device
        self.dt = torch.bfloat16
        self.h = spec["hidden_size"]
        self.nh = spec["num_attention_heads"]
        self.hd = spec["head_dim"]
        self.eps = spec["rms_norm_eps"]
        self.gen = torch.Generator(device=device)
        self.gen.manual_seed(spec["seed"])
        self.embed = self.linear(spec["vocab_size"], self.h)
        self.blocks = []
        for b in spec["blocks"]:
            w = {"spec": b}
            if b["attention"] == "full":
                kv = b["kv_heads"] * self.hd
                w.update(input_norm=self.norm(), q=self.linear(self.nh * self.hd, self.h), k=self.linear(kv, self.h),
                         v=self.linear(kv, self.h), o=self.linear(self.h, self.nh * self.hd))
                w["decode_cache"] = [torch.zeros(max_batch, b["kv_heads"], decode_len, self.hd, dtype=self.dt,
                                                 device=device) for _ in range(2)]
                w["prefill_cache"] = [torch.zeros(1, b["kv_heads"], prefill_len, self.hd, dtype=self.dt, device=device)
                                      for _ in range(2)]
            elif b["attention"] != "no_op":
                raise ValueError("the torch slice runs FULL and no_op attention, not " + b["attention"])
            if b["ffn"] == "mlp":
                i = b["intermediate_size"]
                w.update(post_norm=self.norm(), gate=self.linear(i, self.h), up=self.linear(i, self.h),
                         down=self.linear(self.h, i))
            elif b["ffn"] != "no_op":
                raise ValueError("the torch slice runs MLP and no_op FFNs, not " + b["ffn"])
            self.blocks.append(w)
        self.inv_freq = llama3_inv_freq(torch, spec).to(device)

    def linear(self, rows, cols):
        w = self.torch.empty(rows, cols, dtype=self.dt, device=self.device)
        bound = 1 / math.sqrt(cols)
        return w.uniform_(-bound, bound, generator=self.gen)

    def norm(self):
        return self.torch.ones(self.h, dtype=self.dt, device=self.device)

    def rmsnorm(self, x, w):
        h = x.float()
        h = h * self.torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return w * h.to(self.dt)

    def rope(self, x, cos, sin):
        half = x.shape[-1] // 2
        rotated = self.torch.cat((-x[..., half:], x[..., :half]), dim=-1)
        return x * cos + rotated * sin

    def attend(self, q, k, v, mask):
        """q [B, kvh, rows, hd] (a kv head's group of query heads side by side), k/v [B, kvh, S, hd]."""
        sdpa = getattr(self.F, "scaled_dot_product_attention", None)
        if sdpa is not None:
            return sdpa(q, k, v, attn_mask=mask)
        s = self.torch.einsum("bhrd,bhsd->bhrs", q.float(), k.float()) / math.sqrt(self.hd)
        if mask is not None:
            s = s.masked_fill(~mask, float("-inf"))
        return self.torch.einsum("bhrs,bhsd->bhrd", s.softmax(-1), v.float()).to(self.dt)

    def forward(self, tokens, start, cache, seqs):
        """tokens [B, T]: T new tokens of each of B sequences at positions [start, start + T), K/V into the
        'decode_cache' (sequences [0, B)) or the 'prefill_cache'."""
        torch, F = self.torch, self.F
        b_, t_ = tokens.shape
        x = self.embed[tokens]
        pos = torch.arange(start, start + t_, device=self.device)
        freqs = pos[:, None].float() * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(self.dt), emb.sin().to(self.dt)
        end = start + t_
        mask = None
        for w in self.blocks:
            b = w["spec"]
            if b["attention"] == "full":
                kvh = b["kv_heads"]
                group = self.nh // kvh
                h = self.rmsnorm(x, w["input_norm"])
                q = self.rope(F.linear(h, w["q"]).view(b_, t_, self.nh, self.hd).transpose(1, 2), cos, sin)
                k = self.rope(F.linear(h, w["k"]).view(b_, t_, kvh, self.hd).transpose(1, 2), cos, sin)
                v = F.linear(h, w["v"]).view(b_, t_, kvh, self.hd).transpose(1, 2)
                kc, vc = w[cache]
                kc[:seqs, :, start:end] = k
                vc[:seqs, :, start:end] = v
                if t_ > 1 and mask is None:   # causal over [0, end): row of position p sees positions <= p
                    seen = torch.arange(end, device=self.device)[None, :] <= pos[:, None]
                    mask = seen.repeat(group, 1)
                qg = q.reshape(b_, kvh, group * t_, self.hd)
                o = self.attend(qg, kc[:seqs, :, :end], vc[:seqs, :, :end], mask)
                o = o.reshape(b_, self.nh, t_, self.hd).transpose(1, 2).reshape(b_, t_, self.nh * self.hd)
                x = x + F.linear(o, w["o"])
            if b["ffn"] == "mlp":
                h = self.rmsnorm(x, w["post_norm"])
                x = x + F.linear(F.silu(F.linear(h, w["gate"])) * F.linear(h, w["up"]), w["down"])
        return x


# --- the run ----------------------------------------------------------------------------------------------------

def peak_bandwidth(torch):
    """HBM peak from the device properties where this torch exposes them (kHz x 2 x bits / 8), else None."""
    p = torch.cuda.get_device_properties(0)
    clock = getattr(p, "memory_clock_rate", None)
    bus = getattr(p, "memory_bus_width", None)
    if clock and bus:
        return clock * 1000.0 * 2 * bus / 8, clock, bus
    return None, clock, bus


def run(torch, spec, device, out):
    ctx = spec["decode"]["context"]
    batches = spec["decode"]["batches"]
    tokens_p = spec["prefill"]["tokens"]
    chunk = spec["prefill"]["chunk"]
    max_batch = max(batches)
    if device == "cuda":
        peak, clock, bus = peak_bandwidth(torch)
        props = torch.cuda.get_device_properties(0)
        out["device"] = {"name": props.name, "compute_capability": props.major * 10 + props.minor,
                         "memory_clock_khz": clock, "memory_bus_width_bits": bus,
                         "peak_bandwidth_bytes_per_s": peak, "torch": torch.__version__}
        sync = torch.cuda.synchronize
    else:
        peak = None
        out["device"] = {"name": "cpu", "torch": torch.__version__}
        sync = lambda: None  # noqa: E731
    model = Slice(torch, spec, device, max_batch, ctx + 1, tokens_p)
    sync()
    gen = torch.Generator().manual_seed(spec["seed"])
    ids = torch.randint(0, spec["vocab_size"], (max_batch, ctx + 1), generator=gen).to(device)
    prompt = torch.randint(0, spec["vocab_size"], (1, tokens_p), generator=gen).to(device)

    def prefill(seq_tokens, n, cache, into_seq):
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            if cache == "decode_cache":   # one sequence's chunk into its row of the batch cache (a view)
                for w in model.blocks:
                    if "decode_cache" in w:
                        w["row_view"] = [c[into_seq:into_seq + 1] for c in w["decode_cache"]]
                model.forward(seq_tokens[:, s:e], s, "row_view", 1)
            else:
                model.forward(seq_tokens[:, s:e], s, cache, 1)

    def timed(step):
        for _ in range(spec["warmup"]):
            step()
        ms = []
        for _ in range(spec["repeats"]):
            sync()
            t0 = time.perf_counter()
            step()
            sync()
            ms.append((time.perf_counter() - t0) * 1e3)
        return ms

    cases = []
    with torch.inference_mode():
        t0 = time.perf_counter()
        for s in range(max_batch):
            prefill(ids[s:s + 1], ctx, "decode_cache", s)
        sync()
        print(f"gpu-slice-torch: KV of {max_batch} x {ctx} tokens filled by prefill in {time.perf_counter() - t0:.1f} s")
        for b in batches:
            step_ids = ids[:b, ctx:ctx + 1]
            ms = timed(lambda: model.forward(step_ids, ctx, "decode_cache", b))
            cases.append(result(f"decode_b{b}", "decode", b, ctx, b, ms, *decode_counts(spec, b, ctx), peak))
        ms = timed(lambda: prefill(prompt, tokens_p, "prefill_cache", 0))
        cases.append(result(f"prefill_{tokens_p}", "prefill", 1, 0, tokens_p, ms,
                            *prefill_counts(spec, tokens_p, chunk), peak))
    for c in cases:
        frac = c["bandwidth_fraction_of_peak"]
        print(f"gpu-slice-torch: {c['name']:<12} median {c['median_ms']:9.3f} ms  "
              f"{c['bandwidth_bytes_per_s'] / 1e9:7.1f} GB/s ({'?' if frac is None else f'{100 * frac:5.1f}'} % of peak)"
              f"  {c['tflops']:7.1f} TFLOP/s")
    out["cases"] = cases


def compare(ours_path, torch_json, path):
    """ours / torch per case; the issue's bar: batch-1 decode at >= 70 % of peak HBM bandwidth and faster than torch."""
    try:
        with open(ours_path) as f:
            ours = json.load(f)
    except (OSError, ValueError) as e:
        ours = {"status": "missing", "reason": f"{ours_path}: {e}"}
    cmp = {"ratio": "ours / torch median step time (< 1: ours faster)", "cases": []}
    not_run = [f"{side['implementation'] if 'implementation' in side else name}: {side.get('status')}"
               f" ({side.get('reason', '')})" for name, side in (("ours", ours), ("torch", torch_json))
               if side.get("status") != "ok"]
    if not_run:
        cmp["status"] = "skipped"
        cmp["reason"] = "; ".join(not_run)
    else:
        cmp["status"] = "ok"
        theirs = {c["name"]: c for c in torch_json["cases"]}
        for c in ours["cases"]:
            t = theirs.get(c["name"])
            if t is None:
                continue
            cmp["cases"].append({"name": c["name"], "ours_median_ms": c["median_ms"], "torch_median_ms": t["median_ms"],
                                 "ratio": c["median_ms"] / t["median_ms"],
                                 "ours_bandwidth_fraction_of_peak": c["bandwidth_fraction_of_peak"],
                                 "ours_tflops": c["tflops"], "torch_tflops": t["tflops"]})
        b1 = next((c for c in cmp["cases"] if c["name"] == "decode_b1"), None)
        if b1:
            cmp["bar"] = {"decode_b1_fraction_of_peak": b1["ours_bandwidth_fraction_of_peak"],
                          "decode_b1_ratio": b1["ratio"],
                          "met": None if b1["ours_bandwidth_fraction_of_peak"] is None
                          else b1["ours_bandwidth_fraction_of_peak"] >= 0.70 and b1["ratio"] < 1.0}
    with open(path, "w") as f:
        json.dump(cmp, f, indent=2)
        f.write("\n")
    print(f"gpu-slice-torch: comparison {cmp['status']}, written to {path}")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--compare", help="the Java benchmark's JSON, for the side-by-side")
    ap.add_argument("--comparison", help="where the side-by-side goes (with --compare)")
    ap.add_argument("--device", default="cuda", help="cuda (the benchmark) or cpu (a smoke run of a shrunk spec)")
    args = ap.parse_args(argv)
    with open(args.spec) as f:
        spec = json.load(f)
    out = header(spec)
    try:
        import torch
    except ImportError as e:
        torch = None
        out.update(status="skipped", reason=f"torch not importable by {sys.executable}: {e}")
    if torch is not None:
        if args.device == "cuda" and not torch.cuda.is_available():
            out.update(status="skipped", reason=f"no CUDA: torch {torch.__version__} says torch.cuda.is_available() "
                                                "is false")
        else:
            run(torch, spec, args.device, out)
            out["status"] = "ok"
    with open(args.output, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print(f"gpu-slice-torch: {out['status']}{': ' + out['reason'] if 'reason' in out else ''}, written to {args.output}")
    if args.compare:
        compare(args.compare, out, args.comparison or "comparison.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
