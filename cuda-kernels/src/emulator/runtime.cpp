// The kernel runtime of the host emulator: CUDA threads as stackful fibers, blocks one after another on the launching
// OS thread, and barriers that are strict enough for kernel bugs to fail tests.
//
// Scheduling. A block's threads run in "phases": every runnable fiber runs, in the launch's order (forward, reverse
// or seeded random; NEMOTRON_CUDA_EMULATOR_ORDER / _SEED), until it waits at a barrier or exits. Then the scheduler
// releases what can complete: a warp barrier whose every lane in the mask waits at a warp operation with that mask and
// kind, else the block barrier once every live thread waits at the same __syncthreads. Nothing releasable with live
// threads left is a deadlock, reported naming the kernel, block, a thread and the barrier. Because threads run whole
// phases in a varying order, code that assumes lockstep or lacks a __syncthreads reads stale or future values.
//
// Fibers. x86-64: a 16-instruction switch of the callee-saved registers (the MXCSR and x87 control words are not
// switched: nothing in a kernel changes the rounding mode, and ldmxcsr cost a third of the switch) (glibc's swapcontext makes a sigprocmask
// system call per switch, ~600 ns a pair here). Elsewhere: ucontext. Stacks are 256 KiB, mapped lazily with a guard
// page, and kept per OS thread for the next launch.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <atomic>
#include <string>
#include <vector>

#include "emu_api.h"
#include "emu_runtime.h"
#include "runtime_internal.h"

#if defined(__x86_64__)
// void nemotron_emu_switch(void** save_sp, void* load_sp): saves the callee-saved state on the current stack, stores
// the stack pointer to *save_sp, and resumes the context whose stack pointer is load_sp.
asm(R"(
.text
.p2align 4
.globl nemotron_emu_switch
.hidden nemotron_emu_switch
.type nemotron_emu_switch,@function
nemotron_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size nemotron_emu_switch,.-nemotron_emu_switch

.p2align 4
.globl nemotron_emu_fiber_start
.hidden nemotron_emu_fiber_start
.type nemotron_emu_fiber_start,@function
nemotron_emu_fiber_start:
  movq %r12, %rdi
  callq *%r13
  ud2
.size nemotron_emu_fiber_start,.-nemotron_emu_fiber_start
)");
extern "C" void nemotron_emu_switch(void** save_sp, void* load_sp);
extern "C" void nemotron_emu_fiber_start();
#else
#include <ucontext.h>
#endif

namespace nemotron_emu {
namespace {

constexpr std::size_t kStackBytes = 64 * 1024;
constexpr unsigned kMaxThreads = 1024;
constexpr std::uint64_t kCanary = 0x5afe57acc0ffee00ULL;
constexpr int kWarp = 32;

enum class State { kRunnable, kBlockWait, kWarpWait, kDone };

struct Fiber {
#if defined(__x86_64__)
  void* sp = nullptr;
#else
  ucontext_t context;
#endif
  char* stack = nullptr;   // lowest address of the mapping (the guard page)
  NemotronEmuThread self{};
  unsigned linear = 0;     // threadIdx.x + threadIdx.y * blockDim.x + ...
  State state = State::kRunnable;
  const char* file = "";
  unsigned line = 0;
  int kind = 0;            // warp wait: the operation
  unsigned mask = 0;       // warp wait: its mask
  std::uint64_t slot = 0;  // the value this lane offers to the warp exchange
  unsigned color = 0;      // its index in the worker's stacks
};

struct Block;

// Per OS thread: the fibers' stacks (kept between launches), and what is running now.
struct Worker {
  std::vector<std::unique_ptr<Fiber>> fibers;
  std::vector<char> dynamic_shared;
  Block* block = nullptr;
  Fiber* current = nullptr;
  const std::vector<Fiber*>* order = nullptr;   // this phase's fibers, in run order
  std::size_t next = 0;                         // the next of them to run
#if defined(__x86_64__)
  void* scheduler_sp = nullptr;
#else
  ucontext_t scheduler;
#endif

  char* stacks = nullptr;   // kMaxThreads stacks of kStackBytes, one mapping

