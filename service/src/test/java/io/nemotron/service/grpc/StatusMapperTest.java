package io.nemotron.service.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.Status;
import io.nemotron.core.chat.ChatRequestException;
import io.nemotron.core.engine.InvalidRequestException;
import org.junit.jupiter.api.Test;

/** Only a request error is the client's fault; an IllegalArgumentException from anywhere else is a bug (issue 18). */
class StatusMapperTest {
    @Test
    void requestErrorsAreInvalidArgumentNamingTheField() {
        InvalidRequestException e = new InvalidRequestException("max_tokens: must be >= 1, got 0");
        assertEquals("max_tokens", e.field());
        Status s = StatusMapper.toStatus(e);
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode());
        assertEquals("max_tokens: must be >= 1, got 0", s.getDescription());
        assertEquals(Status.Code.INVALID_ARGUMENT, StatusMapper.toStatus(new ChatRequestException("messages: required")).getCode());
    }

    @Test
    void aBareIllegalArgumentExceptionIsInternal() {
        Status s = StatusMapper.toStatus(new IllegalArgumentException("index 3 out of bounds"));
        assertEquals(Status.Code.INTERNAL, s.getCode());
    }

    @Test
    void aRequestErrorMustNameItsField() {
        assertThrows(IllegalStateException.class, () -> new InvalidRequestException("no field here"));
    }
}
