/* onebin launcher: runs the Python application whose payload is appended to this file.
 *
 * The file is this program, then the payload, then a fixed-size trailer that says where the
 * payload's sections are (see onebin/_runtime/bundle.py, which reads the same trailer).
 * Start-up is CPython's multi-phase initialisation:
 *
 *   1. core phase: builtins and frozen importlib only;
 *   2. run the embedded runtime (_onebin_runtime.*), whose bootstrap registers the path hook
 *      that serves the bundle's virtual sys.path entries from memory;
 *   3. main phase: CPython imports `encodings` and the rest through that hook;
 *   4. run the app's __main__ code, then exit as `python app.py` would.
 *
 * C is kept to what cannot be Python: finding the payload, configuring the interpreter, and
 * a dlopen() entry point for loading shared libraries from memfds.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>
#include <structmember.h> /* PyMemberDef, before 3.12 */

#include <dirent.h>
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/sendfile.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "onebin_internal.h"
#include "onebin_missing.h"
#include "onebin_hash.h"
#include "onebin_lz4.h"
#include "onebin_payload.h"
#include "onebin_stub.h"

#if PY_VERSION_HEX < 0x030A0000
#error "onebin needs CPython 3.10 or newer"
#endif


typedef struct {
    const unsigned char *file;   /* the whole executable, mapped read-only */
    size_t file_size;
    const unsigned char *payload;
    uint64_t payload_offset;
    uint64_t payload_size;
    Section paths;    /* newline-separated sys.path roots, relative to the executable */
    Section runtime;  /* marshalled ((name, package, marshalled code), ...) */
    Section index;    /* marshalled index, read by the runtime */
    Section ahead;    /* what the app's first imports need, prepared by another thread */
    char executable[PATH_MAX];   /* this file's real path */
    dev_t dev;                   /* and its identity (this file, not the --compress launcher's memfd) */
    ino_t ino;
    char interpreter[PATH_MAX];  /* the same file, spelled <dir>/./<name>: sys.executable */
    char venv[PATH_MAX];         /* started as a virtual environment's python: its directory */
    char venv_python[PATH_MAX];  /* and that python's absolute path, its sys.executable */
    int venv_system_site;        /* and whether its pyvenv.cfg includes system site packages */
} Bundle;

static Bundle bundle;

/* What the --compress unpacker handed on (onebin_stub.h), when it started this launcher: this
 * file, open, and the path it was started by. The launcher then runs from a memfd, so
 * /proc/self/exe and AT_EXECFN name that memfd, not this file. */
static struct {
    int active;
    int fd;  /* until bundle_open() has mapped it */
    char *execfn;
} handoff = {0, -1, NULL};

/* Takes the unpacker's handoff, if this process runs the launcher it unpacked (a memfd of that
 * name); the variable leaves the environment either way. The kernel named the process after
 * the memfd's descriptor: it gets the name it would have had. */
static void
handoff_take(void)
{
    const char *value = getenv(STUB_ENV);
    if (value == NULL) {
        return;
    }
    char link[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", link, sizeof(link) - 1);
    link[n > 0 ? n : 0] = '\0';
    char *end = NULL;
    long fd = strtol(value, &end, 10);
    if ((n < 0 || strncmp(link, "/memfd:" STUB_MEMFD_NAME, strlen("/memfd:" STUB_MEMFD_NAME)) == 0)
        && end != value && *end == ':' && fd >= 0 && fd < INT_MAX && fcntl((int)fd, F_SETFD, FD_CLOEXEC) == 0) {
        handoff.active = 1;
        handoff.fd = (int)fd;
        handoff.execfn = strdup(end + 1);
        const char *base = handoff.execfn != NULL ? strrchr(handoff.execfn, '/') : NULL;
        base = base != NULL ? base + 1 : handoff.execfn;
        if (base != NULL && base[0] != '\0') {
            prctl(PR_SET_NAME, base, 0, 0, 0);
        }
    }
    unsetenv(STUB_ENV);
}

/* The path this process was started by, as the kernel passed it on (AT_EXECFN), or NULL. */
static const char *
started_by(void)
{
    return handoff.active ? handoff.execfn : (const char *)getauxval(AT_EXECFN);
}


/* A damaged payload ends the process at once with one line: nothing of it can be trusted. */
static void
die_damaged(const char *what)
{
    fprintf(stderr, "%s: this executable is damaged (%s); rebuild it\n", bundle.executable, what);
    fflush(stderr);
    _exit(2);
}

/* Maps this executable and locates its payload; returns NULL or a message saying what is wrong. */
static const char *
bundle_open(Bundle *b)
{
    char self[64] = "/proc/self/exe";
    if (handoff.fd >= 0) {
        snprintf(self, sizeof(self), "/proc/self/fd/%d", handoff.fd);
    }
    ssize_t n = readlink(self, b->executable, sizeof(b->executable) - 1);
    if (n >= 0) {
        b->executable[n] = '\0';
    } else {
        /* No /proc: the path this process was started with, as the kernel passed it on. */
        const char *execfn = started_by();
        if (execfn == NULL || realpath(execfn, b->executable) == NULL) {
            return "cannot find this executable's file: mount /proc, or run it by its path";
        }
        n = (ssize_t)strlen(b->executable);
    }
    const char *slash = strrchr(b->executable, '/');
    if (slash == NULL || (size_t)n + 3 >= sizeof(b->interpreter)) {
        return "this executable's path is not usable";
    }
    snprintf(b->interpreter, sizeof(b->interpreter), "%.*s/./%s",
             (int)(slash - b->executable), b->executable, slash + 1);
    onebin_missing_under(b->executable, b->interpreter);
    int fd = handoff.active ? handoff.fd : open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    handoff.fd = -1;  /* closed below */
    if (fd < 0) {
        fd = open(b->executable, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        return "cannot open this executable's file to read its payload";
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < TRAILER_SIZE) {
        close(fd);
        return "this executable is damaged (too short to hold a payload); rebuild it";
    }
    b->file_size = (size_t)st.st_size;
    b->dev = st.st_dev;
    b->ino = st.st_ino;
    void *map = mmap(NULL, b->file_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        return "cannot map this executable into memory";
    }
    b->file = map;
    Payload p;
    const char *problem = payload_parse(b->file, b->file_size, &p);
    if (problem != NULL) {
        return problem;
    }
    b->payload = p.payload;
    b->payload_offset = p.payload_offset;
    b->payload_size = p.payload_size;
    b->paths = p.paths;
    b->runtime = p.runtime;
    b->index = p.index;
    b->ahead = p.ahead;
    return NULL;
}

/* ---- the _onebin builtin module: what the runtime needs from C ---- */

static PyObject *
onebin_dlopen(PyObject *self, PyObject *args)
{
    const char *path;
    int global = 0;
    if (!PyArg_ParseTuple(args, "s|p:dlopen", &path, &global)) {
        return NULL;
    }
    void *handle = dlopen(path, RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL));
    if (handle == NULL) {
        const char *msg = dlerror();
        PyErr_SetString(PyExc_OSError, msg ? msg : "dlopen failed");
        return NULL;
    }
    return PyLong_FromVoidPtr(handle);
}

/* Drops this process's pages of a payload range (whole pages only): they are clean file pages,
 * re-read from the page cache if touched again. Keeps RSS to what is in use. */
static void
release_range(uint64_t offset, uint64_t size)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t)(bundle.payload + offset) + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)(bundle.payload + offset + size)) & ~(page - 1);
    if (end > start) {
        madvise((void *)start, end - start, MADV_DONTNEED);
    }
}

static void
check_hash(uint64_t hash, uint64_t expected, const char *name)
{
    if (hash != expected) {
        char what[512];
        snprintf(what, sizeof(what), "checksum mismatch in %s", name);
        die_damaged(what);
    }
}

static void
check_range(uint64_t offset, uint64_t size)
{
    if (offset > bundle.payload_size || size > bundle.payload_size - offset) {
        die_damaged("an index entry points outside the payload");
    }
}

static PyObject *
onebin_check(PyObject *self, PyObject *args)
{
    unsigned long long offset, size, expected;
    const char *name;
    if (!PyArg_ParseTuple(args, "KKKs:check", &offset, &size, &expected, &name)) {
        return NULL;
    }
    check_range(offset, size);
    check_hash(onebin_hash(bundle.payload + offset, (size_t)size, 0), expected, name);
    Py_RETURN_NONE;
}

/* copy(tasks): for each (fd, source_fd, offset, size, hash, raw_size, name), puts a blob into
 * the file fd (a memfd): a stored blob (raw_size 0) is copied inside the kernel (sendfile from
 * source_fd, this executable, at the blob's offset); a packed one (onebin_lz4.h) is unpacked
 * block by block through a small buffer. The blob's hash is checked in the mapping, its pages
 * dropped behind. Hash checks, copies and blocks are separate jobs, shared among as many
 * threads as there are CPUs (up to 4) once the blobs are large enough to pay for waking them:
 * an extension and its libraries, or one large library, cost the longest job rather than the
 * sum. A mismatch or a malformed block ends the process; if writing fails, OSError is raised
 * once all jobs have finished (the caller falls back). */
#define PARALLEL_COPY_MIN ((uint64_t)8 << 20)

typedef struct {
    int fd, source;
    uint64_t offset, size, raw_size, expected, hash;
    const char *name;
    int error, malformed;
} CopyTask;

typedef struct {
    CopyTask *task;
    enum { JOB_HASH, JOB_COPY, JOB_BLOCK } kind;
    uint64_t block, at, length;  /* JOB_BLOCK: its index, and where it is stored in the blob */
} CopyJob;

typedef struct {
    CopyJob *jobs;
    size_t count;
    size_t next;  /* taken atomically */
    size_t buffer;  /* the largest unpacked block: each thread's buffer */
} CopyQueue;

static void
hash_task(CopyTask *task)
{
    uint64_t hash = 0, done = 0;
    do {  /* chunk by chunk, as onebin_hash(): an empty blob is one empty chunk */
        uint64_t n = task->size - done < ONEBIN_HASH_CHUNK ? task->size - done : ONEBIN_HASH_CHUNK;
        hash = onebin_hash_chunk(hash, bundle.payload + task->offset + done, (size_t)n);
        release_range(task->offset + done, n);  /* copied in the kernel: not resident twice */
        done += n;
    } while (done < task->size);
    task->hash = hash;
}

static void
copy_task(CopyTask *task)
{
    off_t at = (off_t)(bundle.payload_offset + task->offset);
    uint64_t done = 0;
    while (done < task->size) {
        size_t chunk = task->size - done < (1u << 30) ? (size_t)(task->size - done) : (1u << 30);
        ssize_t n = sendfile(task->fd, task->source, &at, chunk);
        if (n <= 0) {
            task->error = n < 0 ? errno : EIO;
            break;
        }
        done += (uint64_t)n;
    }
}

