/* Handle: a native object the cyclic collector does not track which, freed while open, writes
 * to stdout (as a native writer flushes its buffer); close() releases it first. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <unistd.h>

typedef struct {
    PyObject_HEAD
    int open;
} Handle;

static PyObject *
handle_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Handle *self = (Handle *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->open = 1;
    }
    return (PyObject *)self;
}

static void
handle_dealloc(PyObject *self)
{
    if (((Handle *)self)->open) {
        static const char message[] = "handle flushed when freed\n";
        if (write(1, message, sizeof message - 1) < 0) {
            /* nothing to do */
        }
    }
    Py_TYPE(self)->tp_free(self);
}

static PyObject *
handle_close(PyObject *self, PyObject *unused)
{
    ((Handle *)self)->open = 0;
    Py_RETURN_NONE;
}

static PyMethodDef handle_methods[] = {{"close", handle_close, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};

static PyTypeObject HandleType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nativeres.Handle",
    .tp_basicsize = sizeof(Handle),
    .tp_dealloc = handle_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = handle_methods,
    .tp_new = handle_new,
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_handle", NULL, -1, NULL};

PyMODINIT_FUNC
PyInit__handle(void)
{
    if (PyType_Ready(&HandleType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddObject(m, "Handle", Py_NewRef((PyObject *)&HandleType)) < 0) {
        Py_CLEAR(m);
    }
    return m;
}
