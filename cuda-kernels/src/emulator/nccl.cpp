// Emulated NCCL (libnccl.so.2): communicators whose ranks are threads of this one process, meeting by ncclUniqueId,
// and the two collectives the project uses (all-reduce, all-gather), computed on the host over the emulated driver's
// device memory. The C API, enum values and argument checks follow NCCL's src/nccl.h.in (2.28) and its documentation
// ("Collective Operations", "Group Calls", "Fault Tolerance"); what an emulator must add is that nothing hangs: a
// mismatch, a failed argument check on one rank, a fault, an abort, a destroyed peer or a missing peer all end every
// rank's wait with an error (a missing peer after NEMOTRON_CUDA_EMULATOR_NCCL_TIMEOUT_S seconds, default 60).
//
// Model. All ranks built from one unique id (or one ncclCommInitAll) share a Clique. Each rank's n-th collective
// arrives at the clique's n-th Slot; the first arrival fixes the call (kind, count, datatype, op) and every later one
// must match it, else the slot fails with ncclInvalidUsage on every rank, naming both calls. The arrival that
// completes a slot computes the result for all ranks at once and wakes the others.
//
// Failures, per rank (the detail is in ncclGetLastError, nemotronEmuLastError and appended to ncclGetErrorString):
//   - a mismatch: ncclInvalidUsage on every rank of that collective; the communicator stays usable.
//   - a call that fails its own checks (bad buffer, datatype, op): that rank gets ncclInvalidArgument at once, and the
//     collective it would have joined fails on its peers with ncclRemoteError (NCCL would leave them hanging).
//   - an injected fault (nemotronEmuTakeFault("nccl", rank)): that rank gets ncclSystemError and the communicator is
//     aborted: waiting and later calls of every rank get ncclRemoteError, ncclCommGetAsyncError reports it.
//   - ncclCommAbort on any rank: the same for every rank, and that rank's handle is freed (using it again is
//     ncclInvalidArgument).
//   - a peer destroyed (ncclCommDestroy) before joining a collective: ncclRemoteError for the ranks waiting on it.
//   - a peer that never arrives: ncclSystemError naming it after the timeout; the ranks no longer agree on the
//     collective count, so the communicator is broken (later calls: ncclSystemError at once; async error the same).
//   - ncclCommInitRank: nranks differing from the first joiner's, a rank joined twice, or two ranks on one device
//     (NCCL's "Duplicate GPU detected") fail every joiner of that id at once with ncclInvalidUsage; a missing rank
//     fails them with ncclSystemError after the timeout; a later joiner of a failed id gets ncclRemoteError at once.
// A count of 0 is a no-op success that takes part in nothing (NCCL returns at once too).
//
// Numerics of all-reduce (deterministic, independent of thread timing): element i is
//   acc = x_0[i]; acc = op(acc, x_r[i]) for r = 1 .. nranks-1 (rank order), avg = sum / nranks at the end.
// float32 accumulates in float, float64 in double; float16 and bfloat16 accumulate in float and are rounded once at
// the end, round-to-nearest-even (cuda_fp16.h / cuda_bf16.h); integers wrap (two's complement) for sum and prod, and
// avg divides the wrapped sum, truncating. max/min propagate NaN (NaN if either operand is NaN). One rank: the result is
// a copy of the input (bit-exact, as NCCL). A GPU's NCCL sums in a ring/tree order, so its float results can differ in
// the last bits; this order is the emulator's contract, not NCCL's.
//
// Streams: a collective runs in its stream's order through nemotronEmuEnqueue. Outside a group, the enqueued work
// arrives and waits (the driver runs it on the calling thread when it is enqueued). When the stream is being captured,
// that work is recorded instead and runs at every cuGraphLaunch, arriving as the rank's next collective then: capture
// works when each rank captures and launches its own graph from its own thread. Collectives inside
// ncclGroupStart/End on a capturing stream are NOT supported (ncclInvalidUsage; the graph node fails when launched),
// because the group's wait cannot be recorded.
//
// Groups (ncclGroupStart/End on one thread): calls inside a group are checked at once and only recorded; ncclGroupEnd
// issues them in call order (communicator initialisations first, waited for together, then every collective arrives
// without waiting, then all are waited for), which is what lets one thread drive every rank. When a call inside the
// group failed, ncclGroupEnd issues nothing (as NCCL cancels the group), releases the peers with an error, and returns
// the first error.
#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "emu_api.h"

#define EMU_EXPORT extern "C" __attribute__((visibility("default")))

// typedef struct { char internal[NCCL_UNIQUE_ID_BYTES]; } ncclUniqueId;  (NCCL_UNIQUE_ID_BYTES = 128)
extern "C" typedef struct {
  char internal[128];
} ncclUniqueId;

namespace {

// ncclResult_t
constexpr int ncclSuccess = 0;
constexpr int ncclUnhandledCudaError = 1;
constexpr int ncclSystemError = 2;
constexpr int ncclInternalError = 3;
constexpr int ncclInvalidArgument = 4;
constexpr int ncclInvalidUsage = 5;
constexpr int ncclRemoteError = 6;
constexpr int ncclInProgress = 7;
constexpr int ncclTimeout = 8;

// ncclDataType_t
enum DataType {
  ncclInt8 = 0, ncclUint8 = 1, ncclInt32 = 2, ncclUint32 = 3, ncclInt64 = 4, ncclUint64 = 5,
  ncclFloat16 = 6, ncclFloat32 = 7, ncclFloat64 = 8, ncclBfloat16 = 9, ncclFloat8e4m3 = 10, ncclFloat8e5m2 = 11,
  ncclNumTypes = 12
};
// ncclRedOp_t (built-in ops; user-defined ones from ncclRedOpCreatePreMulSum start at ncclNumOps and are not emulated)
enum RedOp { ncclSum = 0, ncclProd = 1, ncclMax = 2, ncclMin = 3, ncclAvg = 4, ncclNumOps = 5 };

// NCCL_VERSION_CODE of 2.28.5: major * 10000 + minor * 100 + patch (the encoding since 2.9).
constexpr int EMULATED_NCCL_VERSION = 22805;

// CUresult values returned by enqueued work that runs from a graph launch (cuda.h).
constexpr int CU_ERROR_NOT_SUPPORTED = 801;
constexpr int CU_ERROR_UNKNOWN = 999;

constexpr char ID_MAGIC[16] = "nemotron-nccl-1";   // 15 characters and the terminating 0: the first 16 id bytes

const char* type_name(int t) {
  static const char* names[] = {"ncclInt8", "ncclUint8", "ncclInt32", "ncclUint32", "ncclInt64", "ncclUint64",
                                "ncclFloat16", "ncclFloat32", "ncclFloat64", "ncclBfloat16", "ncclFloat8e4m3",
                                "ncclFloat8e5m2"};
  return t >= 0 && t < ncclNumTypes ? names[t] : "an invalid ncclDataType_t";
}

size_t type_size(int t) {
  switch (t) {
    case ncclInt8: case ncclUint8: case ncclFloat8e4m3: case ncclFloat8e5m2: return 1;
    case ncclFloat16: case ncclBfloat16: return 2;
    case ncclInt32: case ncclUint32: case ncclFloat32: return 4;
    default: return 8;
  }
}

const char* op_name(int op) {
  static const char* names[] = {"ncclSum", "ncclProd", "ncclMax", "ncclMin", "ncclAvg"};
  return op >= 0 && op < ncclNumOps ? names[op] : "an invalid ncclRedOp_t";
}

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string s(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(s.data(), s.size() + 1, fmt, ap2);
  va_end(ap2);
  return s;
}

// ---- this thread's last error (ncclGetLastError) and group state ----

thread_local int tl_last_result = ncclSuccess;
thread_local std::string tl_last_detail;
thread_local std::string tl_error_string;   // ncclGetErrorString's buffer when it appends the detail

int fail(int result, std::string detail) {
  tl_last_result = result;
  tl_last_detail = std::move(detail);
  nemotronEmuSetLastError("%s", tl_last_detail.c_str());
  return result;
}

// No C++ exception may cross the C ABI (the caller is C, or the JVM, or the driver running enqueued work): every
// exported call runs its body through this. Out of memory is the only one expected.
template <typename F>
int guarded(const char* call, F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    tl_last_result = ncclSystemError;
    tl_last_detail.clear();   // no formatting: that would allocate
    nemotronEmuSetLastError("%s: out of host memory", call);
    return ncclSystemError;
  } catch (const std::exception& e) {
    return fail(ncclInternalError, format("%s: internal error in the emulated NCCL: %s", call, e.what()));
  } catch (...) {
    return fail(ncclInternalError, format("%s: internal error in the emulated NCCL", call));
  }
}