static void
unpack_block(CopyJob *job, unsigned char *buffer)
{
    CopyTask *task = job->task;
    uint64_t start = job->block * ONEBIN_BLOCK;
    size_t out = (size_t)(task->raw_size - start < ONEBIN_BLOCK ? task->raw_size - start : ONEBIN_BLOCK);
    int malformed = onebin_lz4_block(bundle.payload + task->offset + job->at, (size_t)job->length, buffer, out);
    release_range(task->offset + job->at, job->length);  /* unpacked: not resident twice */
    if (malformed) {
        __atomic_store_n(&task->malformed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (size_t done = 0; done < out;) {
        ssize_t n = pwrite(task->fd, buffer + done, out - done, (off_t)(start + done));
        if (n <= 0) {
            __atomic_store_n(&task->error, n < 0 ? errno : EIO, __ATOMIC_RELAXED);
            return;
        }
        done += (size_t)n;
    }
}

static void *
copy_worker(void *arg)
{
    CopyQueue *queue = arg;
    unsigned char *buffer = NULL;
    for (;;) {
        size_t next = __atomic_fetch_add(&queue->next, 1, __ATOMIC_RELAXED);
        if (next >= queue->count) {
            free(buffer);
            return NULL;
        }
        CopyJob *job = &queue->jobs[next];
        if (job->kind == JOB_HASH) {
            hash_task(job->task);
        } else if (job->kind == JOB_COPY) {
            copy_task(job->task);
        } else if (buffer != NULL || (buffer = malloc(queue->buffer)) != NULL) {
            unpack_block(job, buffer);
        } else {
            __atomic_store_n(&job->task->error, ENOMEM, __ATOMIC_RELAXED);
        }
    }
}

/* The jobs for a task: its hash check, then one copy, or one job per packed block. */
static size_t
plan_task(CopyTask *task, CopyJob *jobs)
{
    size_t count = 0;
    jobs[count++] = (CopyJob){task, JOB_HASH, 0, 0, 0};
    if (task->raw_size == 0) {
        jobs[count++] = (CopyJob){task, JOB_COPY, 0, 0, 0};
        return count;
    }
    uint64_t blocks = onebin_lz4_blocks(task->raw_size);
    const unsigned char *blob = bundle.payload + task->offset;
    uint64_t at = 4 * blocks;
    for (uint64_t i = 0; i < blocks; i++) {
        uint64_t length = onebin_lz4_size(blob, i);
        if (length > task->size - at) {
            break;
        }
        jobs[count++] = (CopyJob){task, JOB_BLOCK, i, at, length};
        at += length;
    }
    if (at != task->size) {  /* as onebin_lz4_unpack(): the blocks fill the blob exactly */
        task->malformed = 1;
    }
    return count;
}

static PyObject *
onebin_copy(PyObject *self, PyObject *arg)
{
    PyObject *items = PySequence_Fast(arg, "copy() takes a sequence of tasks");
    if (items == NULL) {
        return NULL;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(items);
    CopyTask *tasks = calloc(count ? (size_t)count : 1, sizeof(CopyTask));
    size_t most = 0;
    uint64_t total = 0;
    for (Py_ssize_t i = 0; tasks != NULL && i < count; i++) {
        CopyTask *t = &tasks[i];
        unsigned long long offset, size, expected, raw_size;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(items, i), "iiKKKKs:copy", &t->fd, &t->source, &offset,
                              &size, &expected, &raw_size, &t->name)) {
            free(tasks);
            Py_DECREF(items);
            return NULL;
        }
        check_range(offset, size);
        if (raw_size && onebin_lz4_table(size, raw_size) != 0) {
            die_damaged("a packed blob is malformed");
        }
        t->offset = offset, t->size = size, t->expected = expected, t->raw_size = raw_size;
        total += raw_size ? raw_size : size;
        most += 2 + (size_t)onebin_lz4_blocks(raw_size);
    }
    CopyJob *jobs = tasks ? malloc(most * sizeof(CopyJob)) : NULL;
    if (jobs == NULL) {
        free(tasks);
        Py_DECREF(items);
        return PyErr_NoMemory();
    }
    CopyQueue queue = {jobs, 0, 0, 0};
    for (Py_ssize_t i = 0; i < count; i++) {
        uint64_t block = tasks[i].raw_size < ONEBIN_BLOCK ? tasks[i].raw_size : ONEBIN_BLOCK;
        queue.buffer = block > queue.buffer ? (size_t)block : queue.buffer;
        if (tasks[i].raw_size && ftruncate(tasks[i].fd, (off_t)tasks[i].raw_size) != 0) {
            tasks[i].error = errno;
        }
        queue.count += plan_task(&tasks[i], jobs + queue.count);
    }
    static long cpus = 0;  /* asked once, and only when there is enough to share */
    if (total >= PARALLEL_COPY_MIN && cpus == 0) {
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
    }
    size_t helpers = total < PARALLEL_COPY_MIN ? 0 : (size_t)(cpus > 4 ? 4 : cpus > 1 ? cpus : 1) - 1;
    pthread_t threads[4];
    size_t started = 0;
    Py_BEGIN_ALLOW_THREADS
    while (started < helpers && pthread_create(&threads[started], NULL, copy_worker, &queue) == 0) {
        started++;
    }
    copy_worker(&queue);
    for (size_t i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    Py_END_ALLOW_THREADS
    int error = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        check_hash(tasks[i].hash, tasks[i].expected, tasks[i].name);
        if (tasks[i].malformed) {
            char what[512];
            snprintf(what, sizeof(what), "%s cannot be unpacked", tasks[i].name);
            die_damaged(what);
        }
        error = error ? error : tasks[i].error;
    }
    free(jobs);
    free(tasks);
    Py_DECREF(items);
    if (error) {
        errno = error;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_RETURN_NONE;
}

/* unpacked(offset, size, hash, raw_size, name) -> bytes: a packed blob's bytes, once its hash
 * is checked; its pages are dropped after. */
static PyObject *
unpacked_blob(unsigned long long offset, unsigned long long size, unsigned long long expected,
              unsigned long long raw_size, const char *name)
{
    check_range(offset, size);
    check_hash(onebin_hash(bundle.payload + offset, (size_t)size, 0), expected, name);
    if (onebin_lz4_table(size, raw_size) != 0 || raw_size > PY_SSIZE_T_MAX) {
        die_damaged("a packed blob is malformed");
    }
    PyObject *bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)raw_size);
    if (bytes == NULL) {
        return NULL;
    }
    if (onebin_lz4_unpack(bundle.payload + offset, size, (unsigned char *)PyBytes_AS_STRING(bytes), raw_size) != 0) {
        char what[512];
        snprintf(what, sizeof(what), "%s cannot be unpacked", name);
        die_damaged(what);
    }
    release_range(offset, size);
    return bytes;
}

static PyObject *
onebin_unpacked(PyObject *self, PyObject *args)
{
    unsigned long long offset, size, expected, raw_size;
    const char *name;
    if (!PyArg_ParseTuple(args, "KKKKs:unpacked", &offset, &size, &expected, &raw_size, &name)) {
        return NULL;
    }
    return unpacked_blob(offset, size, expected, raw_size, name);
}

/* An int argument that is a file descriptor. */
static int
fd_of(PyObject *arg)
{
    long fd = PyLong_AsLong(arg);
    if (fd == -1 && !PyErr_Occurred()) {
        PyErr_SetString(PyExc_ValueError, "not a file descriptor: -1");
    }
    return (int)fd;
}

/* seal(fd): a memfd's contents can no longer change (then other processes may share it);
 * sealed(fd) -> bool: whether they cannot. */
#define ONEBIN_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static PyObject *
onebin_seal(PyObject *self, PyObject *arg)
{
    int fd = fd_of(arg);
    if (fd == -1) {
        return NULL;
    }
    if (fcntl(fd, F_ADD_SEALS, ONEBIN_SEALS) != 0) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_RETURN_NONE;
}

static PyObject *
onebin_sealed(PyObject *self, PyObject *arg)
{
    int fd = fd_of(arg);
    if (fd == -1) {
        return NULL;
    }
    int seals = fcntl(fd, F_GET_SEALS);
    return PyBool_FromLong(seals >= 0 && (seals & ONEBIN_SEALS) == ONEBIN_SEALS);
}

/* ---- work done ahead: what the app's first imports will need, prepared on another CPU ----
 *
 * The builder lists, in the "ahead" section (onebin/ahead.py), the blobs that the app's entry
 * point imports at its top level, transitively, in the order those imports should run: the
 * modules' bytecode, and the extension modules among them with the libraries they load first.
 * As the interpreter starts, a second thread, on another CPU, checks and unpacks them:
 * bytecode into one anonymous mapping, native files into memfds. The app's thread takes each
 * result when its import comes (code(), ahead()); what the worker has not started it does
 * itself, as without the list, and a library the worker is busy with, both finish together. A
 * wrong guess costs work on the other CPU and some memory, never a wait. The worker ends when
 * the list is done, stays at most AHEAD_LEAD unpacked bytes of bytecode ahead of the imports,
 * ends if they stop coming, and ends before a fork(). Nothing it does changes this process's
 * mappings until it ends (see ahead_job(), own_writable_data()). Measured by hand against the
 * builds without it: `flake8 --version` about 8% faster, numpy 11% (README, "Performance").
 *
 * Section (little-endian): u32 count | u32 0 | record[count], by offset | u32 order[count] |
 * names, NUL-terminated. record: u64 offset, size, hash, raw_size (0: stored as is) |
 * u32 kind (AHEAD_CODE, AHEAD_NATIVE, AHEAD_SHARED) | u32 name (its offset among the names). */
#define AHEAD_RECORD 40
#define AHEAD_CODE 0
#define AHEAD_NATIVE 1    /* a memfd another library's path is written into: never sealed */
#define AHEAD_SHARED 2    /* a memfd named after its hash and sealed, for child processes */
#define AHEAD_LEAD ((uint64_t)8 << 20)
#define AHEAD_IDLE_MS 20  /* how long the worker waits for the imports to move on */
#define AHEAD_MIN ((uint64_t)256 << 10)  /* less work is not worth a thread (the builder writes no
                                             * section then: payload.py, AHEAD_LEAST) */
#define ONEBIN_MADV_POPULATE_WRITE 23     /* <sys/mman.h> has it from glibc 2.35 */

enum { TODO, BUSY, OPEN, DONE, FAILED, DAMAGED, TAKEN, OWN };

typedef struct {
    uint64_t offset, size, expected, raw_size;
    uint32_t kind;
    const char *name;
    uint64_t before;      /* unpacked bytes of bytecode listed before this item */
    int state;            /* atomic: TODO -> BUSY (-> OPEN) -> DONE... -> TAKEN, or TODO -> OWN */
    unsigned char *code;  /* AHEAD_CODE: where in the arena it is unpacked (NULL: stored as is) */
    int fd;               /* natives, from OPEN: the memfd, and its identity */
    dev_t dev;
    ino_t ino;
    uint32_t jobs, next_job, jobs_left;  /* natives: 0 is the hash check, then one per block */
    uint64_t hash;
    int error, malformed;
} AheadItem;

static struct {
    AheadItem *items;  /* by offset */
    uint32_t count;
    const unsigned char *order;
    unsigned char *arena;  /* the unpacked bytecode, each on its own pages, then the worker's buffer */
    size_t arena_size;
    int skip_shared;  /* atomic, -1 until known: a child of this same executable shares the parent's copies */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int waiters;       /* threads waiting for an item, or the worker for the imports */
    pthread_t thread;
    int worker;        /* 1 while the worker runs */
    int stop;          /* atomic: a fork() is coming, the worker must end (then it is joined) */
    int joining;
    int launched;
    pid_t tid;         /* atomic: the worker's thread, while the kernel may still count it */
    cpu_set_t cpus;    /* where the worker may run */
    uint64_t reached;  /* atomic: the furthest `before` the imports have asked for */
    AheadItem *urgent; /* atomic: a native the app's thread is waiting for */
    unsigned taken, own, waited;  /* for ONEBIN_TRACE: results taken, done by the app's thread, waited for */
    double waited_ms;             /* and how long the app's thread waited for them (or helped) */
} ahead = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

static double
monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
}

static void
ahead_notify(void)
{
    pthread_mutex_lock(&ahead.lock);
    if (ahead.waiters) {
        pthread_cond_broadcast(&ahead.changed);
    }
    pthread_mutex_unlock(&ahead.lock);
}

static void
ahead_settle(AheadItem *item, int state)
{
    __atomic_store_n(&item->state, state, __ATOMIC_SEQ_CST);
    ahead_notify();
}

/* Waits until the item is no longer `state`; returns what it became. */
static int
ahead_wait(AheadItem *item, int state)
{
    int now;
    pthread_mutex_lock(&ahead.lock);
    while ((now = __atomic_load_n(&item->state, __ATOMIC_SEQ_CST)) == state) {
        __atomic_add_fetch(&ahead.waiters, 1, __ATOMIC_SEQ_CST);
        pthread_cond_wait(&ahead.changed, &ahead.lock);
        __atomic_sub_fetch(&ahead.waiters, 1, __ATOMIC_SEQ_CST);
    }
    pthread_mutex_unlock(&ahead.lock);
    return now;
}

static AheadItem *
ahead_find(uint64_t offset)
{
    uint32_t low = 0, high = ahead.count;
    while (low < high) {
        uint32_t mid = low + (high - low) / 2;
        if (ahead.items[mid].offset < offset) {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    return low < ahead.count && ahead.items[low].offset == offset ? &ahead.items[low] : NULL;
}

/* Whether the parent process runs this same file, by any path (then it shares its sealed
 * memfds); with --compress, its launcher's memfd is named after the file (onebin_stub.h). */
static int
parent_runs_this_file(void)
{
    char path[64], link[PATH_MAX];
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)getppid());
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    const char *prefix = "/memfd:" STUB_MEMFD_NAME;
    if (n > 0 && (size_t)n > strlen(prefix) && strncmp(link, prefix, strlen(prefix)) == 0) {
        link[n] = '\0';
        unsigned long long dev, ino;
        return sscanf(link + strlen(prefix), "%llu:%llu", &dev, &ino) == 2 && dev == (unsigned long long)bundle.dev
               && ino == (unsigned long long)bundle.ino;
    }
    struct stat parent;
    return stat(path, &parent) == 0 && parent.st_dev == bundle.dev && parent.st_ino == bundle.ino;
}

