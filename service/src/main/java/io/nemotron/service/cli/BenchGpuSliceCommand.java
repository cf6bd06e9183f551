package io.nemotron.service.cli;

import io.nemotron.core.bench.GpuSliceBenchmark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench gpu-slice}: the CUDA backend on a slice of Ultra (see README, GPU benchmark); skipped without a GPU. */
@Command(name = "gpu-slice", mixinStandardHelpOptions = true,
        description = "Decode and prefill of a slice of Ultra on GPU 0 (random weights made on the device); JSON out.")
final class BenchGpuSliceCommand implements Callable<Integer> {
    @Option(names = "--spec", defaultValue = "scripts/gpu-slice.json", paramLabel = "FILE",
            description = "the slice (layers, batches, context), shared with scripts/gpu-slice-torch.py")
    Path spec;

    @Option(names = "--ultra-config", paramLabel = "FILE", description = "Ultra's config.json (default: ../shared/reference)")
    Path ultraConfig;

    @Option(names = "--output", defaultValue = "gpu-slice-nemotron.json", paramLabel = "FILE")
    Path output;

    @Override
    public Integer call() throws Exception {
        List<String> args = new ArrayList<>(List.of("--spec", spec.toString(), "--output", output.toString()));
        if (ultraConfig != null) {
            args.addAll(List.of("--ultra-config", ultraConfig.toString()));
        }
        GpuSliceBenchmark.main(args.toArray(String[]::new));
        return 0;
    }
}
