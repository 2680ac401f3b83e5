"""Ending the app without the interpreter's teardown, when that teardown would do nothing.

When the app's code has ended, CPython joins its threads, runs the atexit callbacks and flushes
stdout and stderr; then it tears the interpreter down: it clears every module and frees every
object, which, for an app that imported a few hundred modules, is a fifth of its run time.
Freeing an object is seen from outside only through code that runs when it is freed: a
``__del__`` method, a generator's ``finally`` block, a file flushed as it is closed, a weakref's
callback, or a C type's deallocator that writes something.

So the runtime's own atexit callback, registered before the app's code runs and therefore run
after every other one, takes a census of the heap (``_onebin.census()``, which walks it in C).
When no live object could do anything as it is freed, it ends the process with C's ``exit()``
(C atexit handlers and stdio buffers are still flushed). What could: an object with a finalizer
(unless it is a closed file, a finished generator, ...), a weakref callback other than the
stdlib's bookkeeping, a stdlib type that writes when freed (a database connection), a native
type from outside the stdlib with a close(), flush(), __exit__() (or the like) method; and
anything CPython's teardown would call or report: an audit hook, a profile or trace function, a
C function registered with Py_AtExit(), gc debugging, uncollectable garbage, subinterpreters.
The standard streams (and those they replaced) are flushed before the exit, as the teardown
would. --full-teardown at build time turns all this off. Otherwise, and whenever the census
is in doubt, CPython's teardown runs as it does for ``python app.py``. ``ONEBIN_TRACE=1`` says
which, and why.
"""

import sys

import _onebin

from . import trace as _trace

TYPE_CHECKING = False  # the runtime cannot import typing when it starts
if TYPE_CHECKING:
    from typing import Any

    from .native import NativeLoader

# C types of the standard library whose deallocator writes something: a database closed.
_WRITE_WHEN_FREED = frozenset(
    ["_gdbm.gdbm", "_dbm.dbm", "sqlite3.Connection", "sqlite3.Blob", "_sqlite3.Connection", "_tkinter.tkapp"]
)

# A native type from outside the stdlib that can hold an open resource (a file, a database, a
# connection) has one of these methods, for releasing it when the app chooses: its deallocator
# may write something. One without them (functions, arrays, patterns, enums) leaves no trace
# outside the process when freed.
_RESOURCE_METHODS = (
    "close",
    "flush",
    "__exit__",
    "commit",
    "sync",
    "fsync",
    "save",
    "shutdown",
    "disconnect",
    "terminate",
)

# C types whose finalizer only gives back what the process's end gives back too (a directory
# handle, a socket's descriptor), besides a ResourceWarning, and whose instances the collector
# does not track: while such warnings are not shown, no deep census is taken for them alone (an
# instance found all the same is judged as any other).
_RELEASE_ONLY = frozenset(["posix.ScandirIterator", "_socket.socket"])

# Weakref callbacks of the standard library that only drop an entry from a container.
_BOOKKEEPING_CALLBACKS = frozenset(
    [
        ("weakref", "WeakValueDictionary.__init__.<locals>.remove"),
        ("weakref", "WeakKeyDictionary.__init__.<locals>.remove"),
        ("_weakrefset", "WeakSet.__init__.<locals>._remove"),
        ("logging", "_removeHandlerRef"),
        ("_ctypes", "DictRemover"),
    ]
)
_BOOKKEEPING_BUILTINS = frozenset(["_destroy", "_localdummy_destroyed"])  # _abc's, _thread._local's

_natives: "NativeLoader | None" = None
_status: "int | None" = None


def arm(natives: "NativeLoader", info: "dict[str, object]") -> None:
    """Registers the callback; called before the app's code runs, so it runs last at exit.
    An app built with --full-teardown always gets CPython's teardown."""
    global _natives
    import atexit

    if info.get("teardown") == "full":
        return
    _natives = natives
    atexit.register(_at_exit)


