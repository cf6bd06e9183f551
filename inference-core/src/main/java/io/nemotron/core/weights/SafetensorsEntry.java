package io.nemotron.core.weights;

/**
 * One tensor's header entry in a safetensors file, already validated.
 *
 * @param begin offset of the first byte, relative to the start of the data section
 * @param end   offset one past the last byte, relative to the start of the data section
 */
record SafetensorsEntry(String name, DType dtype, long[] shape, long begin, long end) {

    long byteSize() {
        return end - begin;
    }
}
