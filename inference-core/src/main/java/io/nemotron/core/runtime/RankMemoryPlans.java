package io.nemotron.core.runtime;

import io.nemotron.core.backend.cuda.CudaDevice;
import io.nemotron.core.backend.cuda.MemoryPlan;
import io.nemotron.core.backend.cuda.MemoryPlanException;
import io.nemotron.core.backend.cuda.MemoryPlanner;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The memory planner run once per tensor-parallel rank against the memory its device reports: the one computation
 * behind the server's start-up log and {@code nemotron inspect --backend cuda}, so that the two print the same plan
 * (the same {@link RankPlan#line()} up to the free memory, which is read when the line is made).
 */
public final class RankMemoryPlans {
    private RankMemoryPlans() {}

    /**
     * One rank's plan.
     *
     * @param rank       tensor-parallel rank
     * @param ordinal    its CUDA device
     * @param device     the device's name
     * @param totalBytes the device's total memory, as it reports it (the planner's device memory)
     * @param freeBytes  the device's free memory when the plan was made (after the weights, at start-up)
     * @param plan       the plan, or null when the planner refused
     * @param refusal    the planner's reason (null when planned)
     */
    public record RankPlan(int rank, int ranks, int ordinal, String device, long totalBytes, long freeBytes,
                           MemoryPlan plan, String refusal) {

        /** The plan in one line; everything before {@code "; free now"} depends only on the config and the device. */
        public String line() {
            String head = String.format(Locale.ROOT, "memory plan, rank %d of %d on GPU %d (%s): device %d bytes, ",
                    rank, ranks, ordinal, device, totalBytes);
            String body;
            if (plan == null) {
                body = "does not fit: " + refusal;
            } else {
                MemoryPlan.Workspace w = plan.workspace();
                body = String.format(Locale.ROOT, "budget %d bytes (%.2f), weights %d bytes, workspace %d bytes"
                                + " (activations %d, logits %d, split-KV %d, step inputs %d, GEMM %d, FP8 scratch %d),"
                                + " runtime reserve %d"
                                + " bytes, KV cache %d blocks of %d tokens x %d bytes = %d bytes (%d tokens)",
                        plan.budgetBytes(), plan.utilization(), plan.weightBytes(), w.total(), w.activationBytes(),
                        w.logitsBytes(), w.splitKvBytes(), w.stepInputBytes(), w.gemmBytes(), w.fp8Bytes(),
                        plan.runtimeReserveBytes(),
                        plan.kvBlocks(), plan.blockSize(), plan.kvBytesPerBlock(), plan.kvBytes(), plan.kvTokens());
            }
            return head + body + String.format(Locale.ROOT, "; free now %d bytes", freeBytes);
        }
    }

    /**
     * Plans every rank of {@code devices} (rank r on {@code devices.get(r)}) with {@code planner}'s settings, its
     * tensor-parallel size set to the number of devices and its device memory to each device's reported total.
     */
    public static List<RankPlan> plan(MemoryPlanner planner, List<CudaDevice> devices) {
        List<RankPlan> plans = new ArrayList<>();
        planner.tensorParallel(devices.size());
        for (int r = 0; r < devices.size(); r++) {
            CudaDevice d = devices.get(r);
            MemoryPlan plan = null;
            String refusal = null;
            try {
                plan = planner.deviceMemory(d.totalMemory()).plan();
            } catch (MemoryPlanException e) {
                refusal = e.getMessage();
            }
            plans.add(new RankPlan(r, devices.size(), d.ordinal(), d.name(), d.totalMemory(), d.freeMemory(), plan,
                    refusal));
        }
        return plans;
    }

    /**
     * As {@link #plan}, on GPUs {@code 0 .. ranks - 1} opened for the purpose and closed again (no model is loaded):
     * what {@code inspect --backend cuda} prints. Refused with the reason when no GPU can be used here.
     */
    public static List<RankPlan> onDevices(MemoryPlanner planner, int ranks) {
        if (ranks < 1) {
            throw new IllegalArgumentException("--tensor-parallel must be at least 1, got " + ranks);
        }
        var unavailable = CudaDevice.unavailableReason();
        if (unavailable.isPresent()) {
            throw new IllegalArgumentException("--backend cuda: no usable GPU: " + unavailable.get());
        }
        List<CudaDevice> devices = new ArrayList<>();
        try {
            for (int r = 0; r < ranks; r++) {
                devices.add(CudaDevice.open(r));
            }
            return plan(planner, devices);
        } finally {
            for (CudaDevice d : devices) {
                d.close();
            }
        }
    }
}