// The timeout of every wait for a peer, read at each wait so tests can change it.
double timeout_seconds() {
  const char* s = std::getenv("NEMOTRON_CUDA_EMULATOR_NCCL_TIMEOUT_S");
  if (s == nullptr || *s == '\0') return 60.0;
  char* end = nullptr;
  double v = std::strtod(s, &end);
  if (end == s || *end != '\0' || !(v > 0) || !std::isfinite(v)) {
    static std::once_flag warned;
    std::call_once(warned, [s] {
      std::fprintf(stderr, "emulated NCCL: NEMOTRON_CUDA_EMULATOR_NCCL_TIMEOUT_S=%s is not a positive number of "
                   "seconds; using 60\n", s);
    });
    return 60.0;
  }
  return v;
}

std::chrono::steady_clock::time_point deadline_from_now() {
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeout_seconds()));
}

std::string rank_list(const std::vector<int>& ranks) {
  std::string s;
  for (size_t i = 0; i < ranks.size(); ++i) s += (i == 0 ? "" : ", ") + std::to_string(ranks[i]);
  return s;
}

// ---- collectives ----

enum Kind { ALL_REDUCE = 0, ALL_GATHER = 1 };

struct CollDesc {
  int kind = ALL_REDUCE;
  const void* send = nullptr;
  void* recv = nullptr;
  size_t count = 0;   // all-reduce: count; all-gather: sendcount
  int dtype = ncclFloat32;
  int op = ncclSum;   // all-reduce only
  void* stream = nullptr;

  // "ncclAllReduce(count=4, ncclFloat32, ncclSum)": what must match among the ranks.
  std::string call() const {
    if (kind == ALL_REDUCE) return format("ncclAllReduce(count=%zu, %s, %s)", count, type_name(dtype), op_name(op));
    return format("ncclAllGather(sendcount=%zu, %s)", count, type_name(dtype));
  }
  bool matches(const CollDesc& o) const {
    return kind == o.kind && count == o.count && dtype == o.dtype && (kind != ALL_REDUCE || op == o.op);
  }
};

struct Arrival {
  bool present = false;
  bool poisoned = false;   // the rank's call failed before it could run: the peers must not wait for it
  std::string poison_detail;
  CollDesc d;
};

struct Slot {
  std::vector<Arrival> arrivals;
  int arrived = 0;
  int departed = 0;
  bool done = false;
  int result = ncclSuccess;   // for every rank that waits on it (a poisoned rank has returned its own error)
  std::string detail;
};

struct Comm;

struct Clique {
  const int nranks;
  const uint64_t serial;   // names the communicator in messages
  std::string id_key;      // the unique id's bytes ("" for ncclCommInitAll)
  std::mutex mu;
  std::condition_variable cv;
  // initialisation
  std::vector<int> member_device;   // per rank: its device once joined, else -1 (not the Comm: no ownership cycle)
  int joined = 0;
  bool ready = false;
  // failure: once broken, every wait ends and every later call fails at once with broken_result
  bool broken = false;
  int broken_result = ncclSuccess;
  std::string broken_detail;
  // collectives
  std::vector<uint64_t> next_seq;
  std::vector<std::string> gone;   // non-empty: the rank's communicator was destroyed/aborted (it never arrives again)
  std::map<uint64_t, Slot> slots;

  Clique(int n, uint64_t s) : nranks(n), serial(s), member_device(n, -1), next_seq(n, 0), gone(n) {}

  std::string name() const { return format("communicator #%llu (%d ranks)", static_cast<unsigned long long>(serial), nranks); }

  // Caller holds mu.
  void break_locked(int result, const std::string& detail) {
    if (broken) return;
    broken = true;
    broken_result = result;
    broken_detail = detail;
    cv.notify_all();
  }
};

enum CommState { LIVE = 0, DESTROYED = 1, ABORTED = 2 };

struct Comm {
  uintptr_t handle = 0;
  int rank = 0;
  int nranks = 0;
  int device = 0;
  std::shared_ptr<Clique> clique;
  std::atomic<int> state{LIVE};

  std::string who() const { return format("rank %d of %d, device %d", rank, nranks, device); }
};

// ---- registries ----
// Lock order: g_mu before any Clique::mu.
std::mutex g_mu;
std::unordered_map<uintptr_t, std::shared_ptr<Comm>> g_live;
std::unordered_map<uintptr_t, std::string> g_dead;              // handle -> how it ended (for the error message)
std::map<std::string, std::shared_ptr<Clique>> g_rendezvous;    // unique id -> clique still gathering ranks
std::map<std::string, std::string> g_failed_ids;               // unique id -> why its initialisation failed
uintptr_t g_next_handle = 0x0ecc100000000010ull;                // opaque, never reused (see lookup)
uint64_t g_next_clique = 1;
std::atomic<uint64_t> g_next_token{1};
std::atomic<uint64_t> g_id_counter{0};

// Communicator handles are opaque numbers that are never reused, so a destroyed or aborted handle is recognised (a
// freed pointer could come back as a new communicator and make use-after-free silently work).
std::shared_ptr<Comm> lookup(void* comm, const char* call, int* result) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_live.find(reinterpret_cast<uintptr_t>(comm));
  if (it != g_live.end()) return it->second;
  if (comm == nullptr) {
    *result = fail(ncclInvalidArgument, format("%s: comm is NULL", call));
  } else {
    auto dead = g_dead.find(reinterpret_cast<uintptr_t>(comm));
    *result = fail(ncclInvalidArgument,
                   dead != g_dead.end()
                       ? format("%s: comm %p was %s; the handle is no longer valid", call, comm, dead->second.c_str())
                       : format("%s: %p is not an ncclComm_t of this process", call, comm));
  }
  return nullptr;
}