static int
ahead_skip_shared(void)
{
    int skip = __atomic_load_n(&ahead.skip_shared, __ATOMIC_SEQ_CST);
    if (skip < 0) {
        skip = parent_runs_this_file();
        __atomic_store_n(&ahead.skip_shared, skip, __ATOMIC_SEQ_CST);
    }
    return skip;
}

/* The imports have asked for this item: the worker may go further (if it waits for that, it
 * counted itself among the waiters before it read `reached`, so one of the two sees the other). */
static void
ahead_reach(AheadItem *item)
{
    uint64_t reached = __atomic_load_n(&ahead.reached, __ATOMIC_SEQ_CST);
    while (item->before > reached
           && !__atomic_compare_exchange_n(&ahead.reached, &reached, item->before, 0, __ATOMIC_SEQ_CST,
                                           __ATOMIC_SEQ_CST)) {
    }
    if (__atomic_load_n(&ahead.waiters, __ATOMIC_SEQ_CST)) {
        ahead_notify();
    }
}

static void
ahead_unpack_code(AheadItem *item)
{
    uint64_t hash = onebin_hash(bundle.payload + item->offset, (size_t)item->size, 0);
    if (hash != item->expected) {
        ahead_settle(item, DAMAGED);
        return;
    }
    if (item->code != NULL
        && onebin_lz4_unpack(bundle.payload + item->offset, item->size, item->code, item->raw_size) != 0) {
        ahead_settle(item, DAMAGED);
        return;
    }
    ahead_settle(item, DONE);
}

/* Whether a native's descriptor is still its memfd: an app that closes every descriptor (as
 * daemons do) may get the number back for a file of its own, which must never be written to
 * or closed here. */
static int
ahead_fd_is_ours(const AheadItem *item)
{
    struct stat st;
    return fstat(item->fd, &st) == 0 && st.st_dev == item->dev && st.st_ino == item->ino;
}

/* Creates a native's memfd, sized; its jobs can then be taken. */
static void
ahead_open(AheadItem *item)
{
    const char *base = strrchr(item->name, '/');
    base = base ? base + 1 : item->name;
    char name[256];
    if (item->kind == AHEAD_SHARED) {
        snprintf(name, sizeof(name), "onebin-%016llx-%s", (unsigned long long)item->expected, base);
    } else {
        snprintf(name, sizeof(name), "%s", base);
    }
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    struct stat st;
    if (fd < 0 || ftruncate(fd, (off_t)(item->raw_size ? item->raw_size : item->size)) != 0 || fstat(fd, &st) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        ahead_settle(item, FAILED);
        return;
    }
    item->fd = fd, item->dev = st.st_dev, item->ino = st.st_ino;
    uint64_t blocks = onebin_lz4_blocks(item->raw_size ? item->raw_size : item->size);
    item->jobs = item->jobs_left = 1 + (uint32_t)blocks;
    ahead_settle(item, OPEN);
}

/* Job j of an open native: its hash check, or block j - 1 written into its memfd (unpacked,
 * or a stored blob's megabyte copied). The last job to finish settles the item. The worker
 * leaves the payload's pages mapped (it drops them all when it ends): every madvise() would
 * interrupt the app's thread on its CPU to flush its TLB (a few microseconds each, and the
 * interpreter's start measured 5 ms slower with one per blob). */
static void
ahead_job(AheadItem *item, uint32_t j, unsigned char **buffer, int worker)
{
    if (j == 0) {
        uint64_t hash = 0, done = 0;
        do {
            uint64_t n = item->size - done < ONEBIN_HASH_CHUNK ? item->size - done : ONEBIN_HASH_CHUNK;
            hash = onebin_hash_chunk(hash, bundle.payload + item->offset + done, (size_t)n);
            done += n;
        } while (done < item->size);
        item->hash = hash;
    } else if (item->raw_size == 0) {
        uint64_t start = (uint64_t)(j - 1) * ONEBIN_BLOCK;
        size_t n = (size_t)(item->size - start < ONEBIN_BLOCK ? item->size - start : ONEBIN_BLOCK);
        if (!ahead_fd_is_ours(item)
            || pwrite(item->fd, bundle.payload + item->offset + start, n, (off_t)start) != (ssize_t)n) {
            __atomic_store_n(&item->error, 1, __ATOMIC_RELAXED);
        }
        if (!worker) {
            release_range(item->offset + start, n);
        }
    } else if (*buffer != NULL || (*buffer = malloc(ONEBIN_BLOCK)) != NULL) {
        const unsigned char *blob = bundle.payload + item->offset;
        uint64_t blocks = item->jobs - 1, at = 4 * blocks;
        for (uint64_t i = 0; i + 1 < j; i++) {  /* where block j - 1 starts: the sizes before it */
            at += onebin_lz4_size(blob, i);
        }
        uint64_t length = onebin_lz4_size(blob, j - 1);
        uint64_t start = (uint64_t)(j - 1) * ONEBIN_BLOCK;
        size_t out = (size_t)(item->raw_size - start < ONEBIN_BLOCK ? item->raw_size - start : ONEBIN_BLOCK);
        if (at > item->size || length > item->size - at) {
            __atomic_store_n(&item->malformed, 1, __ATOMIC_RELAXED);  /* a damaged size table */
        } else {
            if (onebin_lz4_block(blob + at, (size_t)length, *buffer, out) != 0) {
                __atomic_store_n(&item->malformed, 1, __ATOMIC_RELAXED);
            } else if (!ahead_fd_is_ours(item) || pwrite(item->fd, *buffer, out, (off_t)start) != (ssize_t)out) {
                __atomic_store_n(&item->error, 1, __ATOMIC_RELAXED);
            }
            if (!worker) {
                release_range(item->offset + at, length);
            }
        }
    } else {
        __atomic_store_n(&item->error, 1, __ATOMIC_RELAXED);
    }
    if (__atomic_sub_fetch(&item->jobs_left, 1, __ATOMIC_SEQ_CST) == 0) {
        int state = DONE;
        if (item->hash != item->expected || item->malformed) {
            state = DAMAGED;
        } else if (item->error || (item->kind == AHEAD_SHARED && fcntl(item->fd, F_ADD_SEALS, ONEBIN_SEALS) != 0)) {
            state = FAILED;
        }
        if (state != DONE && ahead_fd_is_ours(item)) {
            close(item->fd);
        }
        ahead_settle(item, state);
    }
}

/* Takes an open native's jobs until none is left to take; 0, or -1 if the worker must stop
 * (every job taken is done: what it did not take, the app's thread does). */
static int
ahead_work(AheadItem *item, unsigned char **buffer, int worker)
{
    for (;;) {
        if (worker && __atomic_load_n(&ahead.stop, __ATOMIC_SEQ_CST)) {
            return -1;
        }
        uint32_t j = __atomic_fetch_add(&item->next_job, 1, __ATOMIC_SEQ_CST);
        if (j >= item->jobs) {
            return 0;
        }
        ahead_job(item, j, buffer, worker);
    }
}

/* Waits while the worker is more than AHEAD_LEAD bytes of bytecode ahead of the imports; 0, or
 * -1 if they did not move for AHEAD_IDLE_MS (the app is busy elsewhere) or it must stop. */
static int
ahead_keep_pace(AheadItem *item)
{
    int result = 0;
    pthread_mutex_lock(&ahead.lock);
    __atomic_add_fetch(&ahead.waiters, 1, __ATOMIC_SEQ_CST);  /* before reading `reached`: see ahead_reach() */
    while (result == 0 && item->before > __atomic_load_n(&ahead.reached, __ATOMIC_SEQ_CST) + AHEAD_LEAD) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += AHEAD_IDLE_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        uint64_t reached = __atomic_load_n(&ahead.reached, __ATOMIC_SEQ_CST);
        int timed_out = ahead.stop || pthread_cond_timedwait(&ahead.changed, &ahead.lock, &until) == ETIMEDOUT;
        if (ahead.stop || (timed_out && reached == __atomic_load_n(&ahead.reached, __ATOMIC_SEQ_CST))) {
            result = -1;
        }
    }
    __atomic_sub_fetch(&ahead.waiters, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&ahead.lock);
    return result;
}

