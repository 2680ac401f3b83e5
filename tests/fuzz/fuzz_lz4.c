/* libFuzzer harness for the launcher's LZ4 decoder (onebin_lz4.h): any bytes, as a packed blob
 * that claims an unpacked size, must be rejected or unpacked without a read or write outside
 * the input and the output. The input is the unpacked size (u32, at most 4 MiB), then the blob.
 * Built and run by tests/e2e/test_fuzz_harness.py. */
#include <stdint.h>
#include <stdlib.h>

#include "onebin_lz4.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4) {
        return 0;
    }
    uint32_t raw_size;
    memcpy(&raw_size, data, 4);
    raw_size %= 4u << 20;
    /* Exactly sized buffers, so that AddressSanitizer sees any access past either end. */
    unsigned char *blob = malloc(size - 4 ? size - 4 : 1);
    unsigned char *out = malloc(raw_size ? raw_size : 1);
    memcpy(blob, data + 4, size - 4);
    onebin_lz4_unpack(blob, size - 4, out, raw_size);
    free(out);
    free(blob);
    return 0;
}
