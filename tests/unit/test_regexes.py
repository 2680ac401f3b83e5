"""The regular expressions a module compiles when imported, found and compiled at build time
(_compile_worker._regex_calls, _regexes), and the table the runtime hands to re (payload)."""

from __future__ import annotations

import _sre
import marshal
import re
from typing import Any

from onebin import _compile_worker
from onebin.payload import _regex_table

SOURCE = """\
import re
import re as _re
A = re.compile(r"(?P<word>\\w+)-(\\d+)", re.I | re.M)
B = re.compile(rb"x+", flags=re.S)
C = _re.compile("[^\\x09\\x0A\\x0D\\x20-\\x7E\\x85\\xA0-\\uD7FF\\uE000-\\uFFFD\\U00010000-\\U0010ffff]")
D = re.compile("g" + "h")
class K:
    E = re.compile("e{2}", 0)
def f():
    return re.compile("only when called")
F = re.compile("%s+" % "f")
G = re.compile("(")
H = re.compile("[[nested]")
I = re.compile("debug", re.DEBUG)
J = re.compile("j", flags=UNKNOWN)
FLAGS = re.VERBOSE | re.MULTILINE
L = re.compile("l l", FLAGS)
TWICE = re.I
TWICE = re.M
M = re.compile("m", TWICE)
"""


def _compiled(source: str) -> list[Any]:
    return _compile_worker._regexes(compile(source, "m.py", "exec"), source.encode())


def test_what_runs_at_import_with_constant_arguments_is_found() -> None:
    found, others = _compile_worker._regex_calls(compile(SOURCE, "m.py", "exec"))
    assert others  # F, J and M: arguments the bytecode does not show as constants
    assert sorted(found, key=repr) == sorted(
        [
            (r"(?P<word>\w+)-(\d+)", int(re.I | re.M)),
            (rb"x+", int(re.S)),
            ("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", 0),
            ("gh", 0),  # folded into one constant by the compiler
            ("e{2}", 0),  # a class body runs at import
            ("(", 0),
            ("[[nested]", 0),
            ("debug", int(re.DEBUG)),
            ("l l", int(re.VERBOSE | re.MULTILINE)),  # a name bound once to flags
        ],
        key=repr,
    )


def test_compiled_as_re_would_and_only_when_nothing_is_said_at_compile_time() -> None:
    """A pattern that does not compile, warns (FutureWarning: nested set) or prints (DEBUG) is
    left to re at run time, where it must still raise, warn or print."""
    compiled = _compiled(SOURCE)
    assert [(pattern, flags) for pattern, flags, *_ in compiled] == [
        (r"(?P<word>\w+)-(\d+)", int(re.I | re.M)),
        (rb"x+", int(re.S)),
        ("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", 0),
        ("gh", 0),
        ("l l", int(re.VERBOSE | re.MULTILINE)),
        ("e{2}", 0),
        ("f+", 0),  # folded from the source
        ("m", int(re.M)),  # TWICE's binding when M is made
    ]
    for pattern, flags, final, code, groups, groupindex, indexgroup in compiled:
        built = _sre.compile(pattern, final, list(memoryview(code).cast("I")), groups, dict(groupindex), indexgroup)
        expected = re.compile(pattern, flags)
        assert built == expected  # same pattern, flags and code
        assert (built.groups, built.groupindex) == (expected.groups, expected.groupindex)


def test_the_table_separates_str_and_bytes_patterns() -> None:
    compiled = _compiled('import re\nA = re.compile("ab")\nB = re.compile(b"ab")\n')
    strs, byts = marshal.loads(_regex_table(compiled))
    assert list(strs) == [("ab", 0)] and list(byts) == [(b"ab", 0)]
    assert _regex_table([]) == b""


FOLDED = """\
import re
_OPT_TMPL = r"(?P<option>.*?)\\s*(?P<vi>{delim})\\s*(?P<value>.*)$"
class Parser:
    _SECT_TMPL = r"\\[(?P<header>.+)\\]"
    SECTCRE = re.compile(_SECT_TMPL, re.VERBOSE)
    OPTCRE = re.compile(_OPT_TMPL.format(delim="=|:"), re.VERBOSE)
KEYWORDS = ("if", "else")
KEYWORD = re.compile(r"\\b(?:%s)\\b" % "|".join(KEYWORDS))
NAME = "x"
FSTRING = re.compile(f"{NAME}+|{NAME!s}?", flags=re.I)
if NAME:
    LATER = "later"
BRANCH = re.compile(LATER + "!")
def f():
    return re.compile(NAME + "in a function")
REBOUND = "a"
REBOUND = f()
R = re.compile(REBOUND)
HUGE = re.compile("%99999s" % "x")
LAMBDA = lambda: re.compile(NAME + "in a lambda")
"""


def test_patterns_made_of_constants_are_folded_from_the_source() -> None:
    """configparser's OPTCRE (a template formatted in its class body), pycodestyle's `%`
    of a join, f-strings, names bound before, in any branch; not in functions, nor what a
    name is rebound to by a call, nor a format that would make a huge string."""
    found = _compile_worker._folded_regex_calls(FOLDED.encode())
    assert found == [
        (r"\[(?P<header>.+)\]", int(re.VERBOSE)),
        (r"(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$", int(re.VERBOSE)),
        (r"\b(?:if|else)\b", 0),
        ("x+|x?", int(re.I)),
        ("later!", 0),
    ]
    assert [(p, f) for p, f, *_ in _compiled(FOLDED)] == found


def test_folding_gives_up_quietly() -> None:
    assert _compile_worker._folded_regex_calls(b"def (:\n") == []
    assert _compile_worker._folded_regex_calls(b"import re\nA = re.compile(flags=re.I)\n") == []  # no pattern
    deep = "import re\nA = re.compile(" + "+".join(['"a"'] * 5000) + ")\n"
    assert _compile_worker._folded_regex_calls(deep.encode()) in ([], [("a" * 5000, 0)])