static void *
ahead_worker(void *unused)
{
    __atomic_store_n(&ahead.tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
    prctl(PR_SET_NAME, "onebin ahead");  /* its thread's name: how ahead_before_fork() knows it */
    unsigned char *buffer = ahead.arena + ahead.arena_size - ONEBIN_BLOCK;
    for (uint32_t k = 0; k < ahead.count && !__atomic_load_n(&ahead.stop, __ATOMIC_SEQ_CST); k++) {
        AheadItem *urgent = __atomic_load_n(&ahead.urgent, __ATOMIC_SEQ_CST);
        if (urgent != NULL && __atomic_load_n(&urgent->state, __ATOMIC_SEQ_CST) == OPEN) {
            ahead_work(urgent, &buffer, 1);
        }
        AheadItem *item = &ahead.items[read_u32(ahead.order + 4 * k)];
        int todo = TODO;
        if (item->kind == AHEAD_CODE) {
            if (ahead_keep_pace(item) != 0) {
                break;
            }
            if (__atomic_compare_exchange_n(&item->state, &todo, BUSY, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
                ahead_unpack_code(item);
            }
        } else if (item->kind == AHEAD_NATIVE || !ahead_skip_shared()) {
            if (__atomic_compare_exchange_n(&item->state, &todo, BUSY, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
                ahead_open(item);
            }
            if (__atomic_load_n(&item->state, __ATOMIC_SEQ_CST) == OPEN) {
                ahead_work(item, &buffer, 1);
            }
        }
    }
    release_range(0, bundle.payload_size);
    pthread_mutex_lock(&ahead.lock);
    ahead.worker = 0;
    if (!ahead.joining) {
        pthread_detach(pthread_self());
    }
    pthread_cond_broadcast(&ahead.changed);
    pthread_mutex_unlock(&ahead.lock);
    return NULL;
}

/* fork(): the worker ends first (a child has no worker, and Python 3.12+ warns about forking a
 * process with threads); the app's thread does what is left. The child forgets the natives the
 * worker had begun: their memfds are the parent's, which finishes them. */
/* Waits (100 ms at most) until the worker's thread has left the kernel's list of this process's
 * threads: pthread_join() returns, and a detached worker ends, a moment before, while
 * /proc/self/stat still counts it, and Python 3.12+ warns at os.fork() when it counts more
 * than one thread (a DeprecationWarning seen under load). The thread is known by its id and
 * name, as another thread may be given the same id once it is gone. */
static void
ahead_wait_gone(void)
{
    pid_t tid = __atomic_load_n(&ahead.tid, __ATOMIC_SEQ_CST);
    if (tid <= 0) {
        return;
    }
    char path[64], name[32];
    snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
    for (int i = 0; i < 2000; i++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, name, sizeof(name) - 1) : -1;
        if (fd >= 0) {
            close(fd);
        }
        if (n <= 0 || strncmp(name, "onebin ahead", 12) != 0) {
            break;
        }
        struct timespec pause = {0, 50000};
        nanosleep(&pause, NULL);
    }
    __atomic_store_n(&ahead.tid, 0, __ATOMIC_SEQ_CST);
}

static void
ahead_before_fork(void)
{
    pthread_mutex_lock(&ahead.lock);
    int running = ahead.worker && !ahead.joining;
    if (running) {
        ahead.joining = 1;
        __atomic_store_n(&ahead.stop, 1, __ATOMIC_SEQ_CST);
        pthread_cond_broadcast(&ahead.changed);
    }
    pthread_mutex_unlock(&ahead.lock);
    if (running) {
        pthread_join(ahead.thread, NULL);
    }
    ahead_wait_gone();
}

static void
ahead_after_fork_child(void)
{
    for (uint32_t i = 0; i < ahead.count; i++) {
        AheadItem *item = &ahead.items[i];
        /* A memfd other libraries' paths are written into must be this process's own. */
        if (item->state == OPEN || (item->state == DONE && item->kind == AHEAD_NATIVE)) {
            if (ahead_fd_is_ours(item)) {
                close(item->fd);
            }
            item->state = FAILED;
        }
    }
    ahead.waiters = 0, ahead.urgent = NULL;
    pthread_mutex_init(&ahead.lock, NULL);
    pthread_cond_init(&ahead.changed, NULL);
}

/* Reads the ahead section: 1 if there is enough to do and a second CPU to do it. */
static int
ahead_read(const Section *section)
{
    const unsigned char *data = bundle.payload + section->offset;
    if (section->size < 8) {
        return 0;
    }
    uint64_t count = read_u32(data);
    if (count == 0 || count > (section->size - 8) / (AHEAD_RECORD + 4)) {
        return 0;
    }
    if (sched_getaffinity(0, sizeof(ahead.cpus), &ahead.cpus) != 0 || CPU_COUNT(&ahead.cpus) < 2) {
        return 0;
    }
    const unsigned char *names = data + 8 + count * (AHEAD_RECORD + 4);
    uint64_t names_size = section->size - 8 - count * (AHEAD_RECORD + 4);
    if (names_size == 0 || names[names_size - 1] != '\0') {
        die_damaged("the ahead section is malformed");
    }
    AheadItem *items = calloc((size_t)count, sizeof(AheadItem));
    if (items == NULL) {
        return 0;
    }
    uint64_t work = 0;
    for (uint64_t i = 0; i < count; i++) {
        const unsigned char *r = data + 8 + i * AHEAD_RECORD;
        AheadItem *item = &items[i];
        item->offset = read_u64(r), item->size = read_u64(r + 8), item->expected = read_u64(r + 16);
        item->raw_size = read_u64(r + 24), item->kind = read_u32(r + 32);
        uint64_t name = read_u32(r + 36);
        check_range(item->offset, item->size);
        if (name >= names_size || item->kind > AHEAD_SHARED || (i > 0 && item->offset <= items[i - 1].offset)
            || (item->raw_size && onebin_lz4_table(item->size, item->raw_size) != 0)) {
            die_damaged("the ahead section is malformed");
        }
        item->name = (const char *)names + name;
        work += item->raw_size ? item->raw_size : item->size;
    }
    const unsigned char *order = data + 8 + count * AHEAD_RECORD;
    uint64_t before = 0, arena = 0, page = (uint64_t)sysconf(_SC_PAGESIZE);
    for (uint64_t k = 0; k < count; k++) {
        uint32_t i = read_u32(order + 4 * k);
        if (i >= count) {
            die_damaged("the ahead section is malformed");
        }
        items[i].before = before;
        if (items[i].kind == AHEAD_CODE) {
            before += items[i].raw_size ? items[i].raw_size : items[i].size;
            items[i].code = (unsigned char *)(uintptr_t)arena;  /* made a pointer below */
            arena += (items[i].raw_size + page - 1) / page * page;
        }
    }
    /* One mapping for all the worker writes: malloc() would grow its arena by mprotect(), each
     * call flushing the app thread's TLB as madvise() does. */
    ahead.arena_size = (size_t)(arena + ONEBIN_BLOCK);
    ahead.arena = work < AHEAD_MIN ? MAP_FAILED : mmap(NULL, ahead.arena_size, PROT_READ | PROT_WRITE,
                                                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ahead.arena == MAP_FAILED) {
        free(items);
        return 0;
    }
    for (uint64_t i = 0; i < count; i++) {
        if (items[i].kind == AHEAD_CODE) {
            items[i].code = items[i].raw_size ? ahead.arena + (uintptr_t)items[i].code : NULL;
        }
    }
    ahead.items = items, ahead.count = (uint32_t)count, ahead.order = order;
    ahead.skip_shared = -1;
    return 1;
}

/* The executable's writable data (libpython's static objects and state) made private at once,
 * before the interpreter starts: its first writes to those pages would each take a
 * copy-on-write fault (about 300 for hello; one populating call costs ~0.1 ms for ~450 pages,
 * and made hello 5 to 7% faster to start, with 0.1 to 0.4 MB more RSS). It matters more with the
 * worker running: each such fault must then interrupt the worker's CPU to flush its TLB (the
 * core phase measured 2.3 ms alone, 7 ms beside a busy thread), so the worker starts before
 * the core only if this worked; *result is 1 if it did (Linux 5.14+). */
static int
own_writable_data(struct dl_phdr_info *info, size_t size, void *result)
{
    if (info->dlpi_name != NULL && info->dlpi_name[0] != '\0') {
        return 0;  /* a library: the executable comes first, its name empty */
    }
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), relro = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO) {  /* read-only once relocated */
            relro = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr + info->dlpi_phdr[i].p_memsz;
        }
    }
    *(int *)result = 1;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
            uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
            start = ((relro > start && relro < end ? relro : start) + page - 1) & ~(page - 1);
            end = (end + page - 1) & ~(page - 1);
            if (end > start && madvise((void *)start, end - start, ONEBIN_MADV_POPULATE_WRITE) != 0) {
                *(int *)result = 0;
            }
        }
    }
    return 1;
}

/* Starts the worker ahead_read() prepared, if it has not started: before the core once the
 * interpreter's writable data is private (see own_writable_data()), else once the core is up. */
static void
ahead_launch(void)
{
    if (ahead.count == 0 || ahead.launched) {
        return;
    }
    ahead.launched = 1;
    ahead.worker = 1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    /* Not on this thread's CPU: started there, it would take turns with the interpreter's
     * start for a whole time slice (a few ms measured) before the scheduler moved one away. */
    int here = sched_getcpu();
    if (here >= 0 && here < CPU_SETSIZE && CPU_ISSET(here, &ahead.cpus)) {
        CPU_CLR(here, &ahead.cpus);
        pthread_attr_setaffinity_np(&attr, sizeof(ahead.cpus), &ahead.cpus);
    }
    if (pthread_atfork(ahead_before_fork, NULL, ahead_after_fork_child) != 0
        || pthread_create(&ahead.thread, &attr, ahead_worker, NULL) != 0) {
        ahead.worker = 0;
        ahead.count = 0;  /* nothing was handed over: the imports do it all */
    }
    pthread_attr_destroy(&attr);
}

/* Takes a finished item's result (1), or leaves it (0: not finished well, or taken already);
 * a damaged blob ends the process, as it would have when the import checked it. */