std::shared_ptr<Comm> register_comm(const std::shared_ptr<Clique>& cl, int rank, int device) {
  auto c = std::make_shared<Comm>();
  c->rank = rank;
  c->nranks = cl->nranks;
  c->device = device;
  c->clique = cl;
  c->handle = g_next_handle;
  g_next_handle += 0x10;
  g_live.emplace(c->handle, c);
  return c;
}

void retire_locked(Comm& c, CommState state, const char* how) {   // caller holds g_mu
  c.state.store(state);
  g_live.erase(c.handle);
  g_dead[c.handle] = how;
}

// Initialisation failed: later joiners of the same id fail at once instead of waiting for ranks that have given up.
void fail_rendezvous(const std::shared_ptr<Clique>& cl, int result, const std::string& detail) {
  std::lock_guard<std::mutex> g(g_mu);
  if (!cl->id_key.empty()) {
    auto it = g_rendezvous.find(cl->id_key);
    if (it != g_rendezvous.end() && it->second == cl) g_rendezvous.erase(it);
    g_failed_ids.emplace(cl->id_key, detail);
  }
  std::lock_guard<std::mutex> lock(cl->mu);
  cl->break_locked(result, detail);
}

// Waits until every rank joined (or the clique broke, or the timeout): ncclCommInitRank's blocking part.
int wait_ready(const std::shared_ptr<Comm>& c) {
  const auto& cl = c->clique;
  const auto deadline = deadline_from_now();
  std::unique_lock<std::mutex> lock(cl->mu);
  while (!cl->ready && !cl->broken) {
    if (cl->cv.wait_until(lock, deadline) == std::cv_status::timeout && !cl->ready && !cl->broken) {
      std::vector<int> missing;
      for (int r = 0; r < cl->nranks; ++r) {
        if (cl->member_device[r] < 0) missing.push_back(r);
      }
      std::string detail = format("ncclCommInitRank(%s): timed out after %g s (NEMOTRON_CUDA_EMULATOR_NCCL_TIMEOUT_S) "
                                  "waiting for rank(s) %s of %d to call ncclCommInitRank with this unique id",
                                  c->who().c_str(), timeout_seconds(), rank_list(missing).c_str(), cl->nranks);
      lock.unlock();
      fail_rendezvous(cl, ncclSystemError, detail);
      return fail(ncclSystemError, detail);
    }
  }
  if (cl->ready && !cl->broken) return ncclSuccess;
  std::string detail = format("ncclCommInitRank(%s): initialisation failed: %s", c->who().c_str(),
                              cl->broken_detail.c_str());
  int result = cl->broken_result;
  return fail(result, detail);
}

// ---- reduction kernels (see the numerics at the top) ----

template <typename A>
inline A apply_float(int op, A a, A b) {
  switch (op) {
    case ncclProd: return a * b;
    case ncclMax: return (std::isnan(a) || std::isnan(b)) ? std::numeric_limits<A>::quiet_NaN() : (a < b ? b : a);
    case ncclMin: return (std::isnan(a) || std::isnan(b)) ? std::numeric_limits<A>::quiet_NaN() : (b < a ? b : a);
    default: return a + b;   // sum, avg
  }
}

template <typename T>
inline T apply_int(int op, T a, T b) {
  using U = std::make_unsigned_t<T>;
  switch (op) {
    case ncclProd: return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
    case ncclMax: return a < b ? b : a;
    case ncclMin: return b < a ? b : a;
    default: return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
  }
}

struct F16 {
  using Storage = __half;
  using Acc = float;
  static float in(__half v) { return __half2float(v); }
  static __half out(float v) { return __float2half_rn(v); }
};
struct BF16 {
  using Storage = __nv_bfloat16;
  using Acc = float;
  static float in(__nv_bfloat16 v) { return __bfloat162float(v); }
  static __nv_bfloat16 out(float v) { return __float2bfloat16_rn(v); }
};
template <typename T>
struct Plain {
  using Storage = T;
  using Acc = T;
  static T in(T v) { return v; }
  static T out(T v) { return v; }
};

// Chunks of elements: every rank's input of the chunk is read before any rank's output is written, so in-place
// (send == recv) is safe.
template <typename Traits>
void reduce(const std::vector<const void*>& send, const std::vector<void*>& recv, size_t count, int op) {
  using S = typename Traits::Storage;
  using A = typename Traits::Acc;
  constexpr size_t CHUNK = 2048;
  const size_t n = send.size();
  A acc[CHUNK];
  for (size_t base = 0; base < count; base += CHUNK) {
    const size_t len = std::min(CHUNK, count - base);
    const S* s0 = static_cast<const S*>(send[0]) + base;
    for (size_t i = 0; i < len; ++i) acc[i] = Traits::in(s0[i]);
    for (size_t r = 1; r < n; ++r) {
      const S* sr = static_cast<const S*>(send[r]) + base;
      for (size_t i = 0; i < len; ++i) {
        if constexpr (std::is_floating_point_v<A>) {
          acc[i] = apply_float<A>(op, acc[i], Traits::in(sr[i]));
        } else {
          acc[i] = apply_int<A>(op, acc[i], Traits::in(sr[i]));
        }
      }
    }
    if (op == ncclAvg) {
      for (size_t i = 0; i < len; ++i) acc[i] = static_cast<A>(acc[i] / static_cast<A>(n));
    }
    for (size_t r = 0; r < n; ++r) {
      S* dst = static_cast<S*>(recv[r]) + base;
      for (size_t i = 0; i < len; ++i) dst[i] = Traits::out(acc[i]);
    }
  }
}

// Computes a complete slot for every rank; caller holds the clique's lock.
void compute(Slot& s) {
  const CollDesc& d0 = s.arrivals[0].d;
  const size_t n = s.arrivals.size();
  std::vector<const void*> send(n);
  std::vector<void*> recv(n);
  for (size_t r = 0; r < n; ++r) {
    send[r] = s.arrivals[r].d.send;
    recv[r] = s.arrivals[r].d.recv;
  }
  const size_t bytes = d0.count * type_size(d0.dtype);
  if (d0.kind == ALL_GATHER) {
    // rank r's block lands at recv_q + r * bytes on every rank q; in place (send_r == recv_r + r * bytes) is a
    // self-copy, and no other block overlaps a send buffer (checked at the call)
    for (size_t r = 0; r < n; ++r) {
      for (size_t q = 0; q < n; ++q) std::memmove(static_cast<char*>(recv[q]) + r * bytes, send[r], bytes);
    }
    return;
  }
  if (n == 1) {
    if (recv[0] != send[0]) std::memmove(recv[0], send[0], bytes);
    return;
  }
  switch (d0.dtype) {
    case ncclInt8: reduce<Plain<int8_t>>(send, recv, d0.count, d0.op); break;
    case ncclUint8: reduce<Plain<uint8_t>>(send, recv, d0.count, d0.op); break;
    case ncclInt32: reduce<Plain<int32_t>>(send, recv, d0.count, d0.op); break;
    case ncclUint32: reduce<Plain<uint32_t>>(send, recv, d0.count, d0.op); break;
    case ncclInt64: reduce<Plain<int64_t>>(send, recv, d0.count, d0.op); break;
    case ncclUint64: reduce<Plain<uint64_t>>(send, recv, d0.count, d0.op); break;
    case ncclFloat16: reduce<F16>(send, recv, d0.count, d0.op); break;
    case ncclFloat32: reduce<Plain<float>>(send, recv, d0.count, d0.op); break;
    case ncclFloat64: reduce<Plain<double>>(send, recv, d0.count, d0.op); break;
    case ncclBfloat16: reduce<BF16>(send, recv, d0.count, d0.op); break;
    default: break;   // rejected at the call
  }
}

