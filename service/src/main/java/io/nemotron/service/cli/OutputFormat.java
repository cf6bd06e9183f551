package io.nemotron.service.cli;

import picocli.CommandLine.Option;

/** The {@code --output text|json} option the commands share, as a picocli mixin. */
final class OutputFormat {
    @Option(names = "--output", defaultValue = "text", paramLabel = "text|json",
            description = "output format: text or json (default ${DEFAULT-VALUE})")
    String value;

    /** True for json, false for text; anything else is refused with a message naming the option. */
    boolean json() {
        return switch (value) {
            case "json" -> true;
            case "text" -> false;
            default -> throw new IllegalArgumentException("--output must be text or json, got '" + value + "'");
        };
    }
}
