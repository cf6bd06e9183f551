package io.nemotron.service.cli;

import tools.jackson.databind.json.JsonMapper;

/** One compact JSON writer for every command's {@code --output json}. */
final class Json {
    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private Json() {}

    static String write(Object value) {
        return MAPPER.writeValueAsString(value);
    }
}
