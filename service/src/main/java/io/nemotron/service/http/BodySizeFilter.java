package io.nemotron.service.http;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The same request-size ceiling as gRPC's ({@code nemotron.grpc.max-request-size}): a body over it is refused with
 * 400 naming {@code body}, from its Content-Length at once, or, for a chunked body, when reading passes the limit
 * (so a client cannot make the server buffer an unbounded body).
 */
final class BodySizeFilter extends OncePerRequestFilter {
    private final long maxBytes;

    BodySizeFilter(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (request.getContentLengthLong() > maxBytes) {
            HttpResponses.write(response, tooLarge(request.getContentLengthLong()));
            return;
        }
        chain.doFilter(new Limited(request), response);
    }

    private ApiError tooLarge(long bytes) {
        return ApiError.invalid("body", "body: " + (bytes < 0 ? "more than " + maxBytes : bytes)
                + " bytes, over nemotron.grpc.max-request-size (" + maxBytes + " bytes)");
    }

    /** Thrown when a chunked body passes the limit; the controller's error handler answers 400 for it. */
    static final class BodyTooLargeException extends IOException {
        BodyTooLargeException(String message) {
            super(message);
        }
    }

    private final class Limited extends HttpServletRequestWrapper {
        Limited(HttpServletRequest request) {
            super(request);
        }

        @Override
        public ServletInputStream getInputStream() throws IOException {
            ServletInputStream in = super.getInputStream();
            return new ServletInputStream() {
                private long read;

                @Override
                public int read() throws IOException {
                    int b = in.read();
                    if (b >= 0) {
                        count(1);
                    }
                    return b;
                }

                @Override
                public int read(byte[] buf, int off, int len) throws IOException {
                    int n = in.read(buf, off, len);
                    if (n > 0) {
                        count(n);
                    }
                    return n;
                }

                private void count(int n) throws IOException {
                    read += n;
                    if (read > maxBytes) {
                        throw new BodyTooLargeException(tooLarge(-1).message());
                    }
                }

                @Override
                public boolean isFinished() {
                    return in.isFinished();
                }

                @Override
                public boolean isReady() {
                    return in.isReady();
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    in.setReadListener(listener);
                }
            };
        }
    }
}
