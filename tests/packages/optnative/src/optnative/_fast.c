#define PY_SSIZE_T_CLEAN
#include <Python.h>

int onebin_missing_answer(void);

static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(onebin_missing_answer()); }

static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fast", NULL, -1, methods};

PyMODINIT_FUNC PyInit__fast(void) { return PyModule_Create(&module); }
