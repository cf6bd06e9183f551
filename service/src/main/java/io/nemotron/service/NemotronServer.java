package io.nemotron.service;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * The Spring Boot application behind {@code ./nemotron serve} (started by {@code cli.ServeCommand}, not by a main
 * method of its own: the jar's entry point is the CLI).
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class NemotronServer {}
