package io.nemotron.service.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "prompt", mixinStandardHelpOptions = true, description = "(being built: see README.md)")
final class PromptCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnsupportedOperationException("prompt is not built yet");
    }
}
