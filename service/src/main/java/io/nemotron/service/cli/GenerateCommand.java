package io.nemotron.service.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "generate", mixinStandardHelpOptions = true, description = "(being built: see README.md)")
final class GenerateCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnsupportedOperationException("generate is not built yet");
    }
}
