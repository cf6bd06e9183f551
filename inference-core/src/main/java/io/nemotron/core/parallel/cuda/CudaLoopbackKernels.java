package io.nemotron.core.parallel.cuda;

import io.nemotron.core.backend.cuda.CudaDevice;
import io.nemotron.core.backend.cuda.CudaModule;
import io.nemotron.core.backend.cuda.DeviceBuffer;
import io.nemotron.core.backend.cuda.LoopbackKernels;
import io.nemotron.core.weights.DType;

/**
 * The loopback collectives on the GPU: loopback.cu's kernels, fed tables of the ranks' device addresses. Runs on the
 * rank thread that completes the barrier, with the shared context current; every launch is followed by a context
 * synchronisation so a kernel fault is reported by this collective, naming the kernel.
 */
final class CudaLoopbackKernels implements LoopbackGroup.Kernels {
    private final CudaDevice device;
    private final LoopbackKernels kernels;
    private final DeviceBuffer sendTable;
    private final DeviceBuffer recvTable;

    CudaLoopbackKernels(CudaDevice device, CudaModule module, int size) {
        this.device = device;
        this.kernels = new LoopbackKernels(module);
        this.sendTable = device.allocate(8L * size, "loopback send address table");
        this.recvTable = device.allocate(8L * size, "loopback receive address table");
    }

    @Override
    public void synchronize(String after) {
        device.synchronize(after);
    }

    @Override
    public void allReduceSum(long[] bufs, long count, DType dtype) {
        if (count == 0) {
            return;
        }
        recvTable.upload(bufs);
        String kernel;
        if (dtype == DType.BF16) {
            kernel = "loopback_all_reduce_bf16";
            kernels.loopbackAllReduceBf16(recvTable.address(), bufs.length, count);
        } else {
            kernel = "loopback_all_reduce_f32";
            kernels.loopbackAllReduceF32(recvTable.address(), bufs.length, count);
        }
        device.synchronize(kernel + "(" + bufs.length + " ranks, " + count + " elements)");
    }

    @Override
    public void allGather(long[] sends, long[] recvs, long count, DType dtype) {
        if (count == 0) {
            return;
        }
        long units = count * dtype.bytes() / 2;   // 16-bit units: F32 and BF16 are whole numbers of them
        sendTable.upload(sends);
        recvTable.upload(recvs);
        kernels.loopbackAllGatherU16(sendTable.address(), recvTable.address(), sends.length, units);
        device.synchronize("loopback_all_gather_u16(" + sends.length + " ranks, " + count + " x " + dtype + ")");
    }

    @Override
    public void close() {
        sendTable.close();
        recvTable.close();
    }
}
