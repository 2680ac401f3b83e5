/* The payload's checksum: XXH64 (as specified by the xxHash project) over 1 MiB chunks, each
 * chunk's hash the seed of the next. Chunks let the launcher check a large library a piece at
 * a time and drop each piece's pages once read. This file is shared by the launcher and by
 * the small library the builder loads with ctypes (see hashing.py), so both compute the same. */
#ifndef ONEBIN_HASH_H
#define ONEBIN_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ONEBIN_HASH_CHUNK ((size_t)1 << 20)

static const uint64_t XXH_P1 = 0x9E3779B185EBCA87ULL;
static const uint64_t XXH_P2 = 0xC2B2AE3D27D4EB4FULL;
static const uint64_t XXH_P3 = 0x165667B19E3779F9ULL;
static const uint64_t XXH_P4 = 0x85EBCA77C2B2AE63ULL;
static const uint64_t XXH_P5 = 0x27D4EB2F165667C5ULL;

static inline uint64_t xxh_rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t xxh_read64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);  /* little-endian hosts only, as the rest of onebin */
    return v;
}

static inline uint64_t xxh_read32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t xxh_round(uint64_t acc, uint64_t input)
{
    acc += input * XXH_P2;
    acc = xxh_rotl(acc, 31);
    return acc * XXH_P1;
}

static inline uint64_t xxh_merge(uint64_t acc, uint64_t val)
{
    acc ^= xxh_round(0, val);
    return acc * XXH_P1 + XXH_P4;
}

static uint64_t
xxh64(const unsigned char *p, size_t len, uint64_t seed)
{
    const unsigned char *end = p + len;
    uint64_t h;
    if (len >= 32) {
        const unsigned char *limit = end - 32;
        uint64_t v1 = seed + XXH_P1 + XXH_P2, v2 = seed + XXH_P2, v3 = seed, v4 = seed - XXH_P1;
        do {
            v1 = xxh_round(v1, xxh_read64(p));
            v2 = xxh_round(v2, xxh_read64(p + 8));
            v3 = xxh_round(v3, xxh_read64(p + 16));
            v4 = xxh_round(v4, xxh_read64(p + 24));
            p += 32;
        } while (p <= limit);
        h = xxh_rotl(v1, 1) + xxh_rotl(v2, 7) + xxh_rotl(v3, 12) + xxh_rotl(v4, 18);
        h = xxh_merge(h, v1);
        h = xxh_merge(h, v2);
        h = xxh_merge(h, v3);
        h = xxh_merge(h, v4);
    } else {
        h = seed + XXH_P5;
    }
    h += (uint64_t)len;
    while (p + 8 <= end) {
        h ^= xxh_round(0, xxh_read64(p));
        h = xxh_rotl(h, 27) * XXH_P1 + XXH_P4;
        p += 8;
    }
    if (p + 4 <= end) {
        h ^= xxh_read32(p) * XXH_P1;
        h = xxh_rotl(h, 23) * XXH_P2 + XXH_P3;
        p += 4;
    }
    while (p < end) {
        h ^= (uint64_t)(*p) * XXH_P5;
        h = xxh_rotl(h, 11) * XXH_P1;
        p++;
    }
    h ^= h >> 33;
    h *= XXH_P2;
    h ^= h >> 29;
    h *= XXH_P3;
    h ^= h >> 32;
    return h;
}

/* The hash of one chunk of a blob, given the hash of the chunks before it (0 at the start). */
static inline uint64_t
onebin_hash_chunk(uint64_t seed, const unsigned char *p, size_t n)
{
    return xxh64(p, n, seed);
}

/* The hash of ``len`` bytes continuing from ``seed``: chunk by chunk. An empty input hashes
 * as one empty chunk, so that every input changes the state. */
static uint64_t
onebin_hash(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = onebin_hash_chunk(seed, p, len < ONEBIN_HASH_CHUNK ? len : ONEBIN_HASH_CHUNK);
    for (size_t done = ONEBIN_HASH_CHUNK; done < len; done += ONEBIN_HASH_CHUNK) {
        size_t n = len - done < ONEBIN_HASH_CHUNK ? len - done : ONEBIN_HASH_CHUNK;
        h = onebin_hash_chunk(h, p + done, n);
    }
    return h;
}

#endif
