/* A missing file under this executable's path is missing (onebin_missing.c). */
#ifndef ONEBIN_MISSING_H
#define ONEBIN_MISSING_H

/* From now on, a path through `path` (this file's real path) or `spelled` (sys.executable's
 * spelling of it) that the C library finds no directory in is reported missing (ENOENT). */
void onebin_missing_under(const char *path, const char *spelled);

#endif