// ---- slots ----

struct Ticket {
  std::shared_ptr<Clique> clique;
  uint64_t seq = 0;
  int rank = 0;
  bool waits = false;    // false: nothing to wait for (poisoned, or the clique was already broken)
  int result = ncclSuccess;   // when !waits
  std::string detail;
  std::string what;
};

// Fails the slot when a rank it still needs has been destroyed or aborted. Caller holds the lock.
bool fail_if_gone_locked(Clique& cl, Slot& s, uint64_t seq) {
  for (int r = 0; r < cl.nranks; ++r) {
    if (!s.arrivals[r].present && !cl.gone[r].empty()) {
      s.done = true;
      s.result = ncclRemoteError;
      s.detail = format("%s, collective #%llu: rank %d will never arrive: its communicator was %s", cl.name().c_str(),
                        static_cast<unsigned long long>(seq), r, cl.gone[r].c_str());
      cl.cv.notify_all();
      return true;
    }
  }
  return false;
}

void depart_locked(Clique& cl, uint64_t seq) {
  auto it = cl.slots.find(seq);
  if (it != cl.slots.end() && ++it->second.departed == cl.nranks) cl.slots.erase(it);
}

// The rank's next collective arrives without waiting. `poison`: the call failed on this rank; the peers of this slot
// get ncclRemoteError naming it instead of waiting for data that will never come.
Ticket arrive(const std::shared_ptr<Comm>& c, const CollDesc& d, const std::string* poison) {
  Ticket t;
  t.clique = c->clique;
  t.rank = c->rank;
  t.what = format("%s on %s", d.call().c_str(), c->who().c_str());
  Clique& cl = *c->clique;
  std::lock_guard<std::mutex> lock(cl.mu);
  if (cl.broken && poison == nullptr) {
    t.result = cl.broken_result;
    t.detail = format("%s: %s is unusable: %s", t.what.c_str(), cl.name().c_str(), cl.broken_detail.c_str());
    return t;
  }
  const uint64_t seq = cl.next_seq[c->rank]++;
  t.seq = seq;
  Slot& s = cl.slots[seq];
  if (s.arrivals.empty()) s.arrivals.resize(cl.nranks);
  Arrival& a = s.arrivals[c->rank];
  a.present = true;
  a.d = d;
  s.arrived++;
  if (poison != nullptr) {
    a.poisoned = true;
    a.poison_detail = *poison;
    if (!s.done) {
      s.done = true;
      s.result = ncclRemoteError;
      s.detail = format("%s, collective #%llu: rank %d's call failed, so this collective cannot run: %s",
                        cl.name().c_str(), static_cast<unsigned long long>(seq), c->rank, poison->c_str());
      cl.cv.notify_all();
    }
    depart_locked(cl, seq);   // a poisoned rank does not wait
    return t;
  }
  t.waits = true;
  if (s.done) return t;
  for (int r = 0; r < cl.nranks; ++r) {
    const Arrival& other = s.arrivals[r];
    if (r == c->rank || !other.present || other.poisoned) continue;
    if (!other.d.matches(d)) {
      s.done = true;
      s.result = ncclInvalidUsage;
      s.detail = format("%s, collective #%llu: mismatched calls: rank %d called %s but rank %d called %s",
                        cl.name().c_str(), static_cast<unsigned long long>(seq), r, other.d.call().c_str(), c->rank,
                        d.call().c_str());
      cl.cv.notify_all();
      return t;
    }
    break;   // every present arrival matched the first one, so comparing with one suffices
  }
  if (s.arrived == cl.nranks) {
    compute(s);
    s.done = true;
    s.result = ncclSuccess;
    cl.cv.notify_all();
    return t;
  }
  fail_if_gone_locked(cl, s, seq);
  return t;
}

// Waits for the ticket's slot to complete, fail, or time out. Returns the rank's result (the detail via fail()).
int wait(Ticket& t) {
  if (!t.waits) return t.result == ncclSuccess ? ncclSuccess : fail(t.result, t.detail);
  Clique& cl = *t.clique;
  const auto deadline = deadline_from_now();
  std::unique_lock<std::mutex> lock(cl.mu);
  int result = ncclSuccess;
  std::string detail;
  for (;;) {
    Slot& s = cl.slots.at(t.seq);
    if (s.done) {
      result = s.result;
      detail = s.detail;
      break;
    }
    if (cl.broken) {
      result = cl.broken_result;
      detail = format("%s: %s", cl.name().c_str(), cl.broken_detail.c_str());
      break;
    }
    if (fail_if_gone_locked(cl, s, t.seq)) continue;
    if (cl.cv.wait_until(lock, deadline) == std::cv_status::timeout) {
      Slot& s2 = cl.slots.at(t.seq);
      if (s2.done || cl.broken) continue;
      std::vector<int> missing;
      std::string present;
      for (int r = 0; r < cl.nranks; ++r) {
        if (!s2.arrivals[r].present) {
          missing.push_back(r);
        } else {
          present += format("%s%d", present.empty() ? "" : ", ", r);
        }
      }
      std::string why = format("%s, collective #%llu (%s): timed out after %g s (NEMOTRON_CUDA_EMULATOR_NCCL_TIMEOUT_S) "
                               "waiting for rank(s) %s; arrived: rank(s) %s. The communicator is now broken.",
                               cl.name().c_str(), static_cast<unsigned long long>(t.seq), t.what.c_str(),
                               timeout_seconds(), rank_list(missing).c_str(), present.c_str());
      s2.done = true;
      s2.result = ncclSystemError;
      s2.detail = why;
      // The ranks now disagree on the collective count: nothing later on this communicator can be trusted.
      cl.break_locked(ncclSystemError, why);
    }
  }
  depart_locked(cl, t.seq);
  lock.unlock();
  if (result == ncclSuccess) return ncclSuccess;
  return fail(result, format("%s: %s", t.what.c_str(), detail.c_str()));
}

// ---- calls ----

struct Pending {
  enum Type { JOIN, COLL, POISON } type;
  std::shared_ptr<Comm> comm;
  CollDesc d;
  std::string detail;   // POISON: why
  const char* fname = "";
};

thread_local int tl_group_depth = 0;
thread_local std::vector<Pending> tl_pending;
thread_local int tl_group_result = ncclSuccess;   // the first error returned by a call inside the current group
thread_local std::string tl_group_detail;

