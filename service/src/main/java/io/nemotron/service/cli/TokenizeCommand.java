package io.nemotron.service.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "(being built: see README.md)")
final class TokenizeCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnsupportedOperationException("tokenize is not built yet");
    }
}
