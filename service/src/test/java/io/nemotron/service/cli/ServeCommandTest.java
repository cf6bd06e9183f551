package io.nemotron.service.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** serve's flags become Spring properties only when given, so a --config file or the environment sets the rest. */
class ServeCommandTest {

    @Test
    void givenFlagsBecomeSpringProperties() {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--port", "6000", "--http-port", "6002", "--management-port", "6001",
                "--backend", "cpu", "--threads", "2", "--config", "/etc/n.yaml");
        assertThat(serve.springArgs(Path.of("/models/m"))).containsExactly(
                "--nemotron.model.path=/models/m",
                "--nemotron.model.backend=cpu",
                "--nemotron.model.threads=2",
                "--spring.grpc.server.port=6000",
                "--server.port=6002",
                "--management.server.port=6001",
                "--spring.config.additional-location=file:/etc/n.yaml");
    }

    @Test
    void absentFlagsLeaveTheConfigurationAlone() {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs();
        assertThat(serve.springArgs(Path.of("/models/m"))).containsExactly("--nemotron.model.path=/models/m");
    }

    @Test
    void cudaGraphsOnOrOffBecomesTheirPropertyAndAnythingElseIsAnErrorNamingTheFlag() {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--cuda-graphs", "off");
        assertThat(serve.springArgs(Path.of("/models/m"))).containsExactly("--nemotron.model.path=/models/m",
                "--nemotron.model.cuda-graphs=off");
        CliRun run = CliRun.of("serve", "--cuda-graphs", "sometimes");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err().strip()).isEqualTo("error: --cuda-graphs must be on or off, got 'sometimes'");
    }

    @Test
    void kvCacheDtypeBecomesItsPropertyAndAnythingElseIsAnErrorNamingTheFlag() {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--kv-cache-dtype", "FP8");
        assertThat(serve.springArgs(Path.of("/models/m"))).containsExactly("--nemotron.model.path=/models/m",
                "--nemotron.model.kv-cache-dtype=fp8");
        CliRun run = CliRun.of("serve", "--kv-cache-dtype", "int4");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err().strip()).isEqualTo("error: --kv-cache-dtype 'int4' is not one of auto, fp32, bf16, fp8");
    }

    @Test
    void weightCacheFlagsBecomeTheirPropertiesAndABadModeIsAnErrorNamingTheFlag() {
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--weight-cache", "OFF", "--weight-cache-dir", "/var/cache/w");
        assertThat(serve.springArgs(Path.of("/models/m"))).containsExactly("--nemotron.model.path=/models/m",
                "--nemotron.model.weight-cache=off", "--nemotron.model.weight-cache-dir=/var/cache/w");
        CliRun run = CliRun.of("serve", "--weight-cache", "sometimes");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err().strip()).isEqualTo("error: --weight-cache 'sometimes': on or off");
    }

    @Test
    void aMissingModelFolderIsNamedBeforeTheServerStarts() {
        CliRun run = CliRun.of("serve", "--model", "/no/such/model");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--model /no/such/model");
    }
}
