/* What the launcher reads of CPython's internal state, for the heap census at exit (launcher.c):
 * the objects the cyclic collector tracks, without building gc.get_objects()'s list, and the
 * hooks that CPython's teardown would call.
 *
 * This file is compiled against the very interpreter it is linked with (its own internal
 * headers), so the layout it reads is the one in use. */
#define Py_BUILD_CORE 1
#include <Python.h>

#include "internal/pycore_interp.h"
#include "internal/pycore_pystate.h"
#include "internal/pycore_runtime.h"

#include "onebin_internal.h"

void
onebin_gc_visit(onebin_gc_visitor visit, void *arg)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyUnstable_GC_VisitObjects(visit, arg);
#else
    struct _gc_runtime_state *gc = &_PyInterpreterState_GET()->gc;
    for (int i = 0; i < NUM_GENERATIONS; i++) {
        PyGC_Head *head = &gc->generations[i].head;
        for (PyGC_Head *node = (PyGC_Head *)head->_gc_next; node != head; node = (PyGC_Head *)node->_gc_next) {
            if (!visit((PyObject *)(node + 1), arg)) {
                return;
            }
        }
    }
#endif
}

const char *
onebin_teardown_hooks(void)
{
    PyInterpreterState *interp = _PyInterpreterState_GET();
    if (interp->audit_hooks != NULL && PyList_Check(interp->audit_hooks) && PyList_GET_SIZE(interp->audit_hooks) > 0) {
        return "an audit hook is set (sys.addaudithook)";
    }
#if PY_VERSION_HEX >= 0x030C0000
    if (_PyRuntime.audit_hooks.head != NULL) {
        return "an audit hook is set (PySys_AddAuditHook)";
    }
    if (_PyRuntime.atexit.ncallbacks > 0) {
        return "a C function is registered with Py_AtExit()";
    }
    if (interp->atexit.ll_callbacks != NULL) {
        return "a C function is registered with PyUnstable_AtExit()";
    }
#else
    if (_PyRuntime.audit_hook_head != NULL) {
        return "an audit hook is set (PySys_AddAuditHook)";
    }
    if (_PyRuntime.nexitfuncs > 0) {
        return "a C function is registered with Py_AtExit()";
    }
#endif
    return NULL;
}
