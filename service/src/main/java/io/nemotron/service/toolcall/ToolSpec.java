package io.nemotron.service.toolcall;

import tools.jackson.databind.JsonNode;

/**
 * A tool the request offers.
 *
 * @param parameters JSON Schema of the arguments object (BFCL type names such as "dict" and "float" allowed); an
 *                   empty object when the tool declares none
 */
public record ToolSpec(String name, String description, JsonNode parameters) {}