static int
ahead_claim(AheadItem *item, int state)
{
    if (state == DAMAGED) {
        char what[512];
        snprintf(what, sizeof(what), "checksum mismatch in %s", item->name);
        die_damaged(what);
    }
    return state == DONE
           && __atomic_compare_exchange_n(&item->state, &state, TAKEN, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* The bytecode of a blob if the worker unpacked it: 1 and *code (NULL: use the blob as it is
 * stored, its hash checked; else ahead_release_code() once read), or 0: unpack it here. */
static int
ahead_take_code(uint64_t offset, unsigned char **code)
{
    AheadItem *item = ahead.count ? ahead_find(offset) : NULL;
    if (item == NULL || item->kind != AHEAD_CODE) {
        return 0;
    }
    ahead_reach(item);
    int state = TODO;
    if (__atomic_compare_exchange_n(&item->state, &state, OWN, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        ahead.own++;
        return 0;
    }
    if (state == BUSY) {
        double since = monotonic_ms();
        ahead.waited++;
        state = ahead_wait(item, BUSY);
        ahead.waited_ms += monotonic_ms() - since;
    }
    if (!ahead_claim(item, state)) {
        return 0;
    }
    ahead.taken++;
    *code = item->code;
    return 1;
}

/* A memfd holding a native blob, checked, if the worker made it (helping it finish), else -1. */
static int
ahead_take_native(uint64_t offset)
{
    AheadItem *item = ahead.count ? ahead_find(offset) : NULL;
    if (item == NULL || item->kind == AHEAD_CODE || (item->kind == AHEAD_SHARED && ahead_skip_shared())) {
        return -1;
    }
    ahead_reach(item);
    int state = __atomic_load_n(&item->state, __ATOMIC_SEQ_CST);
    double since = state < DONE ? monotonic_ms() : 0;
    if (state == TODO) {
        if (!__atomic_load_n(&ahead.worker, __ATOMIC_SEQ_CST)) {
            return -1;  /* no worker to share it with: the usual copy, on every CPU */
        }
        if (__atomic_compare_exchange_n(&item->state, &state, BUSY, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            ahead_open(item);
            state = __atomic_load_n(&item->state, __ATOMIC_SEQ_CST);
        }  /* else the worker just began it: `state` says how far it is */
    }
    if (state == BUSY) {
        state = ahead_wait(item, BUSY);
    }
    if (state == OPEN) {
        ahead.waited++;
        unsigned char *buffer = NULL;
        __atomic_store_n(&ahead.urgent, item, __ATOMIC_SEQ_CST);
        Py_BEGIN_ALLOW_THREADS
        ahead_work(item, &buffer, 0);
        state = ahead_wait(item, OPEN);
        Py_END_ALLOW_THREADS
        __atomic_store_n(&ahead.urgent, NULL, __ATOMIC_SEQ_CST);
        free(buffer);
    }
    if (since != 0) {
        ahead.waited_ms += monotonic_ms() - since;
    }
    if (!ahead_claim(item, state)) {
        return -1;
    }
    if (!ahead_fd_is_ours(item)) {
        return -1;  /* the app closed it: the number may be one of its own files now */
    }
    ahead.taken++;
    return item->fd;
}

/* Drops the pages of unpacked bytecode, once unmarshalled (each item has pages of its own). */
static void
ahead_release_code(unsigned char *code, uint64_t size)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    madvise(code, ((uintptr_t)size + page - 1) & ~(page - 1), MADV_DONTNEED);
}

static PyObject *
onebin_ahead(PyObject *self, PyObject *arg)
{
    unsigned long long offset = PyLong_AsUnsignedLongLong(arg);
    if (offset == (unsigned long long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    return PyLong_FromLong(ahead_take_native(offset));
}

static PyObject *
onebin_parent_is_this_executable(PyObject *self, PyObject *unused)
{
    return PyBool_FromLong(parent_runs_this_file());
}

/* code(offset, size, hash, name, raw_size=0): the code object marshalled in a blob (packed
 * if raw_size, see onebin_lz4.h), once its hash is checked (a mismatch ends the process); the
 * blob's pages are dropped after. */
static PyObject *
onebin_code(PyObject *self, PyObject *args)
{
    unsigned long long offset, size, expected, raw_size = 0;
    const char *name;
    if (!PyArg_ParseTuple(args, "KKKs|K:code", &offset, &size, &expected, &name, &raw_size)) {
        return NULL;
    }
    unsigned char *ready = NULL;
    if (ahead_take_code(offset, &ready)) {  /* checked, and unpacked if packed */
        const char *data = ready ? (const char *)ready : (const char *)bundle.payload + offset;
        PyObject *code = PyMarshal_ReadObjectFromString(data, (Py_ssize_t)(ready ? raw_size : size));
        if (ready) {
            ahead_release_code(ready, raw_size);
        } else {
            release_range(offset, size);
        }
        return code;
    }
    if (raw_size) {
        PyObject *data = unpacked_blob(offset, size, expected, raw_size, name);
        if (data == NULL) {
            return NULL;
        }
        PyObject *code = PyMarshal_ReadObjectFromString(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data));
        Py_DECREF(data);
        return code;
    }
    check_range(offset, size);
    check_hash(onebin_hash(bundle.payload + offset, (size_t)size, 0), expected, name);
    PyObject *code = PyMarshal_ReadObjectFromString((const char *)bundle.payload + offset, (Py_ssize_t)size);
    release_range(offset, size);
    return code;
}

static PyObject *
onebin_release(PyObject *self, PyObject *args)
{
    unsigned long long offset, size;
    if (!PyArg_ParseTuple(args, "KK:release", &offset, &size)) {
        return NULL;
    }
    if (offset <= bundle.payload_size && size <= bundle.payload_size - offset) {
        release_range(offset, size);
    }
    Py_RETURN_NONE;
}

static PyObject *
onebin_hash_object(PyObject *self, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    uint64_t hash = onebin_hash(view.buf, (size_t)view.len, 0);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLongLong(hash);
}

/* The index table at offset in the payload (the format is _runtime/bundle.py's Table; the
 * section holding it passed the header hash, and every read is still bounded by the table):
 * its slot count, records and their size. */
static const unsigned char *
table_at(unsigned long long offset, unsigned long long size, uint64_t *slots, uint64_t *records_size)
{
    if (offset > bundle.payload_size || size > bundle.payload_size - offset || size < 8) {
        die_damaged("an index table lies outside the payload");
    }
    const unsigned char *table = bundle.payload + offset;
    *slots = read_u32(table + 4);
    if (*slots == 0 || (*slots & (*slots - 1)) != 0 || 8 + 4 * *slots > size) {
        die_damaged("an index table is malformed");
    }
    *records_size = size - 8 - 4 * *slots;
    return table;
}

/* The record at `at` among a table's records: its key's length, and where its value starts
 * and how long it is, each checked against the records' end. */
static void
table_record(const unsigned char *records, uint64_t records_size, uint64_t at, uint64_t *length, uint64_t *value,
             uint64_t *value_size)
{
    if (at + 2 > records_size) {
        die_damaged("an index table is malformed");
    }
    *length = (uint64_t)records[at] | (uint64_t)records[at + 1] << 8;
    if (at + 6 + *length > records_size) {
        die_damaged("an index table is malformed");
    }
    *value = at + 6 + *length;
    *value_size = read_u32(records + at + 2 + *length);
    if (*value_size > records_size - *value) {
        die_damaged("an index table is malformed");
    }
}

/* lookup(offset, size, key): the value for key in the index table at offset in the payload, or
 * None. */
static PyObject *
onebin_lookup(PyObject *self, PyObject *args)
{
    unsigned long long offset, size;
    const char *key;
    Py_ssize_t key_size;
    if (!PyArg_ParseTuple(args, "KKs#:lookup", &offset, &size, &key, &key_size)) {
        return NULL;
    }
    uint64_t slots, records_size;
    const unsigned char *table = table_at(offset, size, &slots, &records_size);
    const unsigned char *records = table + 8 + 4 * slots;
    uint64_t hash = 0xCBF29CE484222325ULL;
    for (Py_ssize_t i = 0; i < key_size; i++) {
        hash = (hash ^ (unsigned char)key[i]) * 0x100000001B3ULL;
    }
    for (uint64_t probe = 0; probe < slots; probe++) {
        uint64_t slot = read_u32(table + 8 + 4 * ((hash + probe) & (slots - 1)));
        if (slot == 0) {
            break;
        }
        uint64_t length, value, value_size;
        table_record(records, records_size, slot - 1, &length, &value, &value_size);
        if (length == (uint64_t)key_size && memcmp(records + slot - 1 + 2, key, length) == 0) {
            return PyMarshal_ReadObjectFromString((const char *)records + value, (Py_ssize_t)value_size);
        }
    }
    Py_RETURN_NONE;
}

/* keys(offset, size): the keys of the index table at offset in the payload, in stored order,
 * without reading the values (listing a directory of the bundle needs only the names). */
static PyObject *
onebin_keys(PyObject *self, PyObject *args)
{
    unsigned long long offset, size;
    if (!PyArg_ParseTuple(args, "KK:keys", &offset, &size)) {
        return NULL;
    }
    uint64_t slots, records_size;
    const unsigned char *table = table_at(offset, size, &slots, &records_size);
    const unsigned char *records = table + 8 + 4 * slots;
    uint64_t count = read_u32(table);
    PyObject *keys = PyList_New(0);
    for (uint64_t i = 0, at = 0; keys != NULL && i < count; i++) {
        uint64_t length, value, value_size;
        table_record(records, records_size, at, &length, &value, &value_size);
        PyObject *key = PyUnicode_DecodeUTF8((const char *)records + at + 2, (Py_ssize_t)length, NULL);
        if (key == NULL || PyList_Append(keys, key) < 0) {
            Py_CLEAR(keys);
        }
        Py_XDECREF(key);
        at = value + value_size;
    }
    return keys;
}

/* ---- the heap census taken at exit (see _runtime/teardown.py) ---- */

/* A set of type pointers (open addressing): the heap holds a few hundred distinct types among
 * hundreds of thousands of objects, so this must cost a few nanoseconds per object. */
typedef struct {
    PyTypeObject **slots;
    size_t mask;
    size_t count;
    PyTypeObject *last;
} TypeSet;

static int
typeset_add(TypeSet *set, PyTypeObject *type)
{
    if (type == set->last) {
        return 0;
    }
    set->last = type;
    size_t i = ((uintptr_t)type >> 4) * 0x9E3779B97F4A7C15ull >> 20;
    for (;; i++) {
        PyTypeObject **slot = &set->slots[i & set->mask];
        if (*slot == type) {
            return 0;
        }
        if (*slot == NULL) {
            *slot = type;
            break;
        }
    }
    if (++set->count * 2 <= set->mask) {
        return 0;
    }
    TypeSet bigger = {calloc(2 * (set->mask + 1), sizeof(PyTypeObject *)), 2 * set->mask + 1, 0, NULL};
    if (bigger.slots == NULL) {
        return -1;
    }
    for (size_t j = 0; j <= set->mask; j++) {
        if (set->slots[j] != NULL) {
            typeset_add(&bigger, set->slots[j]);
        }
    }
    free(set->slots);
    *set = bigger;
    return 0;
}

#define CENSUS_QUIET 64

typedef struct {
    TypeSet types;
    PyObject *finalizable;  /* list: objects with a finalizer */
    PyObject *callbacks;    /* list: callbacks of weakrefs */
    /* Types already in `types` whose instances need noting no further: no finalizer, not
     * weakrefs (str, int, tuple, dict, function, ...): a direct-mapped cache, checked first.
     * Nearly every object a census meets is of one of a few such types. */
    PyTypeObject *quiet[CENSUS_QUIET];
    int depth;
    int failed;
} Census;

static int census_visit(PyObject *obj, void *arg);

/* Notes one object: its type, the object itself if it has a finalizer, its callback if it is a
 * weakref that has one. Untracked containers (tuples and dicts the collector stopped
 * following) are not in gc.get_objects(): their contents are looked at here. */
static void
census_add(Census *census, PyObject *obj, int untracked)
{
    PyTypeObject *type = Py_TYPE(obj);
    PyTypeObject **quiet = &census->quiet[((uintptr_t)type >> 4) % CENSUS_QUIET];
    if (*quiet != type) {
        if (typeset_add(&census->types, type) < 0) {
            census->failed = 1;
            return;
        }
        int finalizer = type->tp_finalize != NULL || type->tp_del != NULL;
        if (finalizer && PyList_Append(census->finalizable, obj) < 0) {
            census->failed = 1;
            return;
        }
        int weakref = PyWeakref_Check(obj);
        PyObject *callback = weakref ? ((PyWeakReference *)obj)->wr_callback : NULL;
        if (callback != NULL && PyList_Append(census->callbacks, callback) < 0) {
            census->failed = 1;
            return;
        }
        if (!finalizer && !weakref) {
            *quiet = type;
        }
    }
    if (untracked && type->tp_traverse != NULL && PyObject_IS_GC(obj)) {
        if (++census->depth > 200) {
            census->failed = 1;  /* nested too deep to follow: say nothing is known */
        } else {
            type->tp_traverse(obj, census_visit, census);
        }
        census->depth--;
    }
}

static int
census_visit(PyObject *obj, void *arg)
{
    Census *census = arg;
    if (obj == NULL || census->failed) {
        return 0;
    }
    PyTypeObject *type = Py_TYPE(obj);
    if (census->quiet[((uintptr_t)type >> 4) % CENSUS_QUIET] == type && !PyType_IS_GC(type)) {
        return 0;  /* a str, an int: nothing new, nothing under it */
    }
    if (!(PyObject_IS_GC(obj) && PyObject_GC_IsTracked(obj))) {
        census_add(census, obj, 1);  /* tracked objects are counted by the walk itself */
    }
    return 0;
}

/* The address ranges of the loaded ELF objects: which one a function is in (dladdr() would
 * search each object's symbols, a few milliseconds for a few hundred types). */
typedef struct {
    struct {
        uintptr_t start, end;
        const char *name;  /* "" for this executable */
    } *items;
    size_t count, capacity;
} Objects;

static int
note_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    Objects *objects = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) {
            continue;
        }
        if (objects->count == objects->capacity) {
            size_t capacity = objects->capacity ? 2 * objects->capacity : 64;
            void *items = realloc(objects->items, capacity * sizeof(*objects->items));
            if (items == NULL) {
                return 1;
            }
            objects->items = items;
            objects->capacity = capacity;
        }
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        objects->items[objects->count].start = start;
        objects->items[objects->count].end = start + ph->p_memsz;
        objects->items[objects->count].name = info->dlpi_name ? info->dlpi_name : "";
        objects->count++;
    }
    return 0;
}

static const char *
object_of(const Objects *objects, uintptr_t address)
{
    for (size_t i = 0; i < objects->count; i++) {
        if (address >= objects->items[i].start && address < objects->items[i].end) {
            return objects->items[i].name;
        }
    }
    return "?";
}

/* What a class statement's type frees its instances with (its built-in base does the rest),
 * or NULL with an exception set. */
static destructor
subtype_dealloc(void)
{
    PyObject *probe = PyObject_CallFunction((PyObject *)&PyType_Type, "s(){}", "probe");
    destructor dealloc = probe ? ((PyTypeObject *)probe)->tp_dealloc : NULL;
    Py_XDECREF(probe);
    return dealloc;
}

/* For a class defined in Python, the built-in or extension type it derives from (which frees
 * its instances); else ``type`` itself. */
static PyTypeObject *
native_type(PyTypeObject *type, destructor subtype)
{
    while (type->tp_dealloc == subtype && type->tp_base != NULL) {
        type = type->tp_base;
    }
    return type;
}

/* Where ``type`` frees its instances: None for this executable, else the shared object's path
 * (see native_type()). */
static PyObject *
origin_of(PyTypeObject *type, destructor subtype, const Objects *loaded)
{
    type = native_type(type, subtype);
    const char *file = object_of(loaded, (uintptr_t)type->tp_dealloc);
    return file == NULL || file[0] == '\0' ? Py_NewRef(Py_None) : PyUnicode_DecodeFSDefault(file);
}

/* census(deep) -> (types, finalizable, callbacks): {C type: where its deallocator lives} for the
 * types under every live object (see origin_of()), the live objects that have a finalizer, and
 * the callbacks of live weakrefs. None if the heap cannot be read whole. Only the collector's
 * objects are looked at, unless ``deep``: then what they refer to as well, which finds the
 * objects outside the collector, at several times the cost. */
typedef struct {
    Census *census;
    int deep;
} CensusWalk;

static int
census_walk(PyObject *obj, void *arg)
{
    CensusWalk *walk = arg;
    Census *census = walk->census;
    if (obj == census->finalizable || obj == census->callbacks) {
        return 1;
    }
    if (!walk->deep) {
        census_add(census, obj, 0);
    } else if (Py_TYPE(obj)->tp_traverse != NULL) {
        Py_TYPE(obj)->tp_traverse(obj, census_visit, census);
    }
    return !census->failed;
}

static PyObject *
onebin_census(PyObject *self, PyObject *arg)
{
    int deep = PyObject_IsTrue(arg);
    if (deep < 0) {
        return NULL;
    }
    destructor subtype = subtype_dealloc();
    Census census = {
        {calloc(1024, sizeof(PyTypeObject *)), 1023, 0, NULL}, PyList_New(0), PyList_New(0), {NULL}, 0, 0,
    };
    PyObject *result = NULL;
    if (subtype != NULL && census.types.slots != NULL && census.finalizable != NULL && census.callbacks != NULL) {
        CensusWalk walk = {&census, 0};
        onebin_gc_visit(census_walk, &walk);
        if (deep && !census.failed) {
            walk.deep = 1;
            onebin_gc_visit(census_walk, &walk);
        }
        Objects loaded = {0};
        dl_iterate_phdr(note_object, &loaded);
        PyObject *types = census.failed ? NULL : PyDict_New();
        for (size_t i = 0; types != NULL && i <= census.types.mask; i++) {
            PyTypeObject *type = census.types.slots[i] ? native_type(census.types.slots[i], subtype) : NULL;
            if (type == NULL || PyDict_Contains(types, (PyObject *)type)) {
                continue;
            }
            PyObject *origin = origin_of(type, subtype, &loaded);
            if (origin == NULL || PyDict_SetItem(types, (PyObject *)type, origin) < 0) {
                Py_CLEAR(types);
            }
            Py_XDECREF(origin);
        }
        free(loaded.items);
        if (types != NULL) {
            result = Py_BuildValue("(NOO)", types, census.finalizable, census.callbacks);
        } else if (!PyErr_Occurred()) {
            result = Py_NewRef(Py_None);
        }
    }
    free(census.types.slots);
    Py_XDECREF(census.finalizable);
    Py_XDECREF(census.callbacks);
    return result;
}

/* untracked_types() -> {type: (origin, finalizer)}: every type whose instances the collector
 * does not track (so that only a deep census finds them), but for those of this executable
 * without a finalizer (str, int, ...): where its deallocator lives (see origin_of()), and
 * whether it has a finalizer. Types are found from object down through __subclasses__(); a
 * class statement's subclass of a tracked type is tracked too, so those are not gone into. */
static PyObject *
onebin_untracked_types(PyObject *self, PyObject *unused)
{
    destructor subtype = subtype_dealloc();
    if (subtype == NULL) {
        return NULL;
    }
    /* type.__subclasses__, called as a function: a metaclass's own attribute is unbound */
    PyObject *subclasses_of = PyObject_GetAttrString((PyObject *)&PyType_Type, "__subclasses__");
    PyObject *result = PyDict_New(), *seen = PySet_New(NULL), *stack = PyList_New(0);
    Objects loaded = {0};
    dl_iterate_phdr(note_object, &loaded);
    int failed = subclasses_of == NULL || result == NULL || seen == NULL || stack == NULL
        || PyList_Append(stack, (PyObject *)&PyBaseObject_Type) < 0;
    while (!failed && PyList_GET_SIZE(stack) > 0) {
        Py_ssize_t last = PyList_GET_SIZE(stack) - 1;
        PyObject *type = Py_NewRef(PyList_GET_ITEM(stack, last));
        failed = PyList_SetSlice(stack, last, last + 1, NULL) < 0;
        PyObject *subclasses = failed ? NULL : PyObject_CallOneArg(subclasses_of, type);
        Py_DECREF(type);
        failed = subclasses == NULL || !PyList_Check(subclasses);
        for (Py_ssize_t i = 0; !failed && i < PyList_GET_SIZE(subclasses); i++) {
            PyObject *sub = PyList_GET_ITEM(subclasses, i);
            PyTypeObject *t = (PyTypeObject *)sub;
            int known = PySet_Contains(seen, sub);
            if (known != 0) {
                failed = known < 0;
                continue;
            }
            int tracked = PyType_HasFeature(t, Py_TPFLAGS_HAVE_GC);
            if (tracked && PyType_HasFeature(t, Py_TPFLAGS_HEAPTYPE)) {
                continue;
            }
            failed = PySet_Add(seen, sub) < 0 || PyList_Append(stack, sub) < 0;
            int finalizer = t->tp_finalize != NULL || t->tp_del != NULL;
            if (failed || tracked) {
                continue;
            }
            PyObject *origin = origin_of(t, subtype, &loaded);
            if (origin != Py_None || finalizer) {
                PyObject *value = origin ? Py_BuildValue("(OO)", origin, finalizer ? Py_True : Py_False) : NULL;
                failed = value == NULL || PyDict_SetItem(result, sub, value) < 0;
                Py_XDECREF(value);
            }
            Py_XDECREF(origin);
        }
        Py_XDECREF(subclasses);
    }
    free(loaded.items);
    Py_XDECREF(subclasses_of);
    Py_XDECREF(seen);
    Py_XDECREF(stack);
    if (failed) {
        Py_XDECREF(result);
        return NULL;
    }
    return result;
}

/* teardown_hooks() -> str | None: why CPython's teardown must run for a hook it would call. */
static PyObject *
onebin_teardown_hooks_py(PyObject *self, PyObject *unused)
{
    const char *why = onebin_teardown_hooks();
    if (why != NULL) {
        return PyUnicode_FromString(why);
    }
    PyThreadState *tstate = PyThreadState_Get();
    if (tstate->c_profilefunc != NULL || tstate->c_tracefunc != NULL) {
        return PyUnicode_FromString("a profile or trace function is set");
    }
    Py_RETURN_NONE;
}

/* exit(status): ends the process as C's exit() does (C atexit handlers, stdio), skipping the
 * interpreter's teardown. Only for the runtime's last atexit callback. */
static PyObject *
onebin_exit(PyObject *self, PyObject *arg)
{
    long status = PyLong_AsLong(arg);
    if (status == -1 && PyErr_Occurred()) {
        return NULL;
    }
    fflush(NULL);
    exit((int)status);
}

/* manifest(directory, names, uid) -> str: what the cache's manifest records of the files
 * `directory/name` (the directory itself for ""): a line "<name>\t<size> <mtime_ns> <inode>"
 * each, with "missing" or "untrusted" (not a regular file of `uid`, or writable by others) instead of the
 * numbers: the manifest's one definition, which _runtime/cache.py writes and compares in one
 * piece (a stat per file in C costs a third of one in Python; django's unit has 3,662 files). */
static PyObject *
onebin_manifest(PyObject *self, PyObject *args)
{
    const char *directory;
    PyObject *names;
    unsigned long uid;
    if (!PyArg_ParseTuple(args, "sOk:manifest", &directory, &names, &uid)) {
        return NULL;
    }
    PyObject *items = PySequence_Fast(names, "manifest() takes a sequence of names");
    if (items == NULL) {
        return NULL;
    }
    size_t capacity = 1 << 16, used = 0;
    char *text = malloc(capacity);
    PyObject *result = NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(items);
    for (Py_ssize_t i = 0; text != NULL && i < count; i++) {
        Py_ssize_t length;
        const char *name = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(items, i), &length);
        if (name == NULL) {
            goto done;
        }
        char path[PATH_MAX], line[96];
        int n = snprintf(path, sizeof(path), name[0] ? "%s/%s" : "%s", directory, name);
        struct stat st;
        if (n < 0 || (size_t)n >= sizeof(path) || lstat(path, &st) != 0) {
            snprintf(line, sizeof(line), "missing");
        } else if (!S_ISREG(st.st_mode) || st.st_uid != (uid_t)uid || (st.st_mode & 0022)) {
            snprintf(line, sizeof(line), "untrusted");
        } else {
            long long mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
            snprintf(line, sizeof(line), "%lld %lld %llu", (long long)st.st_size, mtime_ns,
                     (unsigned long long)st.st_ino);
        }
        size_t need = (size_t)length + strlen(line) + 2;
        if (used + need > capacity) {
            while (used + need > capacity) {
                capacity *= 2;
            }
            char *bigger = realloc(text, capacity);
            if (bigger == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            text = bigger;
        }
        used += (size_t)sprintf(text + used, "%s\t%s\n", name, line);
    }
    result = text ? PyUnicode_DecodeUTF8(text, (Py_ssize_t)used, "strict") : PyErr_NoMemory();
done:
    free(text);
    Py_DECREF(items);
    return result;
}

/* set_flag(name, value): sys.flags.<name> = value, in the existing object, as CPython's
 * _PySys_UpdateConfig() sets its items after initialisation (sys.flags is read-only from
 * Python). The field's position comes from the type's members: it differs between versions. */
static PyObject *
onebin_set_flag(PyObject *self, PyObject *args)
{
    const char *name;
    PyObject *value;
    if (!PyArg_ParseTuple(args, "sO:set_flag", &name, &value)) {
        return NULL;
    }
    PyObject *flags = PySys_GetObject("flags");  /* borrowed */
    if (flags == NULL || !PyTuple_Check(flags) || Py_TYPE(flags)->tp_members == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "sys.flags is not CPython's struct sequence");
        return NULL;
    }
    for (const PyMemberDef *member = Py_TYPE(flags)->tp_members; member->name != NULL; member++) {
        Py_ssize_t index = (member->offset - (Py_ssize_t)offsetof(PyTupleObject, ob_item))
                           / (Py_ssize_t)sizeof(PyObject *);
        if (strcmp(member->name, name) == 0 && index >= 0 && index < PyTuple_GET_SIZE(flags)) {
            PyObject *old = PyTuple_GET_ITEM(flags, index);
            Py_INCREF(value);
            PyTuple_SET_ITEM(flags, index, value);  /* the existing object: `from sys import flags` sees it too */
            Py_XDECREF(old);
            Py_RETURN_NONE;
        }
    }
    PyErr_Format(PyExc_AttributeError, "sys.flags has no field %s", name);
    return NULL;
}

