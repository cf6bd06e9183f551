package io.nemotron.service.cli;

import picocli.CommandLine.Command;

/** {@code ./nemotron tools}: offline tools around function calling. */
@Command(name = "tools", mixinStandardHelpOptions = true,
        description = "Function-calling tools.",
        subcommands = ToolsParseCommand.class)
final class ToolsCommand {}
