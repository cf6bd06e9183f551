package io.nemotron.service.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code ./nemotron bench ...}: benchmarks whose numbers README and issue notes quote. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks.",
        subcommands = {BenchDecodeCommand.class, BenchOfflineCommand.class, BenchStepCommand.class,
                BenchServeCommand.class, BenchGpuSliceCommand.class, BenchMemoryCommand.class})
final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
