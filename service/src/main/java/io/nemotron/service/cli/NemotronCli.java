package io.nemotron.service.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ./nemotron} entry point. Subcommands and flags are a contract (DESIGN.md "Command line"):
 * tests, benchmarks and users rely on them. Errors go to stderr as one line naming the bad input,
 * with a non-zero exit code; stack traces only with {@code NEMOTRON_DEBUG=1}.
 */
@Command(name = "nemotron",
        mixinStandardHelpOptions = true,
        version = "nemotron-serve 0.1.0",
        description = "Nemotron Serve: serve and inspect Llama-3.1-Nemotron / nemotron-nas checkpoints.",
        subcommands = {
                GenerateCommand.class,
                TokenizeCommand.class,
                PromptCommand.class,
                InspectCommand.class,
                BenchCommand.class,
                ServeCommand.class,
                ChatCommand.class,
                ToolsCommand.class,
        })
public final class NemotronCli {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI in this JVM and returns its exit code (tests call this directly). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new NemotronCli());
        cli.setExecutionExceptionHandler(new CliErrors());
        return cli.execute(args);
    }
}