/* io.open_code(), which importlib's file loaders and runpy read Python files with: a path in
 * the bundle is read by the runtime's handler (from memory; as on disk, a missing file is
 * FileNotFoundError, not the NotADirectoryError of a path through this file); any other
 * path, or None from the handler, is opened as CPython does without a hook. */
static PyObject *open_code_handler = NULL;

static int run_site = 0;  /* started as python without -S: what `site` does is the runtime's */

static PyObject *
open_code(PyObject *path, void *unused)
{
    (void)unused;
    if (open_code_handler != NULL) {
        PyObject *opened = PyObject_CallOneArg(open_code_handler, path);
        if (opened != Py_None) {
            return opened;  /* a file, or NULL with its error */
        }
        Py_DECREF(opened);
    }
    PyObject *io = PyImport_ImportModule("_io");
    if (io == NULL) {
        return NULL;
    }
    PyObject *file = PyObject_CallMethod(io, "open", "Os", path, "rb");
    Py_DECREF(io);
    return file;
}

static PyObject *
onebin_open_code_with(PyObject *self, PyObject *handler)
{
    (void)self;
    if (open_code_handler == NULL && PyFile_SetOpenCodeHook(open_code, NULL) < 0) {
        return NULL;  /* an embedder's hook was there first */
    }
    Py_INCREF(handler);
    Py_XSETREF(open_code_handler, handler);
    Py_RETURN_NONE;
}

