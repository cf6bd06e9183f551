package io.nemotron.service.admission;

/** The client a request is charged to: the authenticated API key's identity. */
final class ClientIds {
    private ClientIds() {}

    static String current() {
        return "anonymous";
    }
}