def ending(status: int) -> None:
    """The app's code has ended with ``status`` and the interpreter is about to finalise."""
    global _status
    _status = status


def _at_exit() -> None:
    status = _status
    if status is None:  # an interrupt, or atexit's callbacks called by the app itself
        return
    try:
        obstacle = _onebin.teardown_hooks() or _obstacle()
        if obstacle is None:
            _flush_standard_streams()
    except BaseException:
        return  # the teardown will meet the same problem and report it as python does
    if obstacle is not None:
        if _trace.ON:
            _trace.emit("exit: the interpreter's teardown runs: " + obstacle)
        return
    if _trace.ON:
        _trace.emit("exit: without the interpreter's teardown (nothing alive acts when freed)")
    _onebin.exit(status)


# The standard streams' names in sys; the app may have deleted one (streamlink: sys.stdout).
_STREAMS = ("stdin", "stdout", "stderr", "__stdin__", "__stdout__", "__stderr__")


def _flush_standard_streams() -> None:
    """As the teardown would: sys.stdout and sys.stderr, then the streams they replaced."""
    streams = [getattr(sys, name, None) for name in _STREAMS[1:3] + _STREAMS[4:]]
    for i, stream in enumerate(streams):
        if stream is not None and stream not in streams[:i] and not stream.closed:
            stream.flush()


def _obstacle() -> "str | None":
    """What, of the live objects, would act when freed; None if nothing would."""
    import gc

    if gc.get_freeze_count():
        return "gc.freeze() hid objects from the census"
    if gc.get_debug():
        return "gc debugging is on (gc.set_debug): the teardown's collections report"
    if gc.garbage:
        return "gc.garbage holds uncollectable objects, which the teardown reports"
    if any(name in sys.modules for name in ("_xxsubinterpreters", "_interpreters")):
        return "subinterpreters may hold objects the census cannot see"
    # The collector's objects; and the objects they refer to as well (a deep census, several
    # times the cost), if a type whose instances the collector does not track could act when
    # freed: a native type from outside the stdlib with a close() method (numpy's nditer) or
    # with a finalizer, a stdlib type that writes when freed (Tk's, dbm's). (A class
    # statement's type is always tracked; an object of a tracked type that native code
    # untracked is not looked for.)
    quiet = not _resource_warnings_shown()
    untracked = _onebin.untracked_types()
    deep = next((t for t, (origin, finalizer) in untracked.items() if _may_act(t, origin, finalizer, quiet)), None)
    if _trace.ON:
        _trace.emit(
            "census: deep (%s's instances are not tracked)" % _name(deep) if deep else "census: the collector's objects"
        )
    census = _onebin.census(deep is not None)
    return "the heap could not be walked whole" if census is None else _obstacle_in(census)


def _may_act(type_: type, origin: "str | None", finalizer: bool, quiet: bool) -> bool:
    """Whether an instance of ``type_`` could act when freed, as ``_obstacle_in()`` judges."""
    if finalizer:
        return not (_name(type_) in _RELEASE_ONLY and quiet)
    if _name(type_) in _WRITE_WHEN_FREED:
        return True
    return _resource_method(type_, origin) is not None


def _resource_method(type_: type, origin: "str | None") -> "str | None":
    """The first of ``_RESOURCE_METHODS`` that a native type from outside the stdlib has."""
    if origin is None or _is_stdlib_extension(origin):
        return None
    return next((method for method in _RESOURCE_METHODS if hasattr(type_, method)), None)


def _obstacle_in(census: "tuple[dict[type, str | None], list[object], list[object]]") -> "str | None":
    types, finalizable, callbacks = census
    for type_, origin in types.items():
        held = _resource_method(type_, origin)
        if held is not None:
            return "%s (of %s, with %s()) may hold a resource it releases when freed" % (
                _name(type_),
                _natives.relpath_of(origin) if _natives is not None and origin is not None else origin,
                held,
            )
        if _name(type_) in _WRITE_WHEN_FREED:
            return "%s writes when freed" % _name(type_)
    for obj in finalizable:
        effect = _effect_when_freed(obj)
        if effect is not None:
            return effect
    for callback in callbacks:
        effect = _callback_effect(callback)
        if effect is not None:
            return effect
    return None


