/* Plain: a native object the cyclic collector does not track, with nothing to release. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyTypeObject PlainType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nativeres.Plain",
    .tp_basicsize = sizeof(PyObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_plain", NULL, -1, NULL};

PyMODINIT_FUNC
PyInit__plain(void)
{
    if (PyType_Ready(&PlainType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddObject(m, "Plain", Py_NewRef((PyObject *)&PlainType)) < 0) {
        Py_CLEAR(m);
    }
    return m;
}