int group_error(int result) {   // records a failed call inside a group (ncclGroupEnd returns it)
  if (tl_group_depth > 0 && tl_group_result == ncclSuccess) {
    tl_group_result = result;
    tl_group_detail = tl_last_detail;
  }
  return result;
}

// The enqueued work item. Run by the driver on the calling thread when it is enqueued (then `token` equals the
// caller's tl_token), or later from a cuGraphLaunch when the stream was being captured (a replay).
struct CollWork {
  std::shared_ptr<Comm> comm;
  CollDesc d;
  uint64_t token = 0;
  bool grouped = false;
  const char* fname = "";
};

thread_local uint64_t tl_token = 0;
thread_local bool tl_ran = false;
thread_local int tl_work_result = ncclSuccess;
thread_local Ticket tl_work_ticket;

int check_buffers(const Comm& c, const CollDesc& d, const char* fname, std::string* why);

int run_work_unguarded(void* arg);

int run_work(void* arg) {
  const bool live = static_cast<CollWork*>(arg)->token == tl_token;
  try {
    return run_work_unguarded(arg);
  } catch (...) {
    nemotronEmuSetLastError("%s: the emulated NCCL failed (out of host memory?)", static_cast<CollWork*>(arg)->fname);
    if (live) {
      tl_ran = true;
      tl_work_result = ncclSystemError;
      return 0;
    }
    return CU_ERROR_UNKNOWN;
  }
}

int run_work_unguarded(void* arg) {
  auto* w = static_cast<CollWork*>(arg);
  const bool live = w->token != 0 && w->token == tl_token;
  if (live) {
    tl_ran = true;
    if (w->grouped) {
      tl_work_ticket = arrive(w->comm, w->d, nullptr);   // ncclGroupEnd waits
      return 0;
    }
    Ticket t = arrive(w->comm, w->d, nullptr);
    tl_work_result = wait(t);
    return 0;   // the ncclResult_t goes back through tl_work_result; the stream itself is fine
  }
  // A replay from a captured graph.
  if (w->grouped) {
    nemotronEmuSetLastError("%s (%s) was captured inside ncclGroupStart/ncclGroupEnd: grouped collectives cannot be "
                            "replayed from a CUDA graph by the emulator", w->fname, w->comm->who().c_str());
    return CU_ERROR_NOT_SUPPORTED;
  }
  std::string why;
  int r = ncclSuccess;
  if (w->comm->state.load() != LIVE) {
    r = ncclInvalidArgument;
    why = format("%s replayed from a CUDA graph on %s, whose communicator was destroyed or aborted", w->fname,
                 w->comm->who().c_str());
  } else {
    r = check_buffers(*w->comm, w->d, w->fname, &why);
  }
  if (r != ncclSuccess) {
    arrive(w->comm, w->d, &why);
    fail(r, why);
    return CU_ERROR_UNKNOWN;
  }
  Ticket t = arrive(w->comm, w->d, nullptr);
  if (wait(t) != ncclSuccess) return CU_ERROR_UNKNOWN;   // the detail is in nemotronEmuLastError
  return 0;
}

void free_work(void* arg) { delete static_cast<CollWork*>(arg); }

bool in_one_allocation(const void* p, size_t bytes, const char* name, const char* fname, const Comm& c,
                       std::string* why) {
  char reason[512];
  reason[0] = '\0';
  if (nemotronEmuCheckRange(p, bytes, reason, sizeof reason) != 0) {
    *why = format("%s(%s): %s [%p, +%zu bytes) is not inside one live device allocation: %s", fname, c.who().c_str(),
                  name, p, bytes, reason);
    return false;
  }
  int dev = nemotronEmuDeviceOf(p);
  if (dev != c.device) {
    // NCCL's CudaPtrCheck: "sendbuff allocated on device X mismatchs with NCCL device Y"
    *why = format("%s(%s): %s %p is on device %d, not on the communicator's device %d", fname, c.who().c_str(), name,
                  p, dev, c.device);
    return false;
  }
  return true;
}

// NCCL's ArgsCheck plus the extents (NCCL cannot check those; a GPU would fault or corrupt memory).
int check_buffers(const Comm& c, const CollDesc& d, const char* fname, std::string* why) {
  const size_t elem = type_size(d.dtype);
  if (d.count > std::numeric_limits<size_t>::max() / elem / static_cast<size_t>(c.nranks)) {
    *why = format("%s(%s): count %zu x %zu-byte elements overflows", fname, c.who().c_str(), d.count, elem);
    return ncclInvalidArgument;
  }
  const size_t send_bytes = d.count * elem;
  const size_t recv_bytes = d.kind == ALL_GATHER ? send_bytes * static_cast<size_t>(c.nranks) : send_bytes;
  if (d.send == nullptr || d.recv == nullptr) {
    *why = format("%s(%s): %s is NULL", fname, c.who().c_str(), d.send == nullptr ? "sendbuff" : "recvbuff");
    return ncclInvalidArgument;
  }
  if (!in_one_allocation(d.send, send_bytes, "sendbuff", fname, c, why) ||
      !in_one_allocation(d.recv, recv_bytes, "recvbuff", fname, c, why)) {
    return ncclInvalidArgument;
  }
  // Overlap other than the in-place position makes the result depend on the copy order (undefined on a GPU).
  const auto s0 = reinterpret_cast<uintptr_t>(d.send), r0 = reinterpret_cast<uintptr_t>(d.recv);
  const bool overlap = s0 < r0 + recv_bytes && r0 < s0 + send_bytes;
  const uintptr_t in_place = d.kind == ALL_GATHER ? r0 + static_cast<uintptr_t>(c.rank) * send_bytes : r0;
  if (overlap && s0 != in_place) {
    *why = format("%s(%s): sendbuff %p overlaps recvbuff %p without being in place (in place is sendbuff == %s)", fname,
                  c.who().c_str(), d.send, d.recv, d.kind == ALL_GATHER ? "recvbuff + rank * sendcount" : "recvbuff");
    return ncclInvalidArgument;
  }
  return ncclSuccess;
}

