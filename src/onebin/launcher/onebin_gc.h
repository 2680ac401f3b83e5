/* onebin_gc.c: visiting the objects the cyclic collector tracks. */
#ifndef ONEBIN_GC_H
#define ONEBIN_GC_H

/* Called with each tracked object; returns 0 to stop the walk. It must not create or free
 * objects the collector tracks. */
typedef int (*onebin_gc_visitor)(PyObject *obj, void *arg);

void onebin_gc_visit(onebin_gc_visitor visit, void *arg);

#endif
