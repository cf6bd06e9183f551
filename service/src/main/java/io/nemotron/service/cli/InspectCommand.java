package io.nemotron.service.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "inspect", mixinStandardHelpOptions = true, description = "(being built: see README.md)")
final class InspectCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnsupportedOperationException("inspect is not built yet");
    }
}