  ~Worker() {
    if (stacks != nullptr) munmap(stacks, kMaxThreads * kStackBytes);
  }
};

thread_local Worker t_worker;
NemotronEmuThread t_outside{};   // what a kernel built-in reads outside any launch (host code): zeros

struct Block {
  const KernelInfo* kernel;
  void** params;
  unsigned threads;
  std::vector<Fiber*> fibers;
  std::string error;   // set by a fiber that found a fault (its fiber is then abandoned)
};

std::string where(const Fiber& f) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "block (%u,%u,%u) thread (%u,%u,%u)", f.self.block_idx.x, f.self.block_idx.y,
                f.self.block_idx.z, f.self.thread_idx.x, f.self.thread_idx.y, f.self.thread_idx.z);
  return buf;
}

const char* kind_name(int kind) {
  switch (kind) {
    case NEMOTRON_EMU_SYNCWARP: return "__syncwarp";
    case NEMOTRON_EMU_SHFL: return "__shfl_sync";
    case NEMOTRON_EMU_SHFL_XOR: return "__shfl_xor_sync";
    case NEMOTRON_EMU_SHFL_UP: return "__shfl_up_sync";
    case NEMOTRON_EMU_SHFL_DOWN: return "__shfl_down_sync";
    case NEMOTRON_EMU_BALLOT: return "__ballot_sync";
    case NEMOTRON_EMU_ALL: return "__all_sync";
    case NEMOTRON_EMU_MATCH_ANY: return "__match_any_sync";
    default: return "warp operation";
  }
}

std::string barrier_name(const Fiber& f) {
  char buf[320];
  if (f.state == State::kBlockWait) {
    std::snprintf(buf, sizeof buf, "__syncthreads at %s:%u", f.file, f.line);
  } else {
    std::snprintf(buf, sizeof buf, "%s(mask 0x%08x) at %s:%u", kind_name(f.kind), f.mask, f.file, f.line);
  }
  return buf;
}

// Back to the scheduler; returns when the scheduler resumes this fiber.
// The waiting fiber hands over to the next fiber of the phase's order directly (one switch per resume instead of two
// through the scheduler); after the last one, or once the block has failed, control returns to the scheduler.
void yield_to_scheduler() {
  Worker& w = t_worker;
  Fiber* f = w.current;
#if defined(__x86_64__)
  if (w.block->error.empty() && w.next < w.order->size()) {
    Fiber* n = (*w.order)[w.next++];
    w.current = n;
    nemotron_emu_switch(&f->sp, n->sp);
    return;
  }
  w.current = nullptr;
  nemotron_emu_switch(&f->sp, w.scheduler_sp);
#else
  swapcontext(&f->context, &w.scheduler);
#endif
}

// A fault found inside a kernel (bad mask, __trap): recorded, and this fiber never runs again.
[[noreturn]] void fail_in_kernel(const std::string& what) {
  Worker& w = t_worker;
  if (w.block->error.empty()) {
    w.block->error = "kernel " + w.block->kernel->name + ", " + where(*w.current) + ": " + what;
  }
  w.current->state = State::kDone;
  yield_to_scheduler();
  std::abort();   // unreachable: a failed block's fibers are never resumed
}

extern "C" void fiber_main(Fiber* f) {
  Worker& w = t_worker;
  w.block->kernel->invoke(w.block->params);
  f->state = State::kDone;
  yield_to_scheduler();
  std::abort();
}

#if !defined(__x86_64__)
extern "C" void fiber_entry_ucontext(unsigned hi, unsigned lo) {
  fiber_main(reinterpret_cast<Fiber*>((static_cast<std::uintptr_t>(hi) << 32) | lo));
}
#endif