static PyMethodDef onebin_methods[] = {
    {"open_code_with", onebin_open_code_with, METH_O,
     "open_code_with(handler): io.open_code(path) calls handler(path) first, which returns a\n"
     "file, raises, or returns None for the default."},
    {"lookup", onebin_lookup, METH_VARARGS,
     "lookup(offset, size, key) -> value | None: probe the index table at offset in the payload."},
    {"keys", onebin_keys, METH_VARARGS, "keys(offset, size): the keys of the index table at offset in the payload."},
    {"census", onebin_census, METH_O,
     "census(deep) -> (types, finalizable, callbacks) | None: {C type: file of its deallocator,\n"
     "None for this executable} for the types under every live object, the live objects with a\n"
     "finalizer, and live weakrefs' callbacks; deep: also the objects the collector does not\n"
     "track (see _onebin_runtime.teardown)."},
    {"untracked_types", onebin_untracked_types, METH_NOARGS,
     "untracked_types() -> {type: (file | None, finalizer)}: the types whose instances the\n"
     "collector does not track, but for this executable's without a finalizer."},
    {"teardown_hooks", onebin_teardown_hooks_py, METH_NOARGS,
     "teardown_hooks() -> str | None: why the interpreter's teardown must run for a hook it calls."},
    {"exit", onebin_exit, METH_O, "exit(status): end the process now, without the interpreter's teardown."},
    {"hash", onebin_hash_object, METH_O, "hash(data) -> int: the payload's 64-bit hash of data."},
    {"dlopen", onebin_dlopen, METH_VARARGS,
     "dlopen(path, global=False) -> handle: load a shared library with RTLD_NOW."},
    {"check", onebin_check, METH_VARARGS,
     "check(offset, size, hash, name): verify a payload blob (a mismatch ends the process)."},
    {"copy", onebin_copy, METH_O,
     "copy(tasks): put blobs into memfds, each (fd, source_fd, offset, size, hash, raw_size, name):\n"
     "copied in the kernel, or unpacked if raw_size; hashes checked; on every CPU when large."},
    {"unpacked", onebin_unpacked, METH_VARARGS,
     "unpacked(offset, size, hash, raw_size, name) -> bytes: a verified packed blob, unpacked."},
    {"seal", onebin_seal, METH_O, "seal(fd): make a memfd's contents final."},
    {"sealed", onebin_sealed, METH_O, "sealed(fd) -> bool: whether a memfd's contents are final."},
    {"code", onebin_code, METH_VARARGS,
     "code(offset, size, hash, name, raw_size=0) -> code: unmarshal a verified blob (unpacking it\n"
     "if raw_size), then drop its pages."},
    {"ahead", onebin_ahead, METH_O,
     "ahead(offset) -> fd: a memfd holding the native blob at offset, checked, if the work done\n"
     "ahead made it (the caller owns it then), else -1."},
    {"parent_is_this_executable", onebin_parent_is_this_executable, METH_NOARGS,
     "parent_is_this_executable() -> bool: whether the parent process runs this same executable\n"
     "(then it may hold sealed memfds this process can share)."},
    {"manifest", onebin_manifest, METH_VARARGS,
     "manifest(directory, names, uid) -> str: the cache manifest's lines for these files, as they are."},
    {"release", onebin_release, METH_VARARGS,
     "release(offset, size): drop this process's pages of a payload range."},
    {"set_flag", onebin_set_flag, METH_VARARGS,
     "set_flag(name, value): set the field `name` of sys.flags, in place, as CPython does after start."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef onebin_module = {
    PyModuleDef_HEAD_INIT, "_onebin", "The onebin launcher's interface for the embedded runtime.",
    -1, onebin_methods,
};

static PyObject *
PyInit__onebin(void)
{
    PyObject *m = PyModule_Create(&onebin_module);
    if (m == NULL) {
        return NULL;
    }
    PyObject *payload = PyMemoryView_FromMemory(
        (char *)bundle.payload, (Py_ssize_t)bundle.payload_size, PyBUF_READ);
    if (payload == NULL
        || PyModule_AddObject(m, "payload", payload) < 0
        || PyModule_AddStringConstant(m, "executable", bundle.executable) < 0
        || PyModule_AddStringConstant(m, "file", handoff.active ? bundle.executable : "/proc/self/exe") < 0
        || PyModule_AddObject(m, "identity", Py_BuildValue("(KK)", (unsigned long long)bundle.dev,
                                                           (unsigned long long)bundle.ino)) < 0
        || PyModule_AddStringConstant(m, "venv", bundle.venv) < 0
        || PyModule_AddObject(m, "venv_system_site", PyBool_FromLong(bundle.venv_system_site)) < 0
        || PyModule_AddObject(m, "site", PyBool_FromLong(run_site)) < 0
        || PyModule_AddObject(m, "payload_offset", PyLong_FromUnsignedLongLong(bundle.payload_offset)) < 0
        || PyModule_AddObject(m, "index_offset", PyLong_FromUnsignedLongLong(bundle.index.offset)) < 0
        || PyModule_AddObject(m, "index_size", PyLong_FromUnsignedLongLong(bundle.index.size)) < 0) {
        Py_XDECREF(payload);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

/* ---- interpreter configuration ---- */

static PyStatus
set_bytes_list(PyWideStringList *list, int count, char **items)
{
    for (int i = 0; i < count; i++) {
        wchar_t *wide = Py_DecodeLocale(items[i], NULL);
        if (wide == NULL) {
            return PyStatus_NoMemory();
        }
        PyStatus st = PyWideStringList_Append(list, wide);
        PyMem_RawFree(wide);
        if (PyStatus_Exception(st)) {
            return st;
        }
    }
    return PyStatus_Ok();
}

/* PYTHONPATH comes before the bundle, as before the stdlib in python (as an interpreter only). */
static PyStatus
prepend_pythonpath(PyConfig *config)
{
    wchar_t *copy = wcsdup(config->pythonpath_env);
    if (copy == NULL) {
        return PyStatus_NoMemory();
    }
    Py_ssize_t at = 0;
    wchar_t *state = NULL;
    PyStatus st = PyStatus_Ok();
    for (wchar_t *entry = wcstok(copy, L":", &state); entry != NULL; entry = wcstok(NULL, L":", &state)) {
        st = PyWideStringList_Insert(&config->module_search_paths, at++, entry);
        if (PyStatus_Exception(st)) {
            break;
        }
    }
    free(copy);
    return st;
}

static PyStatus
set_search_paths(PyConfig *config, const Bundle *b)
{
    config->module_search_paths_set = 1;
    const char *p = (const char *)b->payload + b->paths.offset;
    const char *end = p + b->paths.size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char buf[PATH_MAX * 2];
        int w = snprintf(buf, sizeof(buf), "%s/%.*s", b->executable, (int)len, p);
        if (w < 0 || (size_t)w >= sizeof(buf)) {
            return PyStatus_Error("onebin: a sys.path entry is too long");
        }
        wchar_t *wide = Py_DecodeLocale(buf, NULL);
        if (wide == NULL) {
            return PyStatus_NoMemory();
        }
        PyStatus st = PyWideStringList_Append(&config->module_search_paths, wide);
        PyMem_RawFree(wide);
        if (PyStatus_Exception(st)) {
            return st;
        }
        p += len + 1;
    }
    return PyStatus_Ok();
}

/* The executable stands for the installation prefix: sys.prefix is its path, and the bundle's
 * files appear beneath it (e.g. <exe>/lib/python3.X/os.py). Setting every path field keeps
 * CPython's getpath from probing the build machine's prefix.
 *
 * As the app, every argument belongs to the app and PYTHON* variables are ignored (but two that
 * change only how it runs, below). As an interpreter (see started_as_interpreter), the command
 * line and environment are python's. */
static PyStatus
configure(PyConfig *config, int argc, char **argv, int interpreter)
{
    PyStatus st;
    PyConfig_InitPythonConfig(config);
    config->_init_main = 0;
    config->parse_argv = interpreter;
    config->use_environment = interpreter;
    config->user_site_directory = 0;
    config->site_import = interpreter;  /* read from the command line (-S), then see below */
    config->write_bytecode = 0;
    config->pathconfig_warnings = 0;
    /* safe_path stays 0, as for a venv's console script: as the app, nothing puts a directory
     * on sys.path from the command line (run_main() runs the entry point), and apps read the
     * flag (coverage's `run` puts the script's directory first only when it is 0). */
    st = PyConfig_SetBytesArgv(config, argc, argv);
    if (PyStatus_Exception(st)) {
        return st;
    }
    if (!interpreter) {
        /* Of the PYTHON* variables, those that change how the interpreter runs, not what it
         * imports, as a venv's console script honours them: PYTHONUNBUFFERED (set in many
         * containers, so that output and errors interleave as written) and PYTHONFAULTHANDLER. */
        const char *unbuffered = getenv("PYTHONUNBUFFERED"), *faults = getenv("PYTHONFAULTHANDLER");
        if (unbuffered != NULL && unbuffered[0] != '\0') {
            config->buffered_stdio = 0;
        }
        if (faults != NULL && faults[0] != '\0') {
            config->faulthandler = 1;
        }
        /* As if run by `python <this file> ARGS`, which is what reloaders re-run from
         * sys.executable and sys.orig_argv: see started_as_interpreter(). */
        char *orig[argc + 1];
        orig[0] = argv[0];
        orig[1] = bundle.executable;
        for (int i = 1; i < argc; i++) {
            orig[i + 1] = argv[i];
        }
        st = set_bytes_list(&config->orig_argv, argc + 1, orig);
        if (PyStatus_Exception(st)) {
            return st;
        }
    }
    wchar_t **fields[] = {
        &config->executable, &config->base_executable, &config->home, &config->prefix,
        &config->base_prefix, &config->exec_prefix, &config->base_exec_prefix,
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *value = i < 2 ? bundle.interpreter : bundle.executable;
        if (i == 0 && bundle.venv[0] != '\0') {
            value = bundle.venv_python;  /* sys.executable; the runtime sets sys.prefix */
        }
        st = PyConfig_SetBytesString(config, fields[i], value);
        if (PyStatus_Exception(st)) {
            return st;
        }
    }
    st = set_search_paths(config, &bundle);
    if (PyStatus_Exception(st)) {
        return st;
    }
    st = PyConfig_Read(config);
    if (PyStatus_Exception(st)) {
        return st;
    }
    /* The bundle has no site-packages on disk for `site` to add: the runtime adds what it
     * would (a venv's site-packages, sitecustomize) unless python's -S asked for none. */
    run_site = config->site_import;
    config->site_import = 0;

    if (!interpreter || config->pythonpath_env == NULL) {
        return st;
    }
    return prepend_pythonpath(config);
}

/* Executes the embedded runtime's modules, in the order the builder wrote them. */
static int
load_runtime(void)
{
    PyObject *mods = PyMarshal_ReadObjectFromString(
        (const char *)bundle.payload + bundle.runtime.offset, (Py_ssize_t)bundle.runtime.size);
    if (mods == NULL || !PyTuple_Check(mods)) {
        Py_XDECREF(mods);
        return -1;
    }
    PyObject *sys_modules = PyImport_GetModuleDict();
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mods); i++) {
        PyObject *name, *package, *marshalled;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(mods, i), "UUS", &name, &package, &marshalled)) {
            Py_DECREF(mods);
            return -1;
        }
        PyObject *code = PyMarshal_ReadObjectFromString(
            PyBytes_AS_STRING(marshalled), PyBytes_GET_SIZE(marshalled));
        PyObject *module = code ? PyModule_NewObject(name) : NULL;
        if (module == NULL || PyDict_SetItem(sys_modules, name, module) < 0) {
            Py_XDECREF(code);
            Py_XDECREF(module);
            Py_DECREF(mods);
            return -1;
        }
        PyObject *dict = PyModule_GetDict(module);
        PyObject *result = NULL;
        if (PyDict_SetItemString(dict, "__builtins__", PyEval_GetBuiltins()) == 0
            && PyDict_SetItemString(dict, "__package__", package) == 0) {
            result = PyEval_EvalCode(code, dict, dict);
        }
        Py_DECREF(code);
        Py_DECREF(module);
        if (result == NULL) {
            Py_DECREF(mods);
            return -1;
        }
        Py_DECREF(result);
    }
    Py_DECREF(mods);
    return 0;
}

static PyObject *
call_bootstrap(const char *function, PyObject *arg)
{
    PyObject *mod = PyImport_ImportModule("_onebin_runtime.bootstrap");
    if (mod == NULL) {
        return NULL;
    }
    PyObject *result = arg ? PyObject_CallMethod(mod, function, "O", arg)
                           : PyObject_CallMethod(mod, function, NULL);
    Py_DECREF(mod);
    return result;
}

/* Calls a bootstrap function returning an int; failures are printed and count as 1. */
static int
call_status(const char *function, PyObject *arg)
{
    PyObject *result = call_bootstrap(function, arg);
    long status = result ? PyLong_AsLong(result) : -1;
    Py_XDECREF(result);
    if (PyErr_Occurred()) {
        PyErr_Print();
        return 1;
    }
    return (int)status;
}

/* Runs __main__'s code as `python app.py` does; returns the exit status. */
static int
run_main(int *interrupted)
{
    PyObject *code = call_bootstrap("main_code", NULL);
    PyObject *main_module = code ? PyImport_AddModule("__main__") : NULL;  /* borrowed */
    PyObject *result = NULL;
    if (main_module != NULL) {
        PyObject *dict = PyModule_GetDict(main_module);
        result = PyEval_EvalCode(code, dict, dict);
    }
    Py_XDECREF(code);
    int status = 0;
    if (result == NULL) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        if (tb != NULL) {
            PyException_SetTraceback(value, tb);
        }
        *interrupted = PyErr_GivenExceptionMatches(value, PyExc_KeyboardInterrupt);
        status = call_status("exit_status", value);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
    }
    Py_XDECREF(result);
    if (call_status("flush_stdio", NULL) != 0 && status == 0) {
        status = 1;
    }
    return status;
}

/* The value of `key` in the pyvenv.cfg `config` ("key = value" lines, as CPython's site reads
 * them), copied into out; 0, or -1 if the file or the key is not there. */
static int
pyvenv_value(const char *config, const char *key, char *out, size_t size)
{
    char text[4096];
    FILE *f = fopen(config, "r");
    if (f == NULL) {
        return -1;
    }
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    size_t length = strlen(key);
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char *eq = strchr(line, '=');
        if (eq == NULL || strncasecmp(line, key, length) != 0 || strspn(line + length, " \t") != (size_t)(eq - line - length)) {
            continue;
        }
        snprintf(out, size, "%s", eq + 1 + strspn(eq + 1, " \t"));
        for (size_t end = strlen(out); end > 0 && (out[end - 1] == ' ' || out[end - 1] == '\r'); end--) {
            out[end - 1] = '\0';
        }
        return 0;
    }
    return -1;
}

/* Whether the file at `path` is a copy of this one: the same size and the same trailer, whose
 * header hash covers the payload's index. */
