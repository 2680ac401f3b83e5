/* Blobs the builder packed with LZ4 (onebin/payload.py, Packer): the stored bytes are a table of
 * u32 little-endian sizes, one per block, then the blocks, each an LZ4 block (the block format
 * of the LZ4 project: sequences of literals and back-references, no frame, no checksum) that
 * unpacks to ONEBIN_BLOCK bytes (the last one to what is left of the blob's unpacked size).
 * Blocks are independent, so that a large library unpacks on several CPUs and through a small
 * buffer. The decoder trusts nothing: every read and write is bounded, and a malformed block
 * is an error, never a crash (the blob's hash is checked too, but possibly in parallel). */
#ifndef ONEBIN_LZ4_H
#define ONEBIN_LZ4_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ONEBIN_BLOCK ((uint64_t)1 << 20)

/* The number of blocks of a blob that unpacks to raw_size bytes. */
static inline uint64_t
onebin_lz4_blocks(uint64_t raw_size)
{
    return (raw_size + ONEBIN_BLOCK - 1) / ONEBIN_BLOCK;
}

/* A length's continuation bytes (after a nibble of 15): each adds its value, and 255 means
 * another follows. Returns 0, or -1 if the input ends first. */
static inline int
onebin_lz4_more(const unsigned char **ip, const unsigned char *iend, size_t *length)
{
    unsigned byte;
    do {
        if (*ip >= iend) {
            return -1;
        }
        byte = *(*ip)++;
        *length += byte;
    } while (byte == 255);
    return 0;
}

/* Unpacks one LZ4 block of src_size bytes into dst, which must come out exactly dst_size bytes
 * long; returns 0, or -1 if the block is malformed. */
static inline int
onebin_lz4_block(const unsigned char *src, size_t src_size, unsigned char *dst, size_t dst_size)
{
    const unsigned char *ip = src, *const iend = src + src_size;
    unsigned char *op = dst, *const oend = dst + dst_size;
    for (;;) {
        if (ip >= iend) {
            return -1;
        }
        unsigned token = *ip++;
        size_t literals = token >> 4;
        if (literals == 15 && onebin_lz4_more(&ip, iend, &literals) != 0) {
            return -1;
        }
        if (literals > (size_t)(iend - ip) || literals > (size_t)(oend - op)) {
            return -1;
        }
        if (literals <= 16 && iend - ip >= 16 && oend - op >= 16) {
            memcpy(op, ip, 16);  /* the bytes past `literals` are overwritten later */
        } else {
            memcpy(op, ip, literals);
        }
        ip += literals;
        op += literals;
        if (ip == iend) {  /* the last sequence has literals only */
            return op == oend ? 0 : -1;
        }
        if (iend - ip < 2) {
            return -1;
        }
        size_t offset = (size_t)ip[0] | ((size_t)ip[1] << 8);
        ip += 2;
        if (offset == 0 || offset > (size_t)(op - dst)) {
            return -1;
        }
        size_t length = token & 15;
        if (length == 15 && onebin_lz4_more(&ip, iend, &length) != 0) {
            return -1;
        }
        length += 4;
        if (length > (size_t)(oend - op)) {
            return -1;
        }
        const unsigned char *match = op - offset;
        unsigned char *end = op + length;
        if (offset >= 16 && (size_t)(oend - end) >= 16) {
            do {  /* 16 bytes at a time, over-copying into what comes next */
                memcpy(op, match, 16);
                op += 16;
                match += 16;
            } while (op < end);
        } else if (offset >= length) {
            memcpy(op, match, length);
        } else {  /* a repeating pattern: copy what is there, doubling each time */
            while (op < end) {
                size_t step = (size_t)(op - match);
                if (step > (size_t)(end - op)) {
                    step = (size_t)(end - op);
                }
                memcpy(op, match, step);
                op += step;
            }
        }
        op = end;
    }
}

/* Whether a packed blob of `size` bytes that claims to unpack to raw_size bytes can: the size
 * table of its blocks fits in it, and no LZ4 block expands more than 255 times (which also
 * keeps every sum of sizes far from overflowing). 0 if so, else -1. */
static inline int
onebin_lz4_table(uint64_t size, uint64_t raw_size)
{
    if (raw_size / 255 > size) {
        return -1;
    }
    return onebin_lz4_blocks(raw_size) <= size / 4 ? 0 : -1;
}

/* The stored size of block i (the table is read as it is: callers bound it). */
static inline uint32_t
onebin_lz4_size(const unsigned char *blob, uint64_t i)
{
    uint32_t v;
    memcpy(&v, blob + 4 * i, 4);
    return v;
}

/* Unpacks a whole packed blob of `size` bytes into dst (raw_size bytes); returns 0 or -1. */
static inline int
onebin_lz4_unpack(const unsigned char *blob, uint64_t size, unsigned char *dst, uint64_t raw_size)
{
    if (onebin_lz4_table(size, raw_size) != 0) {
        return -1;
    }
    uint64_t blocks = onebin_lz4_blocks(raw_size);
    uint64_t at = 4 * blocks;
    for (uint64_t i = 0; i < blocks; i++) {
        uint64_t length = onebin_lz4_size(blob, i);
        uint64_t out = raw_size - i * ONEBIN_BLOCK < ONEBIN_BLOCK ? raw_size - i * ONEBIN_BLOCK : ONEBIN_BLOCK;
        if (length > size - at
            || onebin_lz4_block(blob + at, (size_t)length, dst + i * ONEBIN_BLOCK, (size_t)out) != 0) {
            return -1;
        }
        at += length;
    }
    return at == size ? 0 : -1;
}

#endif
