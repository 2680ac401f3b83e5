/* libFuzzer harness for the launcher's payload reader (onebin_payload.h): any bytes, as the
 * end of an executable file, must be rejected with a message or accepted with every section
 * inside the input. Built and run by tests/e2e/test_fuzz_harness.py. */
#include <stdint.h>
#include <stdlib.h>

#include "onebin_hash.h"
#include "onebin_payload.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Payload p;
    if (payload_parse(data, size, &p) != NULL) {
        return 0;
    }
    const Section *sections[SECTIONS] = {&p.paths, &p.runtime, &p.index, &p.ahead};
    for (int i = 0; i < SECTIONS; i++) {
        if (sections[i]->size > 0) {
            /* Read the first and last byte: AddressSanitizer catches a section outside the input. */
            volatile unsigned char first = p.payload[sections[i]->offset];
            volatile unsigned char last = p.payload[sections[i]->offset + sections[i]->size - 1];
            (void)first;
            (void)last;
        }
    }
    return 0;
}
