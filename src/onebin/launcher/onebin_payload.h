/* The payload's trailer: where the payload and its sections are, checked against the header
 * hash. Shared by the launcher and the libFuzzer harness (tests/fuzz/); the Python reader is
 * onebin/_runtime/bundle.py. Needs onebin_hash.h first. */
#ifndef ONEBIN_PAYLOAD_H
#define ONEBIN_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TRAILER_MAGIC "\x7fONEBIN\x01"
#define TRAILER_SIZE 104
#define FORMAT_VERSION 7
#define SECTIONS 4

/* A section of the payload; its offset is relative to the payload's start. */
typedef struct {
    uint64_t offset;
    uint64_t size;
} Section;

typedef struct {
    const unsigned char *payload;
    uint64_t payload_offset;
    uint64_t payload_size;
    Section paths, runtime, index, ahead;
} Payload;

static uint64_t
read_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static uint32_t
read_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Finds and checks the payload in a file's bytes; NULL, or a message saying what is wrong. */
static const char *
payload_parse(const unsigned char *file, size_t file_size, Payload *out)
{
    if (file_size < TRAILER_SIZE) {
        return "this executable is damaged (too short to hold a payload); rebuild it";
    }
    const unsigned char *t = file + file_size - TRAILER_SIZE;
    if (memcmp(t, TRAILER_MAGIC, 8) != 0) {
        return "this executable is damaged (no onebin trailer at its end); rebuild it";
    }
    if (read_u32(t + 8) != FORMAT_VERSION) {
        return "this executable's payload has an unknown format version; rebuild it";
    }
    out->payload_offset = read_u64(t + 16);
    out->payload_size = read_u64(t + 24);
    uint64_t limit = file_size - TRAILER_SIZE;
    if (out->payload_offset > limit || out->payload_size != limit - out->payload_offset) {
        return "this executable is damaged (payload size mismatch); rebuild it";
    }
    Section *sections[SECTIONS] = {&out->paths, &out->runtime, &out->index, &out->ahead};
    for (int i = 0; i < SECTIONS; i++) {
        sections[i]->offset = read_u64(t + 32 + 16 * i);
        sections[i]->size = read_u64(t + 40 + 16 * i);
        if (sections[i]->offset > out->payload_size || sections[i]->size > out->payload_size - sections[i]->offset) {
            return "this executable is damaged (a payload section lies outside the file); rebuild it";
        }
    }
    out->payload = file + out->payload_offset;
    /* The trailer, paths, runtime and index are checked now; each blob when first used. */
    uint64_t hash = onebin_hash(t, TRAILER_SIZE - 8, 0);
    for (int i = 0; i < SECTIONS; i++) {
        hash = onebin_hash(out->payload + sections[i]->offset, (size_t)sections[i]->size, hash);
    }
    if (hash != read_u64(t + TRAILER_SIZE - 8)) {
        return "this executable is damaged (header checksum mismatch); rebuild it";
    }
    return NULL;
}

#endif
