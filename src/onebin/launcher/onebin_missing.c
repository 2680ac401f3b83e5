/* A missing file under this executable's path is missing, as it would be under a venv's prefix.
 *
 * The app's modules have paths inside this file (<exe>/lib/python3.X/site-packages/pkg/x.py). Code
 * that opens or stats a file beside its module that the bundle does not hold, or that is not
 * written to the cache, reaches the executable as a path component: the kernel says ENOTDIR, and
 * Python raises NotADirectoryError, which `except FileNotFoundError:` does not catch (an optional
 * file beside a package: a venv raises FileNotFoundError, and the app goes on). The launcher
 * defines the C library's functions CPython opens, stats and lists paths with; each calls the C
 * library's own and, when it fails with ENOTDIR on a path through this file, says ENOENT instead.
 * Exported (the launcher links with --export-dynamic), they serve extension modules too.
 *
 * Compiled apart from launcher.c, without Python.h: with _FORTIFY_SOURCE (Ubuntu's default), the C
 * library's headers define some of these names as inline wrappers, which this file must not see. */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "onebin_missing.h"

static char executable[4096];  /* this file's path, then its spelling as <dir>/./<name> */
static char interpreter[4096];
static size_t executable_length, interpreter_length;

void
onebin_missing_under(const char *path, const char *spelled)
{
    executable_length = strlen(path) < sizeof(executable) ? strlen(path) : 0;
    memcpy(executable, path, executable_length);
    interpreter_length = strlen(spelled) < sizeof(interpreter) ? strlen(spelled) : 0;
    memcpy(interpreter, spelled, interpreter_length);
}

static int
through_this_file(const char *path)
{
    return path != NULL
           && ((executable_length > 0 && strncmp(path, executable, executable_length) == 0
                && path[executable_length] == '/')
               || (interpreter_length > 0 && strncmp(path, interpreter, interpreter_length) == 0
                   && path[interpreter_length] == '/'));
}

/* errno as a venv's prefix would give it: ENOENT for ENOTDIR on a path through this file. */
static void
as_missing(const char *path)
{
    if (errno == ENOTDIR && through_this_file(path)) {
        errno = ENOENT;
    }
}

/* The C library's definition of `name`: the next one after this executable's. */
static void *
next(void **cached, const char *name)
{
    void *found = __atomic_load_n(cached, __ATOMIC_ACQUIRE);
    if (found == NULL) {
        found = dlsym(RTLD_NEXT, name);
        __atomic_store_n(cached, found, __ATOMIC_RELEASE);
    }
    return found;
}

#define NEXT(name)                                                           \
    static void *name##_cached;                                              \
    __typeof__(&name) real = (__typeof__(&name))next(&name##_cached, #name); \
    if (real == NULL) {                                                      \
        errno = ENOSYS;                                                      \
    }

static mode_t
mode_argument(int flags, va_list args)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(args, mode_t) : 0;
}

int
open64(const char *path, int flags, ...)
{
    va_list args;
    va_start(args, flags);
    mode_t mode = mode_argument(flags, args);
    va_end(args);
    NEXT(open64)
    int fd = real != NULL ? real(path, flags, mode) : -1;
    if (fd < 0) {
        as_missing(path);
    }
    return fd;
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
    va_list args;
    va_start(args, flags);
    mode_t mode = mode_argument(flags, args);
    va_end(args);
    NEXT(openat64)
    int fd = real != NULL ? real(dirfd, path, flags, mode) : -1;
    if (fd < 0) {
        as_missing(path);
    }
    return fd;
}

FILE *
fopen64(const char *path, const char *how)
{
    NEXT(fopen64)
    FILE *file = real != NULL ? real(path, how) : NULL;
    if (file == NULL) {
        as_missing(path);
    }
    return file;
}

int
stat64(const char *path, struct stat64 *buffer)
{
    NEXT(stat64)
    int result = real != NULL ? real(path, buffer) : -1;
    if (result != 0) {
        as_missing(path);
    }
    return result;
}

int
lstat64(const char *path, struct stat64 *buffer)
{
    NEXT(lstat64)
    int result = real != NULL ? real(path, buffer) : -1;
    if (result != 0) {
        as_missing(path);
    }
    return result;
}

int
fstatat64(int dirfd, const char *path, struct stat64 *buffer, int flags)
{
    NEXT(fstatat64)
    int result = real != NULL ? real(dirfd, path, buffer, flags) : -1;
    if (result != 0) {
        as_missing(path);
    }
    return result;
}

DIR *
opendir(const char *path)
{
    NEXT(opendir)
    DIR *directory = real != NULL ? real(path) : NULL;
    if (directory == NULL) {
        as_missing(path);
    }
    return directory;
}
