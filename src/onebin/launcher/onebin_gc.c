/* Visiting every object the cyclic collector tracks, without building gc.get_objects()'s list:
 * the heap census at exit (launcher.c) walks a few hundred thousand objects and must cost little.
 *
 * CPython 3.12 has PyUnstable_GC_VisitObjects(). Before it, the collector's lists are walked
 * directly, with the target's own internal headers: this file is compiled against the very
 * interpreter it is linked with, so their layout is the one in use. */
#include <patchlevel.h>
#if PY_VERSION_HEX < 0x030C0000
#define Py_BUILD_CORE 1
#endif
#include <Python.h>

#if PY_VERSION_HEX < 0x030C0000
#include "internal/pycore_interp.h"
#include "internal/pycore_pystate.h"
#endif

#include "onebin_gc.h"

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
