package io.nemotron.service.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.grpc.MethodDescriptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import com.google.protobuf.Message;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;

/**
 * Turns requests protobuf cannot or should not parse into INVALID_ARGUMENT naming the field.
 * <p>
 * grpc-java parses a request before any interceptor sees it, and a parse failure there (protobuf-java rejects
 * invalid UTF-8 in proto3 {@code string} fields) reaches the client as UNKNOWN "Application error processing RPC".
 * So the service is rebound to take raw bytes ({@link ServerInterceptors#useMarshalledMessages}) and parsing moves
 * into the call's listener, where Spring gRPC's exception handling ({@link StatusMapper}) sees the error; the
 * parsing marshaller checks the size first and, on a failed parse, walks the wire format to name the bad field.
 */
public final class RequestGuard {
    private final long maxRequestBytes;

    public RequestGuard(long maxRequestBytes) {
        this.maxRequestBytes = maxRequestBytes;
    }

    public ServerServiceDefinition guard(ServerServiceDefinition service) {
        ServiceDescriptor original = service.getServiceDescriptor();
        ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
                .setSchemaDescriptor(original.getSchemaDescriptor()); // reflection reads the .proto from here
        Map<String, ServerMethodDefinition<?, ?>> methods = new HashMap<>();
        for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
            ServerMethodDefinition<?, ?> checked = withCheckedRequests(m);
            descriptor.addMethod(checked.getMethodDescriptor());
            methods.put(m.getMethodDescriptor().getFullMethodName(), checked);
        }
        ServerServiceDefinition.Builder out = ServerServiceDefinition.builder(descriptor.build());
        methods.values().forEach(out::addMethod);
        return ServerInterceptors.useMarshalledMessages(out.build(), BytesMarshaller.INSTANCE);
    }

    @SuppressWarnings("unchecked")
    private <Q, R> ServerMethodDefinition<Q, R> withCheckedRequests(ServerMethodDefinition<Q, R> m) {
        MethodDescriptor<Q, R> md = m.getMethodDescriptor();
        var prototype = (MethodDescriptor.PrototypeMarshaller<Q>) md.getRequestMarshaller();
        Message defaultInstance = (Message) prototype.getMessagePrototype();
        MethodDescriptor<Q, R> checked = md.toBuilder()
                .setRequestMarshaller(new CheckedMarshaller<>(prototype, defaultInstance.getDescriptorForType()))
                .build();
        return ServerMethodDefinition.create(checked, m.getServerCallHandler());
    }

    private final class CheckedMarshaller<Q> implements MethodDescriptor.Marshaller<Q> {
        private final MethodDescriptor.Marshaller<Q> delegate;
        private final Descriptor type;

        CheckedMarshaller(MethodDescriptor.Marshaller<Q> delegate, Descriptor type) {
            this.delegate = delegate;
            this.type = type;
        }

        @Override
        public InputStream stream(Q value) {
            return delegate.stream(value);
        }

        @Override
        public Q parse(InputStream stream) {
            byte[] bytes = BytesMarshaller.INSTANCE.parse(stream);
            if (bytes.length > maxRequestBytes) {
                throw Status.INVALID_ARGUMENT.withDescription(largestField(bytes, type) + ": the request is "
                        + bytes.length + " bytes, over nemotron.grpc.max-request-size (" + maxRequestBytes + ")")
                        .asRuntimeException();
            }
            try {
                return delegate.parse(new ByteArrayInputStream(bytes));
            } catch (RuntimeException e) {
                String field = invalidUtf8Field(bytes, type, "");
                if (field == null) {
                    throw Status.INVALID_ARGUMENT.withDescription("request: not a valid " + type.getFullName()
                            + " message").withCause(e).asRuntimeException();
                }
                throw Status.INVALID_ARGUMENT.withDescription(field + ": invalid UTF-8").asRuntimeException();
            }
        }
    }

    /** The path of the first string field holding invalid UTF-8 (e.g. {@code messages[1].content}), or null. */
    static String invalidUtf8Field(byte[] bytes, Descriptor type, String prefix) {
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            Map<Integer, Integer> seen = new HashMap<>();
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                FieldDescriptor f = type.findFieldByNumber(WireFormat.getTagFieldNumber(tag));
                if (f == null || WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    in.skipField(tag);
                    continue;
                }
                int index = seen.merge(f.getNumber(), 1, Integer::sum) - 1;
                String path = prefix + f.getName() + (f.isRepeated() ? "[" + index + "]" : "");
                ByteString value = in.readBytes();
                if (f.getType() == FieldDescriptor.Type.STRING && !value.isValidUtf8()) {
                    return path;
                }
                if (f.getType() == FieldDescriptor.Type.MESSAGE) {
                    String inner = invalidUtf8Field(value.toByteArray(), f.getMessageType(), path + ".");
                    if (inner != null) {
                        return inner;
                    }
                }
            }
        } catch (IOException e) {
            return null; // malformed wire data, not a UTF-8 problem: the caller reports the message as invalid
        }
        return null;
    }

    /** The top-level field with the most bytes: what a client must shrink. */
    static String largestField(byte[] bytes, Descriptor type) {
        Map<String, Long> sizes = new HashMap<>();
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setSizeLimit(Integer.MAX_VALUE);
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                int before = in.getTotalBytesRead();
                in.skipField(tag);
                FieldDescriptor f = type.findFieldByNumber(WireFormat.getTagFieldNumber(tag));
                String name = f != null ? f.getName() : "field " + WireFormat.getTagFieldNumber(tag);
                sizes.merge(name, (long) in.getTotalBytesRead() - before, Long::sum);
            }
        } catch (InvalidProtocolBufferException e) {
            // sizes so far are still the best answer
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return sizes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("request");
    }

    /** Passes messages through as bytes: the real parse happens in the call's listener. */
    private enum BytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
        INSTANCE;

        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try (stream) {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw Status.INTERNAL.withDescription("reading the request: " + e.getMessage()).asRuntimeException();
            }
        }
    }
}
