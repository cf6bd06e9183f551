package io.nemotron.service.cli;

import picocli.CommandLine;

/** Turns any failure of a subcommand into one clear stderr line and exit code 1 (no stack trace for users). */
final class CliErrors implements CommandLine.IExecutionExceptionHandler {
    static final int EXIT_ERROR = 1;

    @Override
    public int handleExecutionException(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        cli.getErr().println("error: " + message);
        if ("1".equals(System.getenv("NEMOTRON_DEBUG"))) {
            e.printStackTrace(cli.getErr());
        }
        cli.getErr().flush();
        return EXIT_ERROR;
    }
}
