/* onebin_internal.c: what the launcher reads of CPython's internal state. */
#ifndef ONEBIN_INTERNAL_H
#define ONEBIN_INTERNAL_H

/* Called with each object the cyclic collector tracks; returns 0 to stop the walk. It must
 * not create or free such objects. */
typedef int (*onebin_gc_visitor)(PyObject *obj, void *arg);

void onebin_gc_visit(onebin_gc_visitor visit, void *arg);

/* Why CPython's teardown must run for a hook it would call (an audit hook, a C function
 * registered to run at finalisation), or NULL. */
const char *onebin_teardown_hooks(void);

#endif
