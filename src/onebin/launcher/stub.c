/* The unpacker that leads an executable built with --compress: it inflates the launcher that
 * follows it into a memfd and executes that, handing it this file (see onebin_stub.h). It links
 * zlib statically and needs nothing but glibc; it writes nothing to disk. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

#include "onebin_hash.h"
#include "onebin_payload.h"
#include "onebin_stub.h"

#ifndef F_ADD_SEALS  /* glibc before 2.27 */
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif
#ifndef MFD_EXEC  /* Linux 6.3 */
#define MFD_EXEC 0x0010U
#endif
#define ALL_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

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

/* The launcher's blocks (onebin_stub.h), inflated by as many threads as there are CPUs. */
typedef struct {
    const unsigned char *in[STUB_MAX_BLOCKS];
    uint64_t in_size[STUB_MAX_BLOCKS];
    unsigned char *out;
    uint64_t unpacked;
    int count;
    int next;   /* the next block to take (atomic) */
    int failed; /* atomic */
} Blocks;

static int
inflate_block(const unsigned char *in, uint64_t size, unsigned char *out, uint64_t unpacked)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit(&z) != Z_OK) {
        return 0;
    }
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)unpacked;
    int ok = inflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out == unpacked && z.total_in == size;
    inflateEnd(&z);
    return ok;
}

static void *
inflate_blocks(void *arg)
{
    Blocks *b = arg;
    int i;
    while ((i = __atomic_fetch_add(&b->next, 1, __ATOMIC_SEQ_CST)) < b->count) {
        uint64_t at = (uint64_t)i * STUB_BLOCK, length = b->unpacked - at < STUB_BLOCK ? b->unpacked - at : STUB_BLOCK;
        if (!inflate_block(b->in[i], b->in_size[i], b->out + at, length)) {
            __atomic_store_n(&b->failed, 1, __ATOMIC_SEQ_CST);
        }
    }
    return NULL;
}

/* Inflates the blocks at data (size bytes) into fd, a memfd of length unpacked; 0 on success. */
static int
inflate_into(int fd, const unsigned char *data, uint64_t size, uint64_t unpacked)
{
    Blocks b = {.unpacked = unpacked, .count = (int)((unpacked + STUB_BLOCK - 1) / STUB_BLOCK)};
    uint64_t at = 4 * (uint64_t)b.count;
    if (b.count > STUB_MAX_BLOCKS || at > size) {
        return -1;
    }
    for (int i = 0; i < b.count; i++) {
        b.in_size[i] = read_u32(data + 4 * i);
        if (b.in_size[i] > size - at) {
            return -1;
        }
        b.in[i] = data + at;
        at += b.in_size[i];
    }
    if (at != size || ftruncate(fd, (off_t)unpacked) != 0) {
        return -1;
    }
    b.out = mmap(NULL, unpacked, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (b.out == MAP_FAILED) {
        return -1;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    pthread_t threads[STUB_MAX_BLOCKS];
    int started = 0;
    for (long i = 1; i < cpus && i < b.count; i++) {
        if (pthread_create(&threads[started], NULL, inflate_blocks, &b) == 0) {
            started++;
        }
    }
    inflate_blocks(&b);
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    munmap(b.out, unpacked);
    return b.failed ? -1 : 0;
}

/* The sealed memfd of the launcher that the parent process runs, if it is this file's (a child
 * of the app: multiprocessing's workers, sys.executable), opened to be run as it is: no inflating,
 * and its pages are shared. Else -1. */
static int
parents_launcher(const char *name, uint64_t unpacked)
{
    char path[64], link[128], expected[128];
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)getppid());
    snprintf(expected, sizeof(expected), "/memfd:%s (deleted)", name);
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    if (n <= 0 || (size_t)n != strlen(expected) || memcmp(link, expected, (size_t)n) != 0) {
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    /* What was opened, if the parent ended meanwhile and its pid was taken, is checked too. */
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    n = readlink(path, link, sizeof(link) - 1);
    struct stat st;
    if (n <= 0 || (size_t)n != strlen(expected) || memcmp(link, expected, (size_t)n) != 0
        || fcntl(fd, F_GET_SEALS) != ALL_SEALS || fstat(fd, &st) != 0 || (uint64_t)st.st_size != unpacked) {
        close(fd);
        return -1;
    }
    return fd;
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
    uint64_t payload_offset = read_u64(trailer + 16);
    if (payload_offset < STUB_FOOTER_SIZE || payload_offset > (uint64_t)st.st_size - TRAILER_SIZE) {
        return damaged("payload size mismatch");
    }
    const unsigned char *footer = file + payload_offset - STUB_FOOTER_SIZE;
    uint64_t at = read_u64(footer + 8), size = read_u64(footer + 16), unpacked = read_u64(footer + 24);
    if (memcmp(footer, STUB_FOOTER_MAGIC, 8) != 0 || at > payload_offset - STUB_FOOTER_SIZE
        || size > payload_offset - STUB_FOOTER_SIZE - at || unpacked == 0
        || unpacked > (uint64_t)STUB_MAX_BLOCKS * STUB_BLOCK) {
        return damaged("no launcher after the unpacker");
    }
    char name[64];
    snprintf(name, sizeof(name), STUB_MEMFD_NAME "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    int memfd = parents_launcher(name, unpacked);
    if (memfd < 0) {
        /* Executable, also where memfds are not by default (vm.memfd_noexec=1); before Linux 6.3
         * the flag is unknown (EINVAL), and every memfd is. */
        memfd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        if (memfd < 0 && errno == EINVAL) {
            memfd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        }
        if (memfd < 0) {
            fprintf(stderr, "%s: cannot create a memfd for the launcher: %s\n", self_name, strerror(errno));
            return 2;
        }
        if (inflate_into(memfd, file + at, size, unpacked) != 0) {
            return damaged("its launcher cannot be inflated");
        }
        /* Sealed, the app's child processes of this file may run it as it is (parents_launcher). */
        fcntl(memfd, F_ADD_SEALS, ALL_SEALS);
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
