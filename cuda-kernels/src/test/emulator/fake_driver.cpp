// A test double of the emulated driver (libcuda.so.1), for testing the emulated cuBLAS and NCCL before the real
// emulated driver exists: the emu_api.h interface plus the few driver API calls cublas_nccl_checks.cpp makes, with
// the behaviour emu_api.h and cuda.h document, and nothing else.
//   - 8 devices; a primary context per device (the handle is the ordinal + 1); the current context is per thread.
//   - cuMemAlloc gives host memory (posix_memalign, exact size, so AddressSanitizer sees every byte past the end);
//     the allocation table answers nemotronEmuCheckRange / nemotronEmuDeviceOf.
//   - nemotronEmuEnqueue runs the work at once on the calling thread, holding no lock (an NCCL collective blocks in it
//     until its peers' threads enqueue theirs); while a stream is captured the work is recorded into the graph,
//     runs at every cuGraphLaunch, and is freed with the last of the graph and its executables.
//   - the fault switchboard of emu_api.h.
// Build as libcuda.so.1 (soname libcuda.so.1) in a test folder; never installed.
#include <cuda.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "emu_api.h"

#define FAKE_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

constexpr int DEVICES = 8;

struct Allocation {
  size_t bytes;
  int device;
};

std::mutex g_alloc_mu;
std::map<uintptr_t, Allocation> g_allocs;
thread_local int tl_device = -1;   // the current context's device
thread_local std::string tl_last_error;

struct Node {
  std::string what;
  int (*fn)(void*);
  void* arg;
  void (*free_arg)(void*);
};

// The recorded work of one captured stream, shared by the graph and its executables.
struct NodeList {
  std::vector<Node> nodes;
  ~NodeList() {
    for (Node& n : nodes) n.free_arg(n.arg);
  }
};

struct FakeStream {
  std::mutex mu;
  std::shared_ptr<NodeList> capture;   // non-null while capturing
};

struct FakeGraph {
  std::shared_ptr<NodeList> nodes;
};

struct Fault {
  int skip = 0;
  int count = 0;
};
std::mutex g_fault_mu;
std::map<std::string, Fault> g_faults;
int g_fault_rank = -1;

// The allocation holding [p, p + bytes), or nullptr; `nearest` gets the one at or below p.
const std::pair<const uintptr_t, Allocation>* find(uintptr_t p, size_t bytes,
                                                   const std::pair<const uintptr_t, Allocation>** nearest) {
  auto it = g_allocs.upper_bound(p);
  if (it == g_allocs.begin()) {
    *nearest = g_allocs.empty() ? nullptr : &*it;
    return nullptr;
  }
  --it;
  *nearest = &*it;
  const uintptr_t end = it->first + it->second.bytes;
  if (p > end) return nullptr;
  if (bytes > end - p) return nullptr;
  if (bytes > 0 && p == end) return nullptr;
  return &*it;
}

}  // namespace

// ---- emu_api.h ----

FAKE_EXPORT int nemotronEmuCheckRange(const void* ptr, size_t bytes, char* why, size_t why_len) {
  std::lock_guard<std::mutex> lock(g_alloc_mu);
  const std::pair<const uintptr_t, Allocation>* nearest = nullptr;
  if (find(reinterpret_cast<uintptr_t>(ptr), bytes, &nearest) != nullptr) return 0;
  if (why != nullptr && why_len > 0) {
    if (nearest != nullptr) {
      std::snprintf(why, why_len, "[%p, +%zu) is outside every allocation; nearest: [0x%lx, +%zu) on device %d", ptr,
                    bytes, static_cast<unsigned long>(nearest->first), nearest->second.bytes, nearest->second.device);
    } else {
      std::snprintf(why, why_len, "[%p, +%zu) is outside every allocation; there are none", ptr, bytes);
    }
  }
  return 1;
}

FAKE_EXPORT int nemotronEmuDeviceOf(const void* ptr) {
  std::lock_guard<std::mutex> lock(g_alloc_mu);
  const std::pair<const uintptr_t, Allocation>* nearest = nullptr;
  auto* a = find(reinterpret_cast<uintptr_t>(ptr), 0, &nearest);
  return a != nullptr ? a->second.device : -1;
}

FAKE_EXPORT int nemotronEmuCurrentDevice(void) { return tl_device; }

FAKE_EXPORT int nemotronEmuEnqueue(void* stream, const char* what, int (*fn)(void* arg), void* arg,
                                   void (*free_arg)(void* arg)) {
  if (stream != nullptr) {
    auto* s = static_cast<FakeStream*>(stream);
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->capture) {
      s->capture->nodes.push_back(Node{what, fn, arg, free_arg});
      return 0;
    }
  }
  int rc = fn(arg);
  free_arg(arg);
  return rc;
}

FAKE_EXPORT const char* nemotronEmuLastError(void) { return tl_last_error.c_str(); }

FAKE_EXPORT void nemotronEmuSetLastError(const char* format, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, format);
  std::vsnprintf(buf, sizeof buf, format, ap);
  va_end(ap);
  tl_last_error = buf;
  const char* verbose = std::getenv("NEMOTRON_CUDA_EMULATOR_VERBOSE");
  if (verbose != nullptr && std::strcmp(verbose, "1") == 0) std::fprintf(stderr, "[fake driver] %s\n", buf);
}

