package io.nemotron.core.backend.cuda;

/**
 * The grid and block of one launch (1-D blocks: no kernel of cuda-kernels uses blockDim.y or z). Computed by the
 * kernel's launcher from the problem sizes, by the rule its .cu file states under "Launch:"; out-of-range extents are
 * left to cuLaunchKernel, whose error names the launch.
 */
record LaunchGeometry(int gridX, int gridY, int gridZ, int threads) {
    /** Elements per 16-byte pack, the unit of work of one thread in the packed kernels. */
    static final int BF16_PACK = 8;
    static final int F32_PACK = 4;

    static LaunchGeometry of(int gridX, int threads) {
        return new LaunchGeometry(gridX, 1, 1, threads);
    }

    static LaunchGeometry of(int gridX, int gridY, int threads) {
        return new LaunchGeometry(gridX, gridY, 1, threads);
    }

    /**
     * Threads for a block whose threads share {@code items} units of work: whole warps, one unit each where possible,
     * between one warp and the 1024-thread limit (the kernels loop when units outnumber threads).
     */
    static int threadsCovering(int items) {
        return Math.min(1024, Math.max(32, (items + 31) / 32 * 32));
    }

    /** Blocks of {@code perBlock} units that cover {@code items}; a grid's x extent is an int. */
    static int blocksCovering(long items, long perBlock) {
        return Math.toIntExact(Math.ceilDiv(items, perBlock));
    }

    @Override
    public String toString() {
        return "grid " + gridX + "x" + gridY + "x" + gridZ + ", block " + threads;
    }
}