int collective(const char* fname, void* comm_handle, const CollDesc& d) {
  int result = ncclSuccess;
  std::shared_ptr<Comm> c = lookup(comm_handle, fname, &result);
  if (!c) return group_error(result);
  const std::string what = format("%s on %s", d.call().c_str(), c->who().c_str());
  {
    std::lock_guard<std::mutex> lock(c->clique->mu);
    if (c->clique->broken) {
      return group_error(fail(c->clique->broken_result, format("%s: %s is unusable: %s", what.c_str(),
                                                              c->clique->name().c_str(),
                                                              c->clique->broken_detail.c_str())));
    }
  }
  std::string why;
  if (d.dtype < 0 || d.dtype >= ncclNumTypes) {
    result = ncclInvalidArgument;
    why = format("%s(%s): datatype %d is not an ncclDataType_t", fname, c->who().c_str(), d.dtype);
  } else if (d.kind == ALL_REDUCE && (d.op < 0 || d.op >= ncclNumOps)) {
    result = ncclInvalidArgument;
    why = format("%s(%s): op %d is not a built-in ncclRedOp_t (ncclRedOpCreatePreMulSum is not emulated)", fname,
                 c->who().c_str(), d.op);
  } else if (d.kind == ALL_REDUCE && (d.dtype == ncclFloat8e4m3 || d.dtype == ncclFloat8e5m2)) {
    result = ncclInvalidArgument;
    why = format("%s(%s): reductions of %s are not emulated", fname, c->who().c_str(), type_name(d.dtype));
  } else if (d.count > 0) {
    result = check_buffers(*c, d, fname, &why);
  }
  if (result != ncclSuccess) {
    // This rank's collective will never run: its peers of the same collective get an error instead of waiting.
    if (tl_group_depth > 0) {
      tl_pending.push_back(Pending{Pending::POISON, c, d, why, fname});
    } else {
      arrive(c, d, &why);
    }
    return group_error(fail(result, why));
  }
  if (nemotronEmuTakeFault("nccl", c->rank)) {
    std::string detail = format("%s: injected fault (nemotronEmuInjectFault(\"nccl\")): this rank failed, so its "
                                "communicator is aborted", what.c_str());
    {
      std::lock_guard<std::mutex> lock(c->clique->mu);
      c->clique->break_locked(ncclRemoteError, format("rank %d failed in %s (injected fault)", c->rank,
                                                      d.call().c_str()));
    }
    return group_error(fail(ncclSystemError, detail));
  }
  // NCCL returns at once for count 0 and communicates nothing, so a zero-count call takes no slot.
  if (d.count == 0) return ncclSuccess;
  if (tl_group_depth > 0) {
    tl_pending.push_back(Pending{Pending::COLL, c, d, std::string(), fname});
    return ncclSuccess;
  }
  auto* w = new CollWork{c, d, g_next_token.fetch_add(1), false, fname};
  const uint64_t token = w->token;
  tl_token = token;
  tl_ran = false;
  tl_work_result = ncclSuccess;
  int cu = nemotronEmuEnqueue(d.stream, fname, run_work, w, free_work);
  tl_token = 0;
  if (tl_ran) {
    if (tl_work_result != ncclSuccess) nemotronEmuSetLastError("%s", tl_last_detail.c_str());
    return tl_work_result;
  }
  if (cu != 0) {
    std::string detail = format("%s: the driver did not enqueue the collective on stream %p (CUresult %d): %s",
                                what.c_str(), d.stream, cu, nemotronEmuLastError());
    arrive(c, d, &detail);
    return fail(ncclUnhandledCudaError, detail);
  }
  return ncclSuccess;   // captured: it runs at each launch of the graph
}

}  // namespace

EMU_EXPORT int ncclGetVersion(int* version) {
  if (version == nullptr) return fail(ncclInvalidArgument, "ncclGetVersion: version is NULL");
  *version = EMULATED_NCCL_VERSION;
  return ncclSuccess;
}

// 128 bytes: a magic prefix (so ncclCommInitRank can tell an id made here from garbage), the pid, a per-process counter,
// the time and 128 random bits; the rest 0. Unique per call.
EMU_EXPORT int ncclGetUniqueId(ncclUniqueId* id) {
  return guarded("ncclGetUniqueId", [&]() -> int {
    if (id == nullptr) return fail(ncclInvalidArgument, "ncclGetUniqueId: uniqueId is NULL");
    std::memset(id->internal, 0, sizeof id->internal);
    std::memcpy(id->internal, ID_MAGIC, 16);
    const uint64_t pid = static_cast<uint64_t>(getpid());
    const uint64_t counter = g_id_counter.fetch_add(1) + 1;
    const uint64_t now = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    uint64_t r1 = now * 0x9e3779b97f4a7c15ull, r2 = counter * 0xbf58476d1ce4e5b9ull ^ pid;
    try {
      std::random_device rd;
      r1 ^= (static_cast<uint64_t>(rd()) << 32) ^ rd();
      r2 ^= (static_cast<uint64_t>(rd()) << 32) ^ rd();
    } catch (...) {
      // no entropy source: the pid, counter and time above still make the id unique in this process
    }
    std::memcpy(id->internal + 16, &pid, 8);
    std::memcpy(id->internal + 24, &counter, 8);
    std::memcpy(id->internal + 32, &now, 8);
    std::memcpy(id->internal + 40, &r1, 8);
    std::memcpy(id->internal + 48, &r2, 8);
    return ncclSuccess;
  });
}

// ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId commId, int rank): joins the communicator
// named by commId on the calling thread's current device (device 0 when no context is current, as the CUDA runtime's
// default). Blocks until all nranks ranks joined; inside a group, returns the handle at once and ncclGroupEnd waits.
// Two ranks on one device fail with ncclInvalidUsage (NCCL: "Duplicate GPU detected").
EMU_EXPORT int ncclCommInitRank(void** comm, int nranks, ncclUniqueId commId, int rank) {
  return guarded("ncclCommInitRank", [&]() -> int {
    const char* fn = "ncclCommInitRank";
    if (comm == nullptr) return group_error(fail(ncclInvalidArgument, format("%s: comm is NULL", fn)));
    if (nranks < 1) return group_error(fail(ncclInvalidArgument, format("%s: nranks %d < 1", fn, nranks)));
    if (rank < 0 || rank >= nranks) {
      return group_error(fail(ncclInvalidArgument, format("%s: rank %d outside [0, %d)", fn, rank, nranks)));
    }
    if (std::memcmp(commId.internal, ID_MAGIC, 16) != 0) {
      return group_error(fail(ncclInvalidArgument,
                              format("%s(rank %d of %d): the unique id was not made by ncclGetUniqueId of this process",
                                     fn, rank, nranks)));
    }
    int device = nemotronEmuCurrentDevice();
    if (device < 0) device = 0;
    const std::string key(commId.internal, sizeof commId.internal);
    std::shared_ptr<Comm> c;
    std::shared_ptr<Clique> cl;
    std::string error;
    int error_result = ncclSuccess;
    {
      std::lock_guard<std::mutex> g(g_mu);
      auto failed = g_failed_ids.find(key);
      if (failed != g_failed_ids.end()) {
        return group_error(fail(ncclRemoteError, format("%s(rank %d of %d, device %d): this unique id's initialisation "
                                                        "already failed: %s", fn, rank, nranks, device,
                                                        failed->second.c_str())));
      }
      auto it = g_rendezvous.find(key);
      if (it == g_rendezvous.end()) {
        cl = std::make_shared<Clique>(nranks, g_next_clique++);
        cl->id_key = key;
        g_rendezvous.emplace(key, cl);
      } else {
        cl = it->second;
      }
      std::lock_guard<std::mutex> lock(cl->mu);
      if (cl->nranks != nranks) {
        error_result = ncclInvalidUsage;
        error = format("%s(rank %d, device %d): nranks %d, but this unique id's communicator was started with nranks %d",
                       fn, rank, device, nranks, cl->nranks);
      } else if (cl->member_device[rank] >= 0) {
        error_result = ncclInvalidUsage;
        error = format("%s(rank %d of %d, device %d): rank %d already joined this unique id (on device %d)", fn, rank,
                       nranks, device, rank, cl->member_device[rank]);
      } else {
        for (int r = 0; r < nranks; ++r) {
          if (cl->member_device[r] == device) {
            error_result = ncclInvalidUsage;
            error = format("%s(rank %d of %d): Duplicate GPU detected: rank %d and rank %d are both on device %d", fn,
                           rank, nranks, r, rank, device);
            break;
          }
        }
      }
      if (error_result == ncclSuccess) {
        c = register_comm(cl, rank, device);
        cl->member_device[rank] = device;
        if (++cl->joined == nranks) {
          cl->ready = true;
          g_rendezvous.erase(key);
          cl->cv.notify_all();
        }
      }
    }
    if (error_result != ncclSuccess) {
      // The ranks already waiting on this id must not wait for the timeout.
      fail_rendezvous(cl, error_result, error);
      return group_error(fail(error_result, error));
    }
    *comm = reinterpret_cast<void*>(c->handle);
    if (tl_group_depth > 0) {
      tl_pending.push_back(Pending{Pending::JOIN, c, CollDesc{}, std::string(), fn});
      return ncclSuccess;
    }
    int r = wait_ready(c);
    if (r != ncclSuccess) {
      std::lock_guard<std::mutex> g(g_mu);
      retire_locked(*c, ABORTED, "never initialised (ncclCommInitRank failed)");
      *comm = nullptr;
    }
    return r;
  });
}

