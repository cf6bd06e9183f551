// The emulated driver's own interface for the other emulated libraries (cuBLAS, NCCL) and the test harness.
// libcuda.so.1 (driver.cpp) exports these with C linkage; libcublas.so.13 and libnccl.so.2 link against it, so
// every library sees one allocation table, one set of streams and one fault switchboard.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

// 0 when [ptr, ptr + bytes) lies inside one live device allocation (bytes == 0: ptr inside or at the end of one).
// Otherwise nonzero, and `why` (when not null) gets a one-line description naming the address and the nearest
// allocation. Never throws.
int nemotronEmuCheckRange(const void* ptr, size_t bytes, char* why, size_t why_len);

// The device ordinal of the allocation holding ptr, or -1.
int nemotronEmuDeviceOf(const void* ptr);

// The device ordinal of the calling thread's current context, or -1 when none is current.
int nemotronEmuCurrentDevice(void);

// Runs fn(arg) in the order of `stream` (a CUstream; null = the legacy default stream). Work runs on the calling
// thread when it is enqueued, so stream order holds trivially; while the stream is being captured (cuStreamBeginCapture)
// the call is recorded into the graph instead and runs at every cuGraphLaunch. `arg` is owned by the driver from here:
// free_arg(arg) is called when the work can no longer run (at once when not captured, or when the graph is destroyed).
// fn returns 0 or a CUresult; a nonzero result is returned here (not captured) or by cuGraphLaunch.
// `what` names the work in error messages (copied).
int nemotronEmuEnqueue(void* stream, const char* what, int (*fn)(void* arg), void* arg, void (*free_arg)(void* arg));

// The detail of the last failed call on this thread (any emulated library), or "" when none. Never null.
const char* nemotronEmuLastError(void);

// Sets this thread's last-error detail (printf-style); also written to stderr when NEMOTRON_CUDA_EMULATOR_VERBOSE=1.
void nemotronEmuSetLastError(const char* format, ...) __attribute__((format(printf, 1, 2)));

// Fault switches: the next `count` calls of `site` after `skip` successful ones fail. Sites: "alloc" (cuMemAlloc),
// "launch" (cuLaunchKernel), "graph" (cuGraphLaunch, refused before any of the graph's work runs), "nccl" (a
// collective, on the rank given by nemotronEmuSetFaultRank, -1 = any).
void nemotronEmuInjectFault(const char* site, int skip, int count);
void nemotronEmuSetFaultRank(int rank);
// 1 when the call at `site` (on `rank`, or -1) must fail now: consumed by the library that owns the site.
int nemotronEmuTakeFault(const char* site, int rank);

}  // extern "C"