static int
copy_of_this_file(const char *path)
{
    unsigned char trailer[TRAILER_SIZE];
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    int same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == bundle.file_size
               && pread(fd, trailer, TRAILER_SIZE, st.st_size - TRAILER_SIZE) == TRAILER_SIZE
               && memcmp(trailer, bundle.file + bundle.file_size - TRAILER_SIZE, TRAILER_SIZE) == 0;
    close(fd);
    return same;
}

/* Whether a pyvenv.cfg says its venv was made from this executable: its `home`, the directory
 * of the python it was made with, is this file's; or this file is a copy of that python (a
 * venv made with copies, as venv.EnvBuilder() makes by default): the `executable` it names
 * (3.11+), or a file in `home` named as one in this file's directory (venv copies the base
 * python under its own name too). Else a copy would run the app, which may make a venv again. */
static int
venv_made_from_here(const char *config)
{
    char home[PATH_MAX], real[PATH_MAX], base[PATH_MAX], candidate[PATH_MAX];
    const char *slash = strrchr(bundle.executable, '/');
    if (pyvenv_value(config, "home", home, sizeof(home)) != 0 || realpath(home, real) == NULL || slash == NULL) {
        return 0;
    }
    size_t dir_length = (size_t)(slash - bundle.executable);
    if (strlen(real) == dir_length && strncmp(real, bundle.executable, dir_length) == 0) {
        return 1;
    }
    if (pyvenv_value(config, "executable", base, sizeof(base)) == 0 && copy_of_this_file(base)) {
        return 1;
    }
    char own_dir[PATH_MAX];
    snprintf(own_dir, sizeof(own_dir), "%.*s", (int)dir_length, bundle.executable);
    DIR *dir = opendir(own_dir);
    int found = 0;
    for (struct dirent *entry; dir != NULL && !found && (entry = readdir(dir)) != NULL;) {
        int n = snprintf(candidate, sizeof(candidate), "%s/%s", real, entry->d_name);
        found = entry->d_name[0] != '.' && n > 0 && (size_t)n < sizeof(candidate) && copy_of_this_file(candidate);
    }
    if (dir != NULL) {
        closedir(dir);
    }
    return found;
}

/* Whether this process was started as the python of a virtual environment made from it
 * (`<sys.executable> -m venv DIR`, or virtualenv as tox runs it): from a directory
 * that holds, or whose parent holds, a pyvenv.cfg whose `home` is this file's directory (as
 * CPython's site looks for it), by any name (venv runs the base executable's name, the app's,
 * for ensurepip). Notes the venv's directory and its python's absolute path in the bundle. */
static int
started_in_venv(const char *execfn)
{
    char python[PATH_MAX], config[PATH_MAX];
    int n = execfn[0] == '/' ? snprintf(python, sizeof(python), "%s", execfn)
                             : snprintf(python, sizeof(python), "%s/%s", getcwd(config, sizeof(config)) ? config : ".", execfn);
    if (n < 0 || (size_t)n >= sizeof(python)) {
        return 0;
    }
    char beside[PATH_MAX], prefix[PATH_MAX];  /* the python's directory, and the one above it */
    snprintf(beside, sizeof(beside), "%s", python);
    *strrchr(beside, '/') = '\0';
    snprintf(prefix, sizeof(prefix), "%s", beside);
    char *slash = strrchr(prefix, '/');
    if (slash == NULL || slash == prefix) {
        return 0;
    }
    *slash = '\0';  /* sys.prefix, as site makes it, wherever pyvenv.cfg is found */
    const char *candidates[] = {beside, prefix};
    int found = 0;
    for (int i = 0; i < 2 && !found; i++) {
        int d = snprintf(config, sizeof(config), "%s/pyvenv.cfg", candidates[i]);
        found = d > 0 && (size_t)d < sizeof(config) && venv_made_from_here(config);
    }
    if (found) {
        char system[16];
        snprintf(bundle.venv, sizeof(bundle.venv), "%s", prefix);
        snprintf(bundle.venv_python, sizeof(bundle.venv_python), "%s", python);
        bundle.venv_system_site = pyvenv_value(config, "include-system-site-packages", system, sizeof(system)) == 0
                                  && strcasecmp(system, "true") == 0;
    }
    return found;
}

/* Whether `arg` begins a python command line: one of python's own option clusters (-c CODE,
 * -m MODULE, -S, -I, -E, -s, -u, -B, -O, -W ARG, -X OPT, or several as in -Sc, -IS). */
static int
python_options(const char *arg)
{
    if (arg == NULL || arg[0] != '-' || arg[1] == '\0' || arg[1] == '-') {
        return 0;
    }
    for (const char *c = arg + 1; *c != '\0'; c++) {
        if (strchr("cmWX", *c) != NULL) {
            return 1;  /* the rest, or the next argument, is its value */
        }
        if (strchr("bBdEiIOPqsSuvR", *c) == NULL) {
            return 0;
        }
    }
    return 1;
}

/* Whether this process was started through sys.executable, to serve as the app's interpreter
 * (multiprocessing, `subprocess.run([sys.executable, "-c", ...])`), rather than to run the app.
 * sys.executable spells this file's path as <dir>/./<name>, which nobody types and the kernel
 * passes on unchanged as AT_EXECFN. Tools that normalise sys.executable drop the "/./"
 * (os.path.abspath, pathlib.Path, virtualenv's pyvenv.cfg, which pre-commit then runs): a
 * process of this file that starts it by an absolute path with python's options (`-c`, `-m`,
 * `-S`...) first gets the interpreter too. A person, or a shell, starting it so gets the app. */
static int
started_as_interpreter(int argc, char **argv)
{
    const char *execfn = started_by();
    if (execfn != NULL && (strcmp(execfn, bundle.interpreter) == 0 || started_in_venv(execfn))) {
        return 1;
    }
    /* A script whose #! line names sys.executable (the scripts the runtime writes in the cache's
     * bin/, see PathHook.write_scripts) or a venv's python (pip's console scripts in a venv made
     * from this file): the kernel passes the script as AT_EXECFN, the #! path as argv[0]. */
    if (execfn != NULL && argc > 1 && argv[0][0] == '/' && strcmp(argv[0], execfn) != 0
        && (strcmp(argv[0], bundle.interpreter) == 0 || started_in_venv(argv[0]))) {
        return 1;
    }
    return argc > 1 && argv[0][0] == '/' && python_options(argv[1]) && parent_runs_this_file();
}

/* `<interpreter> <this file> ARGS`, as reloaders run (Django's, werkzeug's with sys.orig_argv),
 * means the app with ARGS, exactly as python would run the app given as a script. sys.argv (the
 * script, then its arguments) is the tail of the command line, taken as the bytes it came as:
 * converting config's wide strings back (Py_EncodeLocale) would need Python's allocator, which
 * on 3.12 and later does not work before the interpreter exists. */
static void
exec_app_if_own_script(const PyConfig *config, int argc, char **argv)
{
    Py_ssize_t first = (Py_ssize_t)argc - config->argv.length;
    if (config->run_filename == NULL || config->argv.length < 1 || first < 1 || first >= argc) {
        return;
    }
    const char *script = argv[first];
    struct stat theirs;
    if (stat(script, &theirs) != 0 || theirs.st_dev != bundle.dev || theirs.st_ino != bundle.ino) {
        return;
    }
    /* With --compress, /proc/self/exe is the unpacked launcher: this file starts with its unpacker. */
    execv(handoff.active ? bundle.executable : "/proc/self/exe", &argv[first]);
    fprintf(stderr, "%s: cannot restart as the app: %s\n", script, strerror(errno));
    exit(2);
}

/* ONEBIN_TRACE=1 also times the start-up's phases, up to the app's first line. */
static struct {
    int on;
    int count;
    const char *names[10];
    struct timespec at[10];
} phases;

static void
phase(const char *name)
{
    if (phases.on && phases.count < 10) {
        phases.names[phases.count] = name;
        clock_gettime(CLOCK_MONOTONIC, &phases.at[phases.count++]);
    }
}

static void
report_ahead(void)
{
    fprintf(stderr,
            "onebin: ahead: %u of %u listed taken ready (%u waited for, %.2f ms, or made together), %u done by "
            "the app's thread\n",
            ahead.taken, ahead.count, ahead.waited, ahead.waited_ms, ahead.own);
}

static void
report_phases(void)
{
    if (!phases.on || phases.count < 2) {
        return;
    }
    char line[512];
    int used = snprintf(line, sizeof(line), "onebin: start-up");
    for (int i = 1; i < phases.count && used < (int)sizeof(line); i++) {
        double ms = (phases.at[i].tv_sec - phases.at[i - 1].tv_sec) * 1e3
                    + (phases.at[i].tv_nsec - phases.at[i - 1].tv_nsec) / 1e6;
        used += snprintf(line + used, sizeof(line) - used, "%s %s %.2f ms", i > 1 ? "," : ":", phases.names[i], ms);
    }
    fprintf(stderr, "%s\n", line);
    if (ahead.count) {
        atexit(report_ahead);
    }
}

int
main(int argc, char **argv)
{
    const char *trace = getenv("ONEBIN_TRACE");
    phases.on = trace != NULL && trace[0] != '\0' && strcmp(trace, "0") != 0;
    phase("exec");
    handoff_take();
    int owned = 0;
    dl_iterate_phdr(own_writable_data, &owned);
    const char *problem = bundle_open(&bundle);
    phase("payload");
    if (problem != NULL) {
        fprintf(stderr, "%s: %s\n", argc > 0 ? argv[0] : "onebin", problem);
        return 2;
    }
    if (PyImport_AppendInittab("_onebin", PyInit__onebin) < 0) {
        fprintf(stderr, "onebin: cannot register the _onebin module\n");
        return 2;
    }
    /* ONEBIN_PYTHON=1: the debug hatch, a Python prompt (or -c, -m) inside the bundle. It is
     * removed from the environment, so the app's own children are not affected by it. */
    const char *hatch = getenv("ONEBIN_PYTHON");
    int interpreter = started_as_interpreter(argc, argv) || (hatch != NULL && strcmp(hatch, "1") == 0);
    unsetenv("ONEBIN_PYTHON");
    PyPreConfig preconfig;
    PyPreConfig_InitPythonConfig(&preconfig);
    preconfig.use_environment = interpreter;
    preconfig.parse_argv = interpreter;
    PyStatus st = Py_PreInitializeFromBytesArgs(&preconfig, argc, argv);
    if (PyStatus_Exception(st)) {
        Py_ExitStatusException(st);
    }
    if (!interpreter && ahead_read(&bundle.ahead) && owned) {
        ahead_launch();
    }
    PyConfig config;
    st = configure(&config, argc, argv, interpreter);
    if (!PyStatus_Exception(st) && interpreter) {
        exec_app_if_own_script(&config, argc, argv);
    }
    if (!PyStatus_Exception(st)) {
        st = Py_InitializeFromConfig(&config);
    }
    phase("core");
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        Py_ExitStatusException(st);
    }
    ahead_launch();  /* if it could not start before the core */
    int loaded = load_runtime();
    phase("runtime");
    PyObject *ok = loaded == 0 ? call_bootstrap("install", NULL) : NULL;
    phase("install");
    if (ok == NULL) {
        PyErr_Print();
        fprintf(stderr, "%s: the embedded runtime failed to start; rebuild the executable\n", argv[0]);
        return 2;
    }
    Py_DECREF(ok);
    st = _Py_InitializeMain();
    phase("main phase");
    if (PyStatus_Exception(st)) {
        Py_ExitStatusException(st);
    }
    ok = call_bootstrap("complete", interpreter ? Py_False : Py_True);
    if (ok == NULL) {
        PyErr_Print();
        return 2;
    }
    Py_DECREF(ok);
    phase("complete");
    report_phases();
    if (interpreter) {
        return Py_RunMain();  /* -c, -m, a script or the REPL, exactly as python */
    }
    int interrupted = 0;
    int exitcode = run_main(&interrupted);
    if (!interrupted) {
        PyObject *status = PyLong_FromLong(exitcode);
        ok = status ? call_bootstrap("ending", status) : NULL;
        Py_XDECREF(status);
        if (ok == NULL) {
            PyErr_Print();
        }
        Py_XDECREF(ok);
    }
    if (Py_FinalizeEx() < 0 && exitcode == 0) {
        exitcode = 120;  /* as python: flushing stdout failed at exit */
    }
    if (interrupted) {
        /* As python does: die of SIGINT so the shell sees the interrupt. */
        signal(SIGINT, SIG_DFL);
        kill(getpid(), SIGINT);
    }
    return exitcode;
}