// ncclResult_t ncclCommInitAll(ncclComm_t* comms, int ndev, const int* devlist): one communicator per device (rank i on
// devlist[i], or on device i when devlist is NULL), all at once; does not block. The calling thread's current device
// is left as it was (NCCL may change it: callers must not rely on it either way).
EMU_EXPORT int ncclCommInitAll(void** comms, int ndev, const int* devlist) {
  return guarded("ncclCommInitAll", [&]() -> int {
    const char* fn = "ncclCommInitAll";
    if (comms == nullptr) return group_error(fail(ncclInvalidArgument, format("%s: comms is NULL", fn)));
    if (ndev < 1) return group_error(fail(ncclInvalidArgument, format("%s: ndev %d < 1", fn, ndev)));
    int total = -1;
    if (cuDeviceGetCount(&total) != CUDA_SUCCESS) total = -1;   // unknown (cuInit not called): not range-checked
    std::vector<int> devices(ndev);
    for (int i = 0; i < ndev; ++i) {
      devices[i] = devlist != nullptr ? devlist[i] : i;
      if (devices[i] < 0 || (total >= 0 && devices[i] >= total)) {
        return group_error(fail(ncclInvalidArgument, format("%s: invalid device %d (devlist[%d]; %d devices)", fn,
                                                            devices[i], i, total)));
      }
      for (int j = 0; j < i; ++j) {
        if (devices[j] == devices[i]) {
          return group_error(fail(ncclInvalidUsage, format("%s: duplicate device %d in devlist (entries %d and %d)", fn,
                                                           devices[i], j, i)));
        }
      }
    }
    std::lock_guard<std::mutex> g(g_mu);
    auto cl = std::make_shared<Clique>(ndev, g_next_clique++);
    std::lock_guard<std::mutex> lock(cl->mu);
    for (int i = 0; i < ndev; ++i) {
      cl->member_device[i] = devices[i];
      comms[i] = reinterpret_cast<void*>(register_comm(cl, i, devices[i])->handle);
    }
    cl->joined = ndev;
    cl->ready = true;
    return ncclSuccess;
  });
}

EMU_EXPORT int ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count, int datatype, int op, void* comm,
                             void* stream) {
  return guarded("ncclAllReduce", [&]() -> int {
    CollDesc d;
    d.kind = ALL_REDUCE;
    d.send = sendbuff;
    d.recv = recvbuff;
    d.count = count;
    d.dtype = datatype;
    d.op = op;
    d.stream = stream;
    return collective("ncclAllReduce", comm, d);
  });
}

EMU_EXPORT int ncclAllGather(const void* sendbuff, void* recvbuff, size_t sendcount, int datatype, void* comm,
                             void* stream) {
  return guarded("ncclAllGather", [&]() -> int {
    CollDesc d;
    d.kind = ALL_GATHER;
    d.send = sendbuff;
    d.recv = recvbuff;
    d.count = sendcount;
    d.dtype = datatype;
    d.op = ncclSum;
    d.stream = stream;
    return collective("ncclAllGather", comm, d);
  });
}

EMU_EXPORT int ncclGroupStart() {
  if (tl_group_depth++ == 0) {
    tl_pending.clear();
    tl_group_result = ncclSuccess;
    tl_group_detail.clear();
  }
  return ncclSuccess;
}

EMU_EXPORT int ncclGroupEnd() {
  return guarded("ncclGroupEnd", [&]() -> int {
    if (tl_group_depth == 0) return fail(ncclInvalidUsage, "ncclGroupEnd: not inside ncclGroupStart");
    if (--tl_group_depth > 0) return ncclSuccess;
    std::vector<Pending> ops;
    ops.swap(tl_pending);
    const int group_result = tl_group_result;
    const std::string group_detail = tl_group_detail;
    tl_group_result = ncclSuccess;

    if (group_result != ncclSuccess) {
      // Cancelled: nothing of the group runs, and no peer waits for it.
      const std::string why = "cancelled: an earlier call in the same ncclGroupStart/End failed: " + group_detail;
      for (const Pending& p : ops) {
        if (p.type == Pending::JOIN) {
          fail_rendezvous(p.comm->clique, ncclRemoteError,
                          format("ncclCommInitRank(%s) %s", p.comm->who().c_str(), why.c_str()));
        } else {
          arrive(p.comm, p.d, &why);
        }
      }
      return fail(group_result, "ncclGroupEnd: " + group_detail);
    }

    int first = ncclSuccess;
    std::string first_detail;
    auto note = [&](int r) {
      if (r != ncclSuccess && first == ncclSuccess) {
        first = r;
        first_detail = tl_last_detail;
      }
    };
    // 1. initialisations: every join was registered at its call; now wait for all of them
    for (const Pending& p : ops) {
      if (p.type == Pending::JOIN) note(wait_ready(p.comm));
    }
    // 2. every collective arrives, in call order, through its stream
    std::vector<Ticket> tickets;
    for (const Pending& p : ops) {
      if (p.type == Pending::POISON) {
        arrive(p.comm, p.d, &p.detail);
        continue;
      }
      if (p.type != Pending::COLL) continue;
      auto* w = new CollWork{p.comm, p.d, g_next_token.fetch_add(1), true, p.fname};
      tl_token = w->token;
      tl_ran = false;
      int cu = nemotronEmuEnqueue(p.d.stream, p.fname, run_work, w, free_work);
      tl_token = 0;
      if (tl_ran) {
        tickets.push_back(std::move(tl_work_ticket));
        tl_work_ticket = Ticket{};
        continue;
      }
      std::string detail =
          cu != 0 ? format("%s(%s): the driver did not enqueue the collective on stream %p (CUresult %d): %s", p.fname,
                           p.comm->who().c_str(), p.d.stream, cu, nemotronEmuLastError())
                  : format("%s(%s): stream %p is being captured: collectives inside ncclGroupStart/End cannot be "
                           "captured by the emulator", p.fname, p.comm->who().c_str(), p.d.stream);
      arrive(p.comm, p.d, &detail);
      note(fail(cu != 0 ? ncclUnhandledCudaError : ncclInvalidUsage, detail));
    }
    // 3. wait for all of them (each is released by its peers, an error, or the timeout)
    for (Ticket& t : tickets) note(wait(t));
    if (first != ncclSuccess) return fail(first, first_detail);
    return ncclSuccess;
  });
}

