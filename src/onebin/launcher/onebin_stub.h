/* The handoff between the unpacker that leads an executable built with --compress (stub.c) and
 * the launcher it unpacks; the builder's side is onebin/launcher/__init__.py
 * (deflated_launcher_for, launcher_files).
 *
 * Such an executable is: the unpacker, the launcher deflated with zlib, padding, a footer, then
 * the payload and its trailer as in any executable. The footer ends where the payload starts:
 *
 *     magic (8) | offset of the deflated launcher (u64) | its size (u64) | the launcher's size (u64)
 *
 * The deflated launcher is a table of u32 sizes, then that many zlib streams, each of STUB_BLOCK
 * bytes of the launcher (the last of the rest), which threads inflate side by side.
 *
 * The unpacker inflates the launcher into a memfd named STUB_MEMFD_NAME "<dev>:<ino>" of this
 * file, seals it, and executes it with STUB_ENV=<fd>:<AT_EXECFN> added to the environment: fd is
 * this file, open for reading, AT_EXECFN the path it was started by. The launcher takes both and
 * removes the variable before anything else runs. A child process of one that runs such a sealed
 * memfd of the same file (the app's multiprocessing workers, sys.executable) executes that memfd
 * as it is: nothing to inflate, and the pages are shared. */
#ifndef ONEBIN_STUB_H
#define ONEBIN_STUB_H

#define STUB_FOOTER_MAGIC "\x7fONEBINZ"
#define STUB_FOOTER_SIZE 32
#define STUB_ENV "ONEBIN_STUB"
#define STUB_MEMFD_NAME "onebin:launcher "
#define STUB_BLOCK (1u << 19)
#define STUB_MAX_BLOCKS 256

#endif