FAKE_EXPORT void nemotronEmuInjectFault(const char* site, int skip, int count) {
  std::lock_guard<std::mutex> lock(g_fault_mu);
  g_faults[site] = Fault{skip, count};
}

FAKE_EXPORT void nemotronEmuSetFaultRank(int rank) {
  std::lock_guard<std::mutex> lock(g_fault_mu);
  g_fault_rank = rank;
}

FAKE_EXPORT int nemotronEmuTakeFault(const char* site, int rank) {
  std::lock_guard<std::mutex> lock(g_fault_mu);
  auto it = g_faults.find(site);
  if (it == g_faults.end() || it->second.count <= 0) return 0;
  if (g_fault_rank != -1 && rank != g_fault_rank) return 0;
  if (it->second.skip > 0) {
    it->second.skip--;
    return 0;
  }
  it->second.count--;
  return 1;
}

// ---- the driver API subset the checks use ----

FAKE_EXPORT CUresult cuInit(unsigned int) { return CUDA_SUCCESS; }

FAKE_EXPORT CUresult cuDeviceGetCount(int* count) {
  if (count == nullptr) return CUDA_ERROR_INVALID_VALUE;
  *count = DEVICES;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDeviceGet(CUdevice* device, int ordinal) {
  if (device == nullptr || ordinal < 0 || ordinal >= DEVICES) return CUDA_ERROR_INVALID_DEVICE;
  *device = ordinal;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext* ctx, CUdevice dev) {
  if (ctx == nullptr || dev < 0 || dev >= DEVICES) return CUDA_ERROR_INVALID_VALUE;
  *ctx = reinterpret_cast<CUcontext>(static_cast<uintptr_t>(dev) + 1);
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev) {
  return dev >= 0 && dev < DEVICES ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

FAKE_EXPORT CUresult cuCtxSetCurrent(CUcontext ctx) {
  const auto v = reinterpret_cast<uintptr_t>(ctx);
  if (v > DEVICES) return CUDA_ERROR_INVALID_CONTEXT;
  tl_device = static_cast<int>(v) - 1;
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytes) {
  if (dptr == nullptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
  if (tl_device < 0) return CUDA_ERROR_INVALID_CONTEXT;
  void* p = nullptr;
  if (posix_memalign(&p, 256, bytes) != 0) return CUDA_ERROR_OUT_OF_MEMORY;
  std::lock_guard<std::mutex> lock(g_alloc_mu);
  g_allocs[reinterpret_cast<uintptr_t>(p)] = Allocation{bytes, tl_device};
  *dptr = reinterpret_cast<CUdeviceptr>(p);
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuMemFree_v2(CUdeviceptr dptr) {
  std::lock_guard<std::mutex> lock(g_alloc_mu);
  auto it = g_allocs.find(static_cast<uintptr_t>(dptr));
  if (it == g_allocs.end()) return CUDA_ERROR_INVALID_VALUE;
  g_allocs.erase(it);
  std::free(reinterpret_cast<void*>(dptr));
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuStreamCreate(CUstream* stream, unsigned int) {
  if (stream == nullptr) return CUDA_ERROR_INVALID_VALUE;
  *stream = reinterpret_cast<CUstream>(new FakeStream());
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuStreamDestroy_v2(CUstream stream) {
  delete reinterpret_cast<FakeStream*>(stream);
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuStreamSynchronize(CUstream) { return CUDA_SUCCESS; }
FAKE_EXPORT CUresult cuCtxSynchronize(void) { return CUDA_SUCCESS; }

FAKE_EXPORT CUresult cuStreamBeginCapture_v2(CUstream stream, CUstreamCaptureMode) {
  if (stream == nullptr) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
  auto* s = reinterpret_cast<FakeStream*>(stream);
  std::lock_guard<std::mutex> lock(s->mu);
  if (s->capture) return CUDA_ERROR_ILLEGAL_STATE;
  s->capture = std::make_shared<NodeList>();
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuStreamEndCapture(CUstream stream, CUgraph* graph) {
  if (stream == nullptr || graph == nullptr) return CUDA_ERROR_INVALID_VALUE;
  auto* s = reinterpret_cast<FakeStream*>(stream);
  std::lock_guard<std::mutex> lock(s->mu);
  if (!s->capture) return CUDA_ERROR_ILLEGAL_STATE;
  *graph = reinterpret_cast<CUgraph>(new FakeGraph{s->capture});
  s->capture.reset();
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuGraphInstantiateWithFlags(CUgraphExec* exec, CUgraph graph, unsigned long long) {
  if (exec == nullptr || graph == nullptr) return CUDA_ERROR_INVALID_VALUE;
  *exec = reinterpret_cast<CUgraphExec>(new FakeGraph{reinterpret_cast<FakeGraph*>(graph)->nodes});
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuGraphLaunch(CUgraphExec exec, CUstream) {
  if (exec == nullptr) return CUDA_ERROR_INVALID_VALUE;
  for (Node& n : reinterpret_cast<FakeGraph*>(exec)->nodes->nodes) {
    int rc = n.fn(n.arg);
    if (rc != 0) return static_cast<CUresult>(rc);
  }
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuGraphExecDestroy(CUgraphExec exec) {
  delete reinterpret_cast<FakeGraph*>(exec);
  return CUDA_SUCCESS;
}

FAKE_EXPORT CUresult cuGraphDestroy(CUgraph graph) {
  delete reinterpret_cast<FakeGraph*>(graph);
  return CUDA_SUCCESS;
}
