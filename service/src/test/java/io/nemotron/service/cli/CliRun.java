package io.nemotron.service.cli;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Pattern;

/** Runs the CLI in-process and captures stdout, stderr and the exit code. */
record CliRun(int exitCode, String out, String err) {

    static CliRun of(String... args) {
        return withStdin(null, args);
    }

    /** As {@link #of}, with {@code stdin} as System.in for the run (null: System.in is left alone). */
    static synchronized CliRun withStdin(InputStream stdin, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        InputStream oldIn = System.in;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            if (stdin != null) {
                System.setIn(stdin);
            }
            int code = NemotronCli.run(args);
            return new CliRun(code, out.toString(StandardCharsets.UTF_8),
                    withoutOtherThreadsLogLines(err.toString(StandardCharsets.UTF_8)));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
            System.setIn(oldIn);
        }
    }

    /**
     * stderr without the log lines of threads other than this one: System.err is the whole test JVM's, and a server
     * of another test (a Spring context kept for reuse) may still be logging its warm-up while the CLI runs. The
     * CLI's own output, from any thread, is not in logback's form and is kept.
     */
    private static String withoutOtherThreadsLogLines(String err) {
        Pattern otherThread = Pattern.compile("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} +(TRACE|DEBUG|INFO|WARN|ERROR) +\\[(?!"
                + Pattern.quote(Thread.currentThread().getName()) + "\\]).*$\\R?", Pattern.MULTILINE);
        return otherThread.matcher(err).replaceAll("");
    }

    static Path reference(String relative) {
        return io.nemotron.service.testing.SharedReference.path(relative);
    }
}