// The stacks are one mapping backed by transparent huge pages: a phase resumes up to 1024 fibers, and with a 4 KiB
// page per stack top every resume missed the TLB (116 ns a resume, measured on the sampling kernel). A canary at the
// bottom of each stack stands in for guard pages, which would split the huge pages.
Fiber* fiber(Worker& w, unsigned i) {
  if (w.stacks == nullptr) {
    void* m = mmap(nullptr, kMaxThreads * kStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (m == MAP_FAILED) return nullptr;
    madvise(m, kMaxThreads * kStackBytes, MADV_HUGEPAGE);
    w.stacks = static_cast<char*>(m);
  }
  while (w.fibers.size() <= i) {
    auto f = std::make_unique<Fiber>();
    f->stack = w.stacks + w.fibers.size() * kStackBytes;
    f->color = static_cast<unsigned>(w.fibers.size());
    w.fibers.push_back(std::move(f));
  }
  return w.fibers[i].get();
}

bool canary_intact(const Fiber* f) {
  std::uint64_t v;
  std::memcpy(&v, f->stack, sizeof v);
  return v == kCanary;
}

// Sets up f to start at fiber_main(f) on its own stack.
void prepare(Fiber* f) {
  std::memcpy(f->stack, &kCanary, sizeof kCanary);
#if defined(__x86_64__)
  // The initial frame nemotron_emu_switch pops: r15..r12, rbx, rbp, and the return address. The return address sits
  // at an address = 8 (mod 16), so nemotron_emu_fiber_start runs with rsp = 0 (mod 16) and its call enters fiber_main
  // with the ABI's alignment.
  // Stack colouring: stacks 64 KiB apart would put every fiber's live frames in the same cache sets; offsetting
  // each top by a different number of cache lines spreads them.
  std::uintptr_t top = reinterpret_cast<std::uintptr_t>(f->stack + kStackBytes) - 64 * (f->color % 61);
  std::uintptr_t ret = (top - 64) & ~static_cast<std::uintptr_t>(15);
  ret -= 8;
  auto* slots = reinterpret_cast<std::uint64_t*>(ret - 8 * 6);
  slots[0] = 0;                                             // r15
  slots[1] = 0;                                             // r14
  slots[2] = reinterpret_cast<std::uint64_t>(&fiber_main);  // r13: what the start stub calls
  slots[3] = reinterpret_cast<std::uint64_t>(f);            // r12: its argument
  slots[4] = 0;                                             // rbx
  slots[5] = 0;                                             // rbp
  *reinterpret_cast<std::uint64_t*>(ret) = reinterpret_cast<std::uint64_t>(&nemotron_emu_fiber_start);
  f->sp = slots;
#else
  getcontext(&f->context);
  f->context.uc_stack.ss_sp = f->stack + 64;
  f->context.uc_stack.ss_size = kStackBytes - 64;
  f->context.uc_link = nullptr;
  std::uintptr_t p = reinterpret_cast<std::uintptr_t>(f);
  makecontext(&f->context, reinterpret_cast<void (*)()>(&fiber_entry_ucontext), 2, static_cast<unsigned>(p >> 32),
              static_cast<unsigned>(p));
#endif
}

// Runs the phase: every fiber of `order` until it waits or exits (the fibers pass control along, see
// yield_to_scheduler).
void run_phase(Worker& w, const std::vector<Fiber*>& order) {
  if (order.empty()) return;
#if defined(__x86_64__)
  w.order = &order;
  w.next = 1;
  w.current = order[0];
  nemotron_emu_switch(&w.scheduler_sp, order[0]->sp);
  w.current = nullptr;
#else
  for (Fiber* f : order) {
    w.current = f;
    swapcontext(&w.scheduler, &f->context);
    w.current = nullptr;
    if (!w.block->error.empty()) return;
  }
#endif
}

// ---- launch options --------------------------------------------------------------------------------------------

struct Options {
  Order order = Order::kRandom;
  std::uint64_t seed = 0x5eedULL;
};

std::mutex g_options_mutex;
Options g_options = [] {
  Options o;
  if (const char* s = std::getenv("NEMOTRON_CUDA_EMULATOR_ORDER")) {
    if (std::strcmp(s, "forward") == 0) o.order = Order::kForward;
    else if (std::strcmp(s, "reverse") == 0) o.order = Order::kReverse;
    else o.order = Order::kRandom;
  }
  if (const char* s = std::getenv("NEMOTRON_CUDA_EMULATOR_SEED")) o.seed = std::strtoull(s, nullptr, 0);
  return o;
}();

Options options() {
  std::lock_guard<std::mutex> lock(g_options_mutex);
  return g_options;
}

std::uint64_t mix(std::uint64_t x) {   // splitmix64's finaliser: decorrelates consecutive seeds
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

std::uint64_t hash_name(const std::string& s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

// A seeded xorshift64* generator: the thread order is reshuffled at every phase, and std::mt19937_64 with
// uniform_int_distribution was a visible share of a 1024-thread launch.
struct Rng {
  std::uint64_t s;
  explicit Rng(std::uint64_t seed) : s(seed | 1) {}
  std::uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ULL;
  }
};

template <typename T>
void arrange(std::vector<T>& v, Order order, Rng& rng) {
  if (order == Order::kReverse) {
    std::reverse(v.begin(), v.end());
  } else if (order == Order::kRandom) {
    for (std::size_t i = v.size(); i > 1; --i) {   // Fisher-Yates
      std::size_t j = static_cast<std::size_t>((static_cast<unsigned __int128>(rng.next()) * i) >> 64);
      std::swap(v[i - 1], v[j]);
    }
  }
}

// ---- the release rules -----------------------------------------------------------------------------------------

// Releases every warp group whose lanes in the mask all wait at the same warp operation; true when any was released.
// One pass over each warp's lanes builds the bitmask of waiting lanes, so the usual case (a whole warp at one shuffle)
// costs 32 checks, not 32 x 32: the sampling kernel's 1024 threads pass dozens of warp barriers per launch.
bool release_warps(Block& b) {
  bool released = false;
  unsigned warps = (b.threads + kWarp - 1) / kWarp;
  for (unsigned wi = 0; wi < warps; ++wi) {
    unsigned base = wi * kWarp;
    unsigned lanes = std::min<unsigned>(kWarp, b.threads - base);
    unsigned waiting = 0;
    for (unsigned l = 0; l < lanes; ++l) {
      if (b.fibers[base + l]->state == State::kWarpWait) waiting |= 1u << l;
    }
    unsigned pending = waiting;
    while (pending != 0) {
      Fiber* f = b.fibers[base + static_cast<unsigned>(__builtin_ctz(pending))];
      const unsigned group = f->mask;
      pending &= ~group;
      pending &= ~(1u << f->linear % kWarp);
      if ((group & ~waiting) != 0) continue;   // a lane of the mask is not waiting (yet, or ever)
      bool same = true;
      for (unsigned m = group; m != 0 && same; m &= m - 1) {
        const Fiber* g = b.fibers[base + static_cast<unsigned>(__builtin_ctz(m))];
        same = g->mask == group && g->kind == f->kind;
      }
      if (!same) continue;
      for (unsigned m = group; m != 0; m &= m - 1) b.fibers[base + static_cast<unsigned>(__builtin_ctz(m))]->state = State::kRunnable;
      waiting &= ~group;
      released = true;
    }
  }
  return released;
}

// Releases the block barrier when every live thread waits at it; an error when they wait at different ones.
bool release_block(Block& b, std::string& error) {
  Fiber* first = nullptr;
  for (Fiber* f : b.fibers) {
    if (f->state == State::kDone) continue;
    if (f->state != State::kBlockWait) return false;
    if (first == nullptr) {
      first = f;
    } else if (f->line != first->line || std::strcmp(f->file, first->file) != 0) {
      error = "kernel " + b.kernel->name + ": divergent __syncthreads: " + where(*first) + " waits at " +
              barrier_name(*first) + ", " + where(*f) + " at " + barrier_name(*f);
      return false;
    }
  }
  if (first == nullptr) return false;
  for (Fiber* f : b.fibers) {
    if (f->state == State::kBlockWait) f->state = State::kRunnable;
  }
  return true;
}

std::string deadlock(const Block& b) {
  std::string s = "kernel " + b.kernel->name + ": deadlock, no barrier can complete:";
  std::map<std::string, std::pair<const Fiber*, int>> waits;   // barrier -> (first thread, count)
  int exited = 0;
  for (const Fiber* f : b.fibers) {
    if (f->state == State::kDone) {
      ++exited;
      continue;
    }
    auto& e = waits[barrier_name(*f)];
    if (e.first == nullptr) e.first = f;
    ++e.second;
  }
  for (const auto& [barrier, e] : waits) {
    s += " " + where(*e.first) + (e.second > 1 ? " and " + std::to_string(e.second - 1) + " more" : "") +
         " wait at " + barrier + ";";
  }
  if (exited > 0) s += " " + std::to_string(exited) + " threads exited";
  return s;
}

std::atomic<unsigned long long> g_phases{0}, g_resumes{0};
const bool g_stats = [] {
  const char* v = std::getenv("NEMOTRON_CUDA_EMULATOR_STATS");
  if (v == nullptr || std::strcmp(v, "1") != 0) return false;
  std::atexit([] { std::fprintf(stderr, "nemotron CUDA emulator: %llu phases, %llu fiber resumes\n", g_phases.load(), g_resumes.load()); });
  return true;
}();

std::string run_block(Block& b, Order order, Rng& rng) {
  Worker& w = t_worker;
  std::vector<Fiber*> runnable = b.fibers;
  while (true) {
    if (g_stats) {
      ++g_phases;
      g_resumes += runnable.size();
    }
    arrange(runnable, order, rng);
    run_phase(w, runnable);
    if (!b.error.empty()) return b.error;
    bool live = false;
    for (Fiber* f : b.fibers) live = live || f->state != State::kDone;
    if (!live) return "";
    std::string error;
    if (!release_warps(b) && !release_block(b, error)) {
      return error.empty() ? deadlock(b) : error;
    }
    runnable.clear();
    for (Fiber* f : b.fibers) {
      if (f->state == State::kRunnable) runnable.push_back(f);
    }
  }
}

}  // namespace

// ---- the registry ------------------------------------------------------------------------------------------------

namespace {
std::mutex g_registry_mutex;
std::map<std::string, std::unique_ptr<KernelInfo>>& registry() {
  static auto* r = new std::map<std::string, std::unique_ptr<KernelInfo>>();
  return *r;
}
}  // namespace

const KernelInfo* find_kernel(const std::string& name) {
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : it->second.get();
}

void set_order(Order order, std::uint64_t seed) {
  std::lock_guard<std::mutex> lock(g_options_mutex);
  g_options.order = order;
  g_options.seed = seed;
}

std::string launch(const KernelInfo& k, dim3 grid, dim3 block, unsigned dynamic_shared, void** params) {
  Worker& w = t_worker;
  if (w.block != nullptr) return "kernel " + k.name + " launched from inside kernel " + w.block->kernel->name;
  Options o = options();
  unsigned threads = block.x * block.y * block.z;
  w.dynamic_shared.assign(dynamic_shared, static_cast<char>(0xFF));
  std::vector<dim3> blocks;
  blocks.reserve(static_cast<std::size_t>(grid.x) * grid.y * grid.z);
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) blocks.push_back(dim3(x, y, z));
  Rng rng(mix(o.seed ^ hash_name(k.name)));
  arrange(blocks, o.order, rng);
  Block b{&k, params, threads, {}, {}};
  b.fibers.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    Fiber* f = fiber(w, i);
    if (f == nullptr) return "kernel " + k.name + ": could not map a fiber stack (" + std::strerror(errno) + ")";
    b.fibers.push_back(f);
  }
  std::string error;
  w.block = &b;
  for (const dim3& bi : blocks) {
    std::fill(w.dynamic_shared.begin(), w.dynamic_shared.end(), static_cast<char>(0xFF));
    for (unsigned i = 0; i < threads; ++i) {
      Fiber* f = b.fibers[i];
      f->self.thread_idx = uint3{i % block.x, (i / block.x) % block.y, i / (block.x * block.y)};
      f->self.block_idx = uint3{bi.x, bi.y, bi.z};
      f->self.block_dim = block;
      f->self.grid_dim = grid;
      f->linear = i;
      f->state = State::kRunnable;
      f->slot = 0;
      prepare(f);
    }
    error = run_block(b, o.order, rng);
    for (unsigned i = 0; i < threads && error.empty(); ++i) {
      if (!canary_intact(b.fibers[i])) {
        error = "kernel " + k.name + ": thread " + std::to_string(i) + " overflowed its " +
                std::to_string(kStackBytes / 1024) + " KiB emulated stack";
      }
    }
    if (!error.empty()) break;
  }
  w.block = nullptr;
  return error;
}

}  // namespace nemotron_emu

