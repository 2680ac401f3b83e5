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

#include <dlfcn.h>
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
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "onebin_hash.h"
#include "onebin_payload.h"

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
    char executable[PATH_MAX];   /* this file's real path */
    char interpreter[PATH_MAX];  /* the same file, spelled <dir>/./<name>: sys.executable */
} Bundle;

static Bundle bundle;

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
    ssize_t n = readlink("/proc/self/exe", b->executable, sizeof(b->executable) - 1);
    if (n >= 0) {
        b->executable[n] = '\0';
    } else {
        /* No /proc: the path this process was started with, as the kernel passed it on. */
        const char *execfn = (const char *)getauxval(AT_EXECFN);
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
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
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

static PyObject *
onebin_check(PyObject *self, PyObject *args)
{
    unsigned long long offset, size, expected;
    const char *name;
    int release = 0;
    if (!PyArg_ParseTuple(args, "KKKs|p:check", &offset, &size, &expected, &name, &release)) {
        return NULL;
    }
    if (offset > bundle.payload_size || size > bundle.payload_size - offset) {
        die_damaged("an index entry points outside the payload");
    }
    uint64_t hash = 0;
    uint64_t done = 0;
    do {  /* chunk by chunk, as onebin_hash(): an empty blob is one empty chunk */
        uint64_t n = size - done < ONEBIN_HASH_CHUNK ? size - done : ONEBIN_HASH_CHUNK;
        hash = onebin_hash_chunk(hash, bundle.payload + offset + done, (size_t)n);
        if (release) {
            release_range(offset + done, n);  /* a large library must not stay resident twice */
        }
        done += n;
    } while (done < size);
    if (hash != expected) {
        char what[512];
        snprintf(what, sizeof(what), "checksum mismatch in %s", name);
        die_damaged(what);
    }
    Py_RETURN_NONE;
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

static PyMethodDef onebin_methods[] = {
    {"hash", onebin_hash_object, METH_O, "hash(data) -> int: the payload's 64-bit hash of data."},
    {"dlopen", onebin_dlopen, METH_VARARGS,
     "dlopen(path, global=False) -> handle: load a shared library with RTLD_NOW."},
    {"check", onebin_check, METH_VARARGS,
     "check(offset, size, hash, name, release=False): verify a payload blob (a mismatch ends the\n"
     "process); with release, drop its pages as they are checked."},
    {"release", onebin_release, METH_VARARGS,
     "release(offset, size): drop this process's pages of a payload range."},
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
 * As the app, every argument belongs to the app and PYTHON* variables are ignored. As an
 * interpreter (see started_as_interpreter), the command line and environment are python's. */
static PyStatus
configure(PyConfig *config, int argc, char **argv, int interpreter)
{
    PyStatus st;
    PyConfig_InitPythonConfig(config);
    config->_init_main = 0;
    config->parse_argv = interpreter;
    config->use_environment = interpreter;
    config->user_site_directory = 0;
    config->site_import = 0;  /* the bundle has no site-packages on disk to add */
    config->write_bytecode = 0;
    config->pathconfig_warnings = 0;
#if PY_VERSION_HEX >= 0x030B0000
    config->safe_path = !interpreter;
#endif
    st = PyConfig_SetBytesArgv(config, argc, argv);
    if (PyStatus_Exception(st)) {
        return st;
    }
    if (!interpreter) {
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
    if (PyStatus_Exception(st) || !interpreter || config->pythonpath_env == NULL) {
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

/* Whether this process was started through sys.executable, to serve as the app's interpreter
 * (multiprocessing, `subprocess.run([sys.executable, "-c", ...])`), rather than to run the app.
 * sys.executable spells this file's path as <dir>/./<name>, which nobody types and the kernel
 * passes on unchanged as AT_EXECFN. Tools that normalise sys.executable start the app instead. */
static int
started_as_interpreter(void)
{
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    return execfn != NULL && strcmp(execfn, bundle.interpreter) == 0;
}

/* `<interpreter> <this file> ARGS`, as reloaders run (Django's, werkzeug's with sys.orig_argv),
 * means the app with ARGS, exactly as python would run the app given as a script. */
static void
exec_app_if_own_script(const PyConfig *config)
{
    if (config->run_filename == NULL) {
        return;
    }
    char *script = Py_EncodeLocale(config->run_filename, NULL);
    struct stat mine, theirs;
    int same = script != NULL && stat(script, &theirs) == 0 && stat(bundle.executable, &mine) == 0
               && mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino;
    if (!same) {
        PyMem_Free(script);
        return;
    }
    char **args = calloc((size_t)config->argv.length + 1, sizeof(char *));
    for (Py_ssize_t i = 0; args != NULL && i < config->argv.length; i++) {
        args[i] = Py_EncodeLocale(config->argv.items[i], NULL);
    }
    if (args != NULL) {
        execv("/proc/self/exe", args);
    }
    fprintf(stderr, "%s: cannot restart as the app: %s\n", script, strerror(errno));
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *problem = bundle_open(&bundle);
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
    int interpreter = started_as_interpreter() || (hatch != NULL && strcmp(hatch, "1") == 0);
    unsetenv("ONEBIN_PYTHON");
    PyPreConfig preconfig;
    PyPreConfig_InitPythonConfig(&preconfig);
    preconfig.use_environment = interpreter;
    preconfig.parse_argv = interpreter;
    PyStatus st = Py_PreInitializeFromBytesArgs(&preconfig, argc, argv);
    if (PyStatus_Exception(st)) {
        Py_ExitStatusException(st);
    }
    PyConfig config;
    st = configure(&config, argc, argv, interpreter);
    if (!PyStatus_Exception(st) && interpreter) {
        exec_app_if_own_script(&config);
    }
    if (!PyStatus_Exception(st)) {
        st = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        Py_ExitStatusException(st);
    }
    PyObject *ok = load_runtime() == 0 ? call_bootstrap("install", NULL) : NULL;
    if (ok == NULL) {
        PyErr_Print();
        fprintf(stderr, "%s: the embedded runtime failed to start; rebuild the executable\n", argv[0]);
        return 2;
    }
    Py_DECREF(ok);
    st = _Py_InitializeMain();
    if (PyStatus_Exception(st)) {
        Py_ExitStatusException(st);
    }
    ok = call_bootstrap("complete", NULL);
    if (ok == NULL) {
        PyErr_Print();
        return 2;
    }
    Py_DECREF(ok);
    if (interpreter) {
        return Py_RunMain();  /* -c, -m, a script or the REPL, exactly as python */
    }
    int interrupted = 0;
    int exitcode = run_main(&interrupted);
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
