package io.nemotron.core.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Why no GPU can be used, in one line, from JCuda's multi-line load failure. */
class CudaDeviceReasonTest {

    @Test
    void theInnermostUnsatisfiedLinkErrorIsTheReason() {
        // the shape of JCuda 12.6's message when libcuda.so.1 is missing (abridged from a real run)
        String jcuda = String.join("\n",
                "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"",
                "Operating system name: Linux",
                "---(start of nested stack traces)---",
                "Stack trace from the attempt to load the library as a file:",
                "java.lang.UnsatisfiedLinkError: no JCudaDriver-12.6.0-linux-x86_64 in java.library.path: /usr/lib",
                "\tat java.base/java.lang.ClassLoader.loadLibrary(ClassLoader.java:2285)",
                "Stack trace from the attempt to load the library as a resource:",
                "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open"
                        + " shared object file: No such file or directory",
                "\tat java.base/jdk.internal.loader.NativeLibraries.load(Native Method)",
                "---(end of nested stack traces)---");
        assertEquals("/tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared object file: No such"
                + " file or directory", CudaDevice.rootCause(new UnsatisfiedLinkError(jcuda)));
        assertEquals("Could not initialize class jcuda.driver.JCudaDriver",
                CudaDevice.rootCause(new NoClassDefFoundError("Could not initialize class jcuda.driver.JCudaDriver")));
    }
}
