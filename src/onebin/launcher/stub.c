/* The unpacker that leads an executable built with --compress: it inflates the launcher that
 * follows it into a memfd and executes that, handing it this file (see onebin_stub.h). It links
 * zlib statically and needs nothing but glibc; it writes nothing to disk. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include "onebin_stub.h"

#define TRAILER_MAGIC "\x7fONEBIN\x01"  /* onebin_payload.h */
#define TRAILER_SIZE 104

static const char *self_name = "onebin";

static int
fail(const char *problem)
{
    fprintf(stderr, "%s: %s\n", self_name, problem);
    return 2;
}

static int
damaged(const char *what)
{
    fprintf(stderr, "%s: this executable is damaged (%s); rebuild it\n", self_name, what);
    return 2;
}

static uint64_t
u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* Inflates size bytes at data into fd, a memfd of length unpacked; 0 on success. */
static int
inflate_into(int fd, const unsigned char *data, uint64_t size, uint64_t unpacked)
{
    if (ftruncate(fd, (off_t)unpacked) != 0) {
        return -1;
    }
    unsigned char *out = mmap(NULL, unpacked, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (out == MAP_FAILED) {
        return -1;
    }
    z_stream z;
    memset(&z, 0, sizeof(z));
    int ok = inflateInit(&z) == Z_OK;
    z.next_in = (unsigned char *)data;
    z.next_out = out;
    /* zlib counts in uInt: a launcher is a few megabytes */
    z.avail_in = (uInt)size;
    z.avail_out = (uInt)unpacked;
    ok = ok && size == z.avail_in && unpacked == z.avail_out && inflate(&z, Z_FINISH) == Z_STREAM_END
         && z.total_out == unpacked && z.total_in == size;
    inflateEnd(&z);
    munmap(out, unpacked);
    return ok ? 0 : -1;
}

int
main(int argc, char **argv, char **envp)
{
    (void)argc;
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    if (argv[0] != NULL) {
        self_name = argv[0];
    }
    int fd = open("/proc/self/exe", O_RDONLY);  /* not close-on-exec: the launcher takes it */
    char real[4096];
    if (fd < 0 && execfn != NULL && realpath(execfn, real) != NULL) {
        fd = open(real, O_RDONLY);  /* no /proc: the path this process was started by */
    }
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        return fail("cannot open this executable's file: mount /proc, or run it by its path");
    }
    if ((uint64_t)st.st_size < TRAILER_SIZE + STUB_FOOTER_SIZE) {
        return damaged("too short to hold a payload");
    }
    unsigned char *file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (file == MAP_FAILED) {
        return fail("cannot map this executable into memory");
    }
    const unsigned char *trailer = file + st.st_size - TRAILER_SIZE;
    if (memcmp(trailer, TRAILER_MAGIC, 8) != 0) {
        return damaged("no onebin trailer at its end");
    }
    uint64_t payload_offset = u64(trailer + 16);
    if (payload_offset < STUB_FOOTER_SIZE || payload_offset > (uint64_t)st.st_size - TRAILER_SIZE) {
        return damaged("payload size mismatch");
    }
    const unsigned char *footer = file + payload_offset - STUB_FOOTER_SIZE;
    uint64_t at = u64(footer + 8), size = u64(footer + 16), unpacked = u64(footer + 24);
    if (memcmp(footer, STUB_FOOTER_MAGIC, 8) != 0 || at > payload_offset - STUB_FOOTER_SIZE
        || size > payload_offset - STUB_FOOTER_SIZE - at || unpacked == 0 || unpacked > (1u << 30)) {
        return damaged("no launcher after the unpacker");
    }
    char name[64];
    snprintf(name, sizeof(name), STUB_MEMFD_NAME "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    int memfd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC);
    if (memfd < 0) {
        fprintf(stderr, "%s: cannot create a memfd for the launcher: %s\n", self_name, strerror(errno));
        return 2;
    }
    if (inflate_into(memfd, file + at, size, unpacked) != 0) {
        return damaged("its launcher cannot be inflated");
    }
    munmap(file, (size_t)st.st_size);

    /* The environment, with STUB_ENV (any inherited one dropped) for the launcher. */
    size_t count = 0;
    while (envp[count] != NULL) {
        count++;
    }
    char **env = malloc((count + 2) * sizeof(char *));
    size_t handoff_size = strlen(STUB_ENV) + 32 + (execfn ? strlen(execfn) : 0);
    char *handoff = malloc(handoff_size);
    if (env == NULL || handoff == NULL) {
        return fail("out of memory");
    }
    snprintf(handoff, handoff_size, "%s=%d:%s", STUB_ENV, fd, execfn ? execfn : "");
    size_t n = 0;
    env[n++] = handoff;
    for (size_t i = 0; i < count; i++) {
        if (strncmp(envp[i], STUB_ENV "=", sizeof(STUB_ENV)) != 0) {
            env[n++] = envp[i];
        }
    }
    env[n] = NULL;
    syscall(SYS_execveat, memfd, "", argv, env, AT_EMPTY_PATH);
    fprintf(stderr, "%s: cannot run the unpacked launcher: %s\n", self_name, strerror(errno));
    return 2;
}