def _resource_warnings_shown() -> bool:
    """Whether a ResourceWarning (what an unclosed directory iterator's finalizer issues)
    would be shown: the first filter for that category decides, as in warnings.warn()."""
    filters = getattr(sys.modules.get("warnings") or sys.modules.get("_warnings"), "filters", None)
    for action, message, category, module, _ in filters or ():
        if issubclass(ResourceWarning, category):
            if message is None and module is None:
                return bool(action != "ignore")
            if action != "ignore":
                return True  # shown for some module or message: be sure
    return filters is None


def _is_stdlib_extension(path: str) -> bool:
    relpath = _natives.relpath_of(path) if _natives is not None else None
    return relpath is not None and _in_lib_dynload(relpath)


def _in_lib_dynload(relpath: str) -> bool:
    return relpath.rpartition("/")[0].endswith("/lib-dynload")


def _name(type_: type) -> str:
    return "%s.%s" % (getattr(type_, "__module__", "?"), getattr(type_, "__qualname__", "?"))


def _effect_when_freed(obj: object) -> "str | None":
    """What ``obj``, whose type has a finalizer, does when freed. (Nothing is imported here:
    an import at exit would cost what the census saves.)"""
    import _io

    kind = type(obj)
    if kind.__module__ == "builtins" and kind.__name__ in ("generator", "coroutine", "async_generator"):
        frame = getattr(obj, {"generator": "gi_frame", "coroutine": "cr_frame"}.get(kind.__name__, "ag_frame"))
        if frame is None or (kind.__name__ == "generator" and _not_started(obj)):
            return None
        return "an unfinished %s (%s)" % (kind.__name__.replace("_", " "), getattr(obj, "__qualname__", "?"))
    if isinstance(obj, _io._IOBase):
        if getattr(kind, "__del__", None) is not _io._IOBase.__del__:
            return "%s has a finalizer (__del__)" % _name(kind)
        if kind in (_io.StringIO, _io.BytesIO) or obj.closed or _is_std_stream(obj):
            return None  # a standard stream is flushed before the exit, as the teardown would
        return "an open file (%r)" % obj
    if kind.__module__ in ("socket", "_socket") and hasattr(obj, "fileno"):
        return None if obj.fileno() == -1 else "an open socket"
    return "%s has a finalizer (__del__)" % _name(kind)


def _callback_effect(callback: object) -> "str | None":
    """What a live weakref's callback does if its referent is freed before it."""
    import _weakref

    weakref = sys.modules.get("weakref")  # where weakref.finalize comes from, if anything made one
    if weakref is not None and isinstance(callback, weakref.finalize):
        return None if weakref.finalize._shutdown else "a weakref.finalize callback"
    named = callback if hasattr(callback, "__qualname__") else type(callback)
    if (getattr(named, "__module__", None), getattr(named, "__qualname__", None)) in _BOOKKEEPING_CALLBACKS:
        return None
    if type(callback).__name__ == "builtin_function_or_method" and isinstance(
        getattr(callback, "__self__", None), _weakref.ReferenceType
    ):
        if getattr(callback, "__name__", None) in _BOOKKEEPING_BUILTINS:
            return None
    return "a weakref callback (%r)" % (callback,)


def _not_started(generator: "Any") -> bool:
    # A generator that never ran runs no code when closed.
    if sys.version_info >= (3, 11):
        return not generator.gi_suspended and not generator.gi_running
    return bool(generator.gi_frame.f_lasti == -1)


def _is_std_stream(obj: object) -> bool:
    for name in _STREAMS:
        stream = getattr(sys, name, None)
        buffer = getattr(stream, "buffer", None)
        if obj is stream or obj is buffer or obj is getattr(buffer, "raw", None):
            return True
    return False