// Frees the communicator once its work is done (the emulator's work is done when the call returns). Peers that still
// wait for this rank in a collective are released with ncclRemoteError. NULL is accepted, as by NCCL.
EMU_EXPORT int ncclCommDestroy(void* comm) {
  return guarded("ncclCommDestroy", [&]() -> int {
    if (comm == nullptr) return ncclSuccess;
    int result = ncclSuccess;
    std::shared_ptr<Comm> c = lookup(comm, "ncclCommDestroy", &result);
    if (!c) return result;
    for (const Pending& p : tl_pending) {
      if (p.comm == c) {
        return fail(ncclInvalidUsage, format("ncclCommDestroy(%s): this thread has a call on it pending in "
                                             "ncclGroupStart/End", c->who().c_str()));
      }
    }
    {
      std::lock_guard<std::mutex> g(g_mu);
      retire_locked(*c, DESTROYED, "destroyed by ncclCommDestroy");
    }
    std::lock_guard<std::mutex> lock(c->clique->mu);
    c->clique->gone[c->rank] = format("destroyed (ncclCommDestroy on %s)", c->who().c_str());
    c->clique->cv.notify_all();
    return ncclSuccess;
  });
}

// Aborts the whole communicator: every rank waiting in it (initialisation or a collective) returns ncclRemoteError,
// every later call on any of its ranks fails at once, and this handle is freed. Safe from any thread. NULL is
// accepted, as by NCCL.
EMU_EXPORT int ncclCommAbort(void* comm) {
  return guarded("ncclCommAbort", [&]() -> int {
    if (comm == nullptr) return ncclSuccess;
    int result = ncclSuccess;
    std::shared_ptr<Comm> c = lookup(comm, "ncclCommAbort", &result);
    if (!c) return result;
    {
      std::lock_guard<std::mutex> g(g_mu);
      retire_locked(*c, ABORTED, "aborted by ncclCommAbort");
    }
    const std::string why = format("%s was aborted (ncclCommAbort on rank %d)", c->clique->name().c_str(), c->rank);
    bool still_gathering;
    {
      std::lock_guard<std::mutex> lock(c->clique->mu);
      still_gathering = !c->clique->ready;
      c->clique->gone[c->rank] = format("aborted (ncclCommAbort on %s)", c->who().c_str());
    }
    if (still_gathering) {
      fail_rendezvous(c->clique, ncclRemoteError, why);
    } else {
      std::lock_guard<std::mutex> lock(c->clique->mu);
      c->clique->break_locked(ncclRemoteError, why);
    }
    return ncclSuccess;
  });
}

// NCCL's texts; when `result` is this thread's last error, its detail is appended (the project's binding prints this
// string, so an emulated failure explains itself). The pointer stays valid until this thread's next call of this.
EMU_EXPORT const char* ncclGetErrorString(int result) {
  const char* base;
  switch (result) {
    case ncclSuccess: base = "no error"; break;
    case ncclUnhandledCudaError: base = "unhandled cuda error (run with NCCL_DEBUG=INFO for details)"; break;
    case ncclSystemError: base = "unhandled system error (run with NCCL_DEBUG=INFO for details)"; break;
    case ncclInternalError: base = "internal error - please report this issue to the NCCL developers"; break;
    case ncclInvalidArgument: base = "invalid argument (run with NCCL_DEBUG=WARN for details)"; break;
    case ncclInvalidUsage: base = "invalid usage (run with NCCL_DEBUG=WARN for details)"; break;
    case ncclRemoteError: base = "remote process exited or there was a network error"; break;
    case ncclInProgress: base = "NCCL operation in progress"; break;
    case ncclTimeout: base = "NCCL operation timed out"; break;
    default: base = "unknown result code"; break;
  }
  if (result == ncclSuccess || result != tl_last_result || tl_last_detail.empty()) return base;
  try {
    tl_error_string = std::string(base) + " [emulated NCCL: " + tl_last_detail + "]";
  } catch (...) {
    return base;
  }
  return tl_error_string.c_str();
}

// The calling thread's last error detail ("" when none); comm is not used (as in NCCL).
EMU_EXPORT const char* ncclGetLastError(void* comm) {
  (void)comm;
  return tl_last_detail.c_str();
}

// ncclRemoteError after an abort or an injected fault on any rank, ncclSystemError after a timeout, else ncclSuccess.
EMU_EXPORT int ncclCommGetAsyncError(void* comm, int* asyncError) {
  return guarded("ncclCommGetAsyncError", [&]() -> int {
    int result = ncclSuccess;
    std::shared_ptr<Comm> c = lookup(comm, "ncclCommGetAsyncError", &result);
    if (!c) return result;
    if (asyncError == nullptr) return fail(ncclInvalidArgument, "ncclCommGetAsyncError: asyncError is NULL");
    std::lock_guard<std::mutex> lock(c->clique->mu);
    *asyncError = c->clique->broken ? c->clique->broken_result : ncclSuccess;
    return ncclSuccess;
  });
}

EMU_EXPORT int ncclCommCount(void* comm, int* count) {
  return guarded("ncclCommCount", [&]() -> int {
    int result = ncclSuccess;
    std::shared_ptr<Comm> c = lookup(comm, "ncclCommCount", &result);
    if (!c) return result;
    if (count == nullptr) return fail(ncclInvalidArgument, "ncclCommCount: count is NULL");
    *count = c->nranks;
    return ncclSuccess;
  });
}

EMU_EXPORT int ncclCommUserRank(void* comm, int* rank) {
  return guarded("ncclCommUserRank", [&]() -> int {
    int result = ncclSuccess;
    std::shared_ptr<Comm> c = lookup(comm, "ncclCommUserRank", &result);
    if (!c) return result;
    if (rank == nullptr) return fail(ncclInvalidArgument, "ncclCommUserRank: rank is NULL");
    *rank = c->rank;
    return ncclSuccess;
  });
}

EMU_EXPORT int ncclCommCuDevice(void* comm, int* device) {
  return guarded("ncclCommCuDevice", [&]() -> int {
    int result = ncclSuccess;
    std::shared_ptr<Comm> c = lookup(comm, "ncclCommCuDevice", &result);
    if (!c) return result;
    if (device == nullptr) return fail(ncclInvalidArgument, "ncclCommCuDevice: device is NULL");
    *device = c->device;
    return ncclSuccess;
  });
}
