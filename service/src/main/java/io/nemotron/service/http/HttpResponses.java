package io.nemotron.service.http;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;

/** Writes an {@link ApiError} from a servlet filter, where no Spring MVC return value handling exists. */
final class HttpResponses {
    private HttpResponses() {}

    static void write(HttpServletResponse response, ApiError error) throws IOException {
        response.setStatus(error.status().value());
        response.setContentType(MediaType.APPLICATION_JSON_VALUE);
        if (error.retryAfter() != null) {
            response.setHeader(HttpHeaders.RETRY_AFTER, error.retryAfterSeconds());
        }
        if (error.status().value() == HttpServletResponse.SC_UNAUTHORIZED) {
            response.setHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        }
        byte[] body = error.json().getBytes(StandardCharsets.UTF_8);
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }
}
