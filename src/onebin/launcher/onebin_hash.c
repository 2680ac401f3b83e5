/* The payload hash as a shared library, for the builder (loaded with ctypes by hashing.py). */
#include "onebin_hash.h"

uint64_t
onebin_hash_buffer(const void *data, size_t len, uint64_t seed)
{
    return onebin_hash(data, len, seed);
}