using nemotron_emu::Fiber;
using nemotron_emu::State;

extern "C" {

NemotronEmuThread* nemotronEmuSelf(void) {
  Fiber* f = nemotron_emu::t_worker.current;
  return f != nullptr ? &f->self : &nemotron_emu::t_outside;
}

void nemotronEmuSyncThreads(const char* file, unsigned line) {
  auto& w = nemotron_emu::t_worker;
  if (w.current == nullptr) return;   // host code calling a device helper: nothing to wait for
  Fiber* f = w.current;
  f->state = State::kBlockWait;
  f->file = file;
  f->line = line;
  nemotron_emu::yield_to_scheduler();
}

std::uint64_t nemotronEmuWarpOp(int kind, unsigned mask, std::uint64_t value, int arg, int width, const char* file,
                                unsigned line) {
  auto& w = nemotron_emu::t_worker;
  Fiber* f = w.current;
  if (f == nullptr) return value;
  const unsigned lane = f->linear % 32;
  const unsigned base = f->linear - lane;
  char buf[256];
  if (((mask >> lane) & 1u) == 0) {
    std::snprintf(buf, sizeof buf, "%s(mask 0x%08x) at %s:%u called by lane %u, which is not in the mask",
                  nemotron_emu::kind_name(kind), mask, file, line, lane);
    nemotron_emu::fail_in_kernel(buf);
  }
  if (width <= 0 || width > 32 || (width & (width - 1)) != 0) {
    std::snprintf(buf, sizeof buf, "%s at %s:%u with width %d (a power of two up to 32)",
                  nemotron_emu::kind_name(kind), file, line, width);
    nemotron_emu::fail_in_kernel(buf);
  }
  // write, warp barrier
  f->slot = value;
  f->state = State::kWarpWait;
  f->kind = kind;
  f->mask = mask;
  f->file = file;
  f->line = line;
  nemotron_emu::yield_to_scheduler();
  // read
  auto& fibers = w.block->fibers;
  auto value_of = [&](unsigned src_lane) -> std::uint64_t {
    if (((mask >> src_lane) & 1u) == 0) {
      std::snprintf(buf, sizeof buf, "%s(mask 0x%08x) at %s:%u: lane %u reads lane %u, which is not in the mask",
                    nemotron_emu::kind_name(kind), mask, file, line, lane, src_lane);
      nemotron_emu::fail_in_kernel(buf);
    }
    return fibers[base + src_lane]->slot;
  };
  const unsigned segment = lane - lane % static_cast<unsigned>(width);
  std::uint64_t result = 0;
  switch (kind) {
    case NEMOTRON_EMU_SYNCWARP:
      break;
    case NEMOTRON_EMU_SHFL:
      result = value_of(segment + static_cast<unsigned>(arg) % static_cast<unsigned>(width));
      break;
    case NEMOTRON_EMU_SHFL_XOR: {
      unsigned src = lane ^ static_cast<unsigned>(arg);
      result = src < segment + static_cast<unsigned>(width) && src >= segment ? value_of(src) : value;
      break;
    }
    case NEMOTRON_EMU_SHFL_UP:
      result = lane >= segment + static_cast<unsigned>(arg) ? value_of(lane - static_cast<unsigned>(arg)) : value;
      break;
    case NEMOTRON_EMU_SHFL_DOWN:
      result = lane + static_cast<unsigned>(arg) < segment + static_cast<unsigned>(width)
                   ? value_of(lane + static_cast<unsigned>(arg))
                   : value;
      break;
    case NEMOTRON_EMU_BALLOT:
    case NEMOTRON_EMU_ALL: {
      unsigned bits = 0;
      for (unsigned m = 0; m < 32; ++m) {
        if (((mask >> m) & 1u) && fibers[base + m]->slot != 0) bits |= 1u << m;
      }
      result = kind == NEMOTRON_EMU_BALLOT ? bits : (bits == mask ? 1 : 0);
      break;
    }
    case NEMOTRON_EMU_MATCH_ANY: {
      unsigned bits = 0;
      for (unsigned m = 0; m < 32; ++m) {
        if (((mask >> m) & 1u) && fibers[base + m]->slot == value) bits |= 1u << m;
      }
      result = bits;
      break;
    }
    default:
      nemotron_emu::fail_in_kernel("unknown warp operation");
  }
  // warp barrier: no lane overwrites its slot for the next exchange before every lane has read this one
  f->state = State::kWarpWait;
  nemotron_emu::yield_to_scheduler();
  return result;
}

void* nemotronEmuDynamicShared(void) {
  auto& w = nemotron_emu::t_worker;
  return w.dynamic_shared.empty() ? nullptr : w.dynamic_shared.data();
}

void nemotronEmuTrap(const char* file, unsigned line) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "__trap() at %s:%u", file, line);
  if (nemotron_emu::t_worker.current == nullptr) {
    std::fprintf(stderr, "nemotron CUDA emulator: %s outside a kernel\n", buf);
    std::abort();
  }
  nemotron_emu::fail_in_kernel(buf);
}

void nemotronEmuRegisterKernel(const char* name, void (*invoke)(void** params), int num_params,
                               const unsigned short* param_sizes, const unsigned char* param_is_pointer,
                               int max_threads) {
  auto k = std::make_unique<nemotron_emu::KernelInfo>();
  k->name = name;
  k->invoke = invoke;
  k->param_sizes.assign(param_sizes, param_sizes + num_params);
  k->param_is_pointer.assign(param_is_pointer, param_is_pointer + num_params);
  k->max_threads = max_threads;
  std::lock_guard<std::mutex> lock(nemotron_emu::g_registry_mutex);
  nemotron_emu::registry()[name] = std::move(k);   // a later library's kernel of the same name replaces it
}

}  // extern "C"
