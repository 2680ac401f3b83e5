"""The corpus: popular PyPI apps and libraries, each built with onebin and compared with a venv.

Each ``Case`` names what ``onebin build`` gets (pinned requirements, local packages from
``packages/`` beside this file, a script or a console script or a module) and the smoke
``Command``s that run it. ``test_corpus.py`` runs every command both in a venv that holds the same
requirements and as the built executable with Python hidden, and compares the two runs.

Rules for the commands, so that a venv and a bundle print the same thing:

- no network, no clock, no randomness that is not seeded, no terminal;
- no absolute paths, ``sys.executable`` or ``__file__`` in the output, no tracebacks (a bundle
  names traceback files relative to their ``sys.path`` entry);
- every top-level requirement pinned to one version, with a cp311 manylinux wheel where it has
  native code, so both sides install the same files; the cases in ``OTHER_PYTHONS_CASES`` need one
  for each of cp310 to cp313.

The kinds of package the corpus must cover, and the cases that do:

==============================================  ==============================================
mypyc-compiled wheels                           black, mypy, charset-normalizer
Rust extensions                                 pydantic (pydantic-core), cryptography, orjson
wheels with bundled ``*.libs``                  pillow, numpy, lxml
data read through ``__file__``                  babel, mypy (typeshed), docutils (stylesheets),
                                                lib2to3, pytz, lxml (isoschematron), humanize
entry-point plugin systems                      flake8 + flake8-comprehensions, pytest +
                                                pytest-timeout, markdown extensions, pygments
``pkg_resources`` users                         pkg-resources
jinja2 ``PackageLoader``                        jinja2-package-loader (``packages/corpus-templates``)
certifi's CA bundle through requests            requests-certifi
``importlib.resources`` data                    tzdata-zoneinfo, requests-certifi, humanize
stdlib extensions (sqlite3, ssl, ctypes...)     stdlib
C extensions                                    pyyaml, markupsafe, msgpack, sqlalchemy
==============================================  ==============================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Command:
    """One smoke command: the app's arguments, its stdin, and files created in its fresh cwd."""

    name: str
    args: tuple[str, ...] = ()
    stdin: str = ""
    files: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    returncode: int = 0  # what the venv run must exit with: a check of the command itself


@dataclass(frozen=True)
class Case:
    """One app: what `onebin build` gets, and the commands to compare.

    The entry point is ``script`` (the content of ``smoke_<id>.py``, run as ``python smoke_<id>.py``), else
    ``console_script`` (``-c NAME``, run as ``venv/bin/NAME``), else ``module`` (``-m NAME``, run
    as ``python -m NAME``). ``local_packages`` are directories under ``packages/``, installed like
    requirements. The executable is named after the console script, the module or the case.
    """

    id: str
    requirements: tuple[str, ...]
    commands: tuple[Command, ...]
    script: str | None = None
    console_script: str | None = None
    module: str | None = None
    local_packages: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assert sum(x is not None for x in (self.script, self.console_script, self.module)) == 1, self.id
        assert all("==" in r for r in self.requirements), f"{self.id}: pin every requirement"
        assert len({c.name for c in self.commands}) == len(self.commands), self.id

    @property
    def exe_name(self) -> str:
        if self.console_script:
            return self.console_script
        if self.module:
            return self.module.rpartition(".")[2]
        return "smoke_" + self.id.replace("-", "_")  # never a package's name: the script would shadow it


def files(**contents: str) -> Mapping[str, str]:
    return MappingProxyType(dict(contents))


# --- console scripts ---------------------------------------------------------------------------

FLAKE8_BAD = """\
import os
x = list([i for i in range(3)])
y = dict([(k, v) for k, v in [("a", 1)]])
def f( a ):
    return a==1
"""

BLACK_INPUT = """\
x = {  'a':37,'b':42,
'c':927}
y = 'hello ''world'
class Foo  (     object  ):
  def f    (self   ):
    return       37*-+2
  def g(self, *args, **kwargs):
    return [ i for i in range( 10 ) if i%2==0 ]
print( "done" , end = '' )
"""

MYPY_INPUT = """\
import json
import re
from collections import OrderedDict
from pathlib import Path


def greet(name: str) -> str:
    return 42


reveal_type(json.loads)
reveal_type(re.compile("x").match)
reveal_type(Path("a") / "b")
reveal_type(OrderedDict[str, int]())
greet(b"bytes")
"""

MYPY_CLEAN = """\
from dataclasses import dataclass


@dataclass
class Point:
    x: int
    y: int

    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


print(Point(1, -2).norm1())
"""

PYTEST_TESTS = """\
import pytest


@pytest.mark.timeout(20)
def test_add():
    assert 1 + 1 == 2


@pytest.mark.parametrize("n", [1, 2, 3])
def test_square(n):
    assert n * n >= n


def test_timeout_plugin_is_loaded(request):
    assert request.config.pluginmanager.hasplugin("timeout")
    assert request.config.getoption("timeout") == 30.0


def test_tmp_path(tmp_path):
    (tmp_path / "f").write_text("x")
    assert (tmp_path / "f").read_text() == "x"
"""

PYTEST_FAILING = """\
def inc(x):
    return x + 1


def test_fails():
    assert inc(3) == 5


def test_passes():
    assert inc(1) == 2
"""

RST = """\
=========
The Title
=========

A paragraph with *emphasis*, ``literal`` and a `link <https://example.org/>`_.

.. note:: A note.

Section
=======

- one
- two

.. code:: python

   print("hi")

========  =====
a         b
========  =====
1         2
========  =====
"""

MARKDOWN_INPUT = """\
[TOC]

# Title

Some *text* and `code`.

## Table

| a | b |
|---|---|
| 1 | 2 |

```python
print("hi")
```

Term
:   Definition.
"""

PYGMENTS_INPUT = """\
@decorator
def fib(n: int) -> int:
    \"\"\"Docstring.\"\"\"
    return n if n < 2 else fib(n - 1) + fib(n - 2)  # comment
"""

# --- scripts -----------------------------------------------------------------------------------

PYDANTIC = """\
from datetime import date
from importlib.metadata import version

import pydantic_core
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator


class User(BaseModel):
    id: int
    name: str = Field(min_length=2)
    birthday: date | None = None
    tags: list[str] = []

    @field_validator("name")
    @classmethod
    def title(cls, v: str) -> str:
        return v.title()


u = User(id="42", name="ada lovelace", birthday="1815-12-10", tags=("a", "b"))
print(u.model_dump_json())
print(repr(u))
try:
    User(id="x", name="A")
except ValidationError as e:
    for err in e.errors(include_url=False):
        print(err["loc"], err["type"], err["msg"])
print(sorted(User.model_json_schema()["properties"]))
print(TypeAdapter(list[int]).validate_json("[1, 2, 3]"))
print(version("pydantic"), pydantic_core.__version__ == version("pydantic-core"))
"""

CRYPTOGRAPHY = """\
from cryptography import __version__
from cryptography.hazmat.backends.openssl.backend import backend
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

digest = hashes.Hash(hashes.SHA256())
digest.update(b"onebin")
print("sha256", digest.finalize().hex())
h = hmac.HMAC(b"key", hashes.SHA512())
h.update(b"message")
print("hmac", h.finalize().hex()[:32])
kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=b"salt" * 4, iterations=1000)
key = kdf.derive(b"password")
print("pbkdf2", key.hex())
print("aesgcm", AESGCM(key).encrypt(b"\\0" * 12, b"secret", b"aad").hex())
print("chacha", ChaCha20Poly1305(key).encrypt(b"\\1" * 12, b"secret", None).hex())
private = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
print("ed25519", private.sign(b"message").hex()[:32])
public = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
print(public.decode().strip().splitlines()[1])
print(__version__, backend.openssl_version_text().split()[0])
"""

PILLOW = """\
import hashlib
from io import BytesIO

from PIL import Image, ImageDraw, ImageFilter, ImageFont, features, __version__

im = Image.new("RGB", (64, 48), "navy")
draw = ImageDraw.Draw(im)
draw.rectangle((8, 8, 40, 30), fill=(200, 30, 30))
draw.ellipse((30, 20, 60, 44), outline="yellow", width=2)
draw.text((2, 2), "onebin", fill="white", font=ImageFont.load_default(size=10))
im = im.filter(ImageFilter.GaussianBlur(1))
for fmt in ("PNG", "JPEG", "WEBP", "TIFF", "GIF"):
    buf = BytesIO()
    im.save(buf, fmt)
    back = Image.open(BytesIO(buf.getvalue()))
    back.load()
    print(fmt, back.format, back.size, back.mode)
png = BytesIO()
im.save(png, "PNG")
print(hashlib.sha256(Image.open(png).tobytes()).hexdigest())
print(im.resize((16, 12), Image.Resampling.LANCZOS).getpixel((5, 5)))
print(__version__, [f for f in ("freetype2", "littlecms2", "webp", "jpg", "zlib") if features.check(f)])
"""

NUMPY = """\
import numpy as np

a = np.array([[4.0, 1.0, 2.0], [1.0, 3.0, 0.0], [2.0, 0.0, 5.0]])
print(np.linalg.inv(a).round(6).tolist())
print(np.linalg.eigvalsh(a).round(6).tolist())
print(np.linalg.solve(a, [1.0, 2.0, 3.0]).round(6).tolist())
print(np.fft.rfft(np.arange(8.0)).round(6).tolist())
rng = np.random.default_rng(12345)
print(rng.integers(0, 100, size=5).tolist(), round(float(rng.standard_normal(1000).mean()), 6))
m = rng.random((200, 200))
print(round(float((m @ m.T).trace()), 6))
print(np.__version__, np.dtype("float64").itemsize, np.sort(np.array([3, 1, 2])).tolist())
"""

REQUESTS_CERTIFI = """\
import ssl

import certifi
import requests
import requests.certs
import urllib3
from requests.adapters import HTTPAdapter

where = requests.certs.where()
print(where == certifi.where())
with open(where, encoding="ascii") as f:
    pem = f.read()
print("certificates", pem.count("-----BEGIN CERTIFICATE-----"))
print("certifi.contents", certifi.contents() == pem)
ctx = ssl.create_default_context(cafile=certifi.where())
print("ssl", ctx.cert_store_stats()["x509_ca"])
pool = urllib3.HTTPSConnectionPool("example.org")
HTTPAdapter().cert_verify(pool, "https://example.org/", True, None)
print("cert_verify", pool.cert_reqs, pool.ca_certs == where)
prepared = requests.Request("POST", "https://example.org/a b", params={"q": "x y"}, json={"k": [1, 2]}).prepare()
print(prepared.method, prepared.url, prepared.headers["Content-Type"], prepared.body)
print(requests.__version__, certifi.__version__)
"""

JINJA2_PACKAGE_LOADER = """\
import sys

from corpus_templates import env, render

print(render("page.html", title=sys.argv[1], items={"apple": 3, "pear": 1, "<fig>": 2}), end="")
print(sorted(env.list_templates()))
"""

PKG_RESOURCES = """\
import warnings

warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
import pkg_resources

print("six", pkg_resources.get_distribution("six").version)
print([str(r) for r in pkg_resources.get_distribution("six").requires()])
print(pkg_resources.require("six==1.17.0")[0].project_name)
names = sorted(d.project_name for d in pkg_resources.working_set)
print("setuptools" in names, "six" in names)
eps = sorted(pkg_resources.iter_entry_points("distutils.commands"), key=lambda ep: ep.name)
print(len(eps) > 10, [ep.name for ep in eps][:4])
sdist = next(pkg_resources.iter_entry_points("distutils.commands", "sdist"))
print(sdist.module_name, sdist.dist.project_name, sdist.load().__name__)
print(pkg_resources.parse_version("1.10") > pkg_resources.parse_version("1.9"))
print(pkg_resources.resource_exists("setuptools", "script.tmpl"))
print(pkg_resources.resource_string("setuptools", "script.tmpl").decode().splitlines()[0])
"""

BABEL = """\
from datetime import date, datetime, timezone

from babel import Locale, __version__
from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_currency, format_decimal, format_percent
from babel.plural import PluralRule

d = date(2024, 3, 14)
for loc in ("en_US", "fr_FR", "de_DE", "ja_JP", "ar_EG"):
    print(loc, format_date(d, format="full", locale=loc), "|", format_decimal(1234567.891, locale=loc), "|",
          format_currency(1099.5, "EUR", locale=loc), "|", format_percent(0.256, locale=loc))
print(format_datetime(datetime(2024, 3, 14, 15, 9, 26, tzinfo=timezone.utc), "long", tzinfo=timezone.utc, locale="en_GB"))
print(format_timedelta(3 * 86400, locale="es"))
print(Locale.parse("pt_BR").display_name, Locale("fi").territories["FI"], Locale("en").currency_symbols["EUR"])
print(PluralRule({"one": "n is 1"})(1), __version__)
"""

PYYAML = """\
import yaml

doc = yaml.load(\"\"\"
name: onebin
tags: [a, b]
nested: {x: 1, y: 2.5, z: null}
when: 2024-03-14
anchors:
  base: &b {k: v}
  copy: *b
\"\"\", Loader=yaml.CSafeLoader)
print(doc)
print(yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=True), end="")
print(yaml.safe_dump_all([{"a": 1}, [1, 2]], explicit_start=True), end="")
print(yaml.__version__, yaml.__with_libyaml__, yaml.CSafeLoader.__mro__[1].__module__)
"""

LXML = """\
import sys

from lxml import etree, html

if sys.argv[1] == "core":
    root = etree.fromstring(b"<root><item n='1'>one</item><item n='2'>two</item><other/></root>")
    print([e.text for e in root.xpath("//item[@n > 1]")], root.xpath("count(//item)"))
    xslt = etree.XSLT(etree.fromstring(b\"\"\"<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
      <xsl:template match="/"><list><xsl:for-each select="//item"><li><xsl:value-of select="."/></li></xsl:for-each></list></xsl:template>
    </xsl:stylesheet>\"\"\"))
    print(etree.tostring(xslt(root)).decode())
    print(etree.tostring(root, pretty_print=True).decode(), end="")
    doc = html.fromstring("<p>Hello <b>world</b><a href='/x'>link</a></p>")
    print(doc.text_content(), [a.get("href") for a in doc.iter("a")])
    schema = etree.XMLSchema(etree.fromstring(b\"\"\"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
      <xs:element name="n" type="xs:integer"/></xs:schema>\"\"\"))
    print(schema.validate(etree.fromstring(b"<n>3</n>")), schema.validate(etree.fromstring(b"<n>x</n>")))
    print(etree.LXML_VERSION, etree.LIBXML_VERSION, etree.LIBXSLT_VERSION)
else:
    from lxml import isoschematron

    schematron = isoschematron.Schematron(etree.fromstring(b\"\"\"<schema xmlns="http://purl.oclc.org/dsdl/schematron">
      <pattern><rule context="n"><assert test=". &gt; 0">positive</assert></rule></pattern></schema>\"\"\"))
    print(schematron.validate(etree.fromstring(b"<n>3</n>")), schematron.validate(etree.fromstring(b"<n>-1</n>")))
"""

RICH = """\
from importlib.metadata import version

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.tree import Tree

console = Console(width=60, color_system=None, force_terminal=False, highlight=False)
table = Table(title="Planets")
table.add_column("Name")
table.add_column("Moons", justify="right")
for name, moons in (("Mercury", 0), ("Earth", 1), ("Jupiter", 95)):
    table.add_row(name, str(moons))
console.print(table)
console.print(Panel("Hello :smile: [bold]world[/bold]", title="panel"))
console.print(Markdown("# Title\\n\\n* item **bold**\\n* `code`\\n"))
console.print(Syntax("def f(x):\\n    return x\\n", "python", line_numbers=True))
tree = Tree("root")
tree.add("a").add("b")
console.print(tree)
print(version("rich"))
"""

TZDATA_ZONEINFO = """\
import zoneinfo
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, available_timezones

zoneinfo.reset_tzpath(to=[])  # only the tzdata package, never /usr/share/zoneinfo
for when in (datetime(2024, 1, 15, 12, tzinfo=timezone.utc), datetime(2024, 7, 1, 12, tzinfo=timezone.utc)):
    for name in ("Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"):
        local = when.astimezone(ZoneInfo(name))
        print(name, local.isoformat(), local.tzname())
zones = available_timezones()
print(len(zones) > 400, "Europe/Paris" in zones)
"""

STDLIB = """\
import bz2
import ctypes
import decimal
import hashlib
import json
import lzma
import sqlite3
import ssl
import sys
import unicodedata
import uuid
import warnings
import xml.etree.ElementTree as ET
import zlib

db = sqlite3.connect(":memory:")
db.execute("create table t (id integer primary key, name text, score real)")
db.executemany("insert into t (name, score) values (?, ?)", [("a", 1.5), ("b", 2.5), ("c", 4.0)])
print(db.execute("select count(*), sum(score), group_concat(name) from t").fetchone())
print(db.execute("select json_object('n', name) from t order by id desc limit 1").fetchone())
db.execute("create virtual table f using fts5(body)")
db.execute("insert into f values ('one binary file'), ('many files')")
print(db.execute("select body from f where f match 'binary'").fetchall(), sqlite3.sqlite_version)

ctx = ssl.create_default_context()
print(ctx.verify_mode, ctx.check_hostname, ctx.minimum_version, ctx.cert_store_stats()["x509_ca"] > 0)
print(ssl.OPENSSL_VERSION, ssl.HAS_TLSv1_3)
print(hashlib.sha256(b"x").hexdigest()[:16], hashlib.sha3_256(b"x").hexdigest()[:16], hashlib.blake2b(b"x").hexdigest()[:16])
print(hashlib.pbkdf2_hmac("sha256", b"pw", b"salt", 1000).hex()[:16], "md5" in hashlib.algorithms_available)

data = b"onebin " * 100
print(len(zlib.compress(data, 9)), bz2.decompress(bz2.compress(data)) == data, lzma.decompress(lzma.compress(data)) == data)
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
arr = (ctypes.c_int * 5)(5, 1, 4, 2, 3)
libc = ctypes.CDLL(None)
libc.qsort(arr, 5, ctypes.sizeof(ctypes.c_int), CMP(lambda a, b: a[0] - b[0]))
print(list(arr), libc.strlen(b"onebin"))
print(decimal.Decimal(1) / decimal.Decimal(7), unicodedata.name("\\u00e9"), uuid.uuid5(uuid.NAMESPACE_DNS, "onebin"))
print(ET.tostring(ET.fromstring("<a><b x='1'/></a>").find("b")), json.dumps({"b": [1, 2.5, None]}, sort_keys=True))
if sys.argv[1:] == ["warn"]:
    warnings.warn("shown with its source line, as python shows it for __main__", DeprecationWarning)
"""

CLICK = """\
import sys

import click


@click.group()
@click.version_option("1.0", prog_name="greet")
def cli():
    \"\"\"Greets people.\"\"\"


@cli.command()
@click.option("--count", default=1, type=click.IntRange(1, 5), help="How many times.")
@click.option("--shout/--no-shout", help="Upper case.")
@click.argument("name")
def hello(count, shout, name):
    \"\"\"Says hello to NAME.\"\"\"
    for _ in range(count):
        text = f"Hello, {name}!"
        click.echo(text.upper() if shout else text)


@cli.command()
@click.argument("words", nargs=-1)
def count(words):
    \"\"\"Counts words from stdin and arguments.\"\"\"
    stdin = sys.stdin.read().split()
    click.echo(f"{len(words) + len(stdin)} words")


if __name__ == "__main__":
    cli(prog_name="greet")
"""

ATTRS_MARKUPSAFE = """\
import attrs
import markupsafe
import markupsafe._speedups  # the C extension


@attrs.define(order=True)
class Point:
    x: int
    y: int = attrs.field(default=0, validator=attrs.validators.instance_of(int))


print(Point(1, 2), sorted([Point(2, 1), Point(1, 5)]), attrs.asdict(Point(3, 4)), attrs.evolve(Point(1), y=9))
try:
    Point(1, "a")
except TypeError as e:
    print(type(e).__name__, e.args[0])
print([f.name for f in attrs.fields(Point)], attrs.has(Point))
print(markupsafe.escape("<a href='x'>&</a>"), markupsafe.Markup("<b>%s</b>") % "<i>")
print(markupsafe.Markup("<em>x</em> &amp; y").striptags(), markupsafe._speedups._escape_inner("<&>"))
"""

LIB2TO3 = """\
import warnings

warnings.simplefilter("ignore")
from lib2to3 import refactor

fixers = refactor.get_fixers_from_package("lib2to3.fixes")
print(len(fixers) > 40, "lib2to3.fixes.fix_print" in fixers)
tool = refactor.RefactoringTool(fixers)
print(tool.refactor_string("print 'hello', x\\nif d.has_key(k): raise E, 'v'\\nu = unicode(x)\\n", "<x>"), end="")
"""

PYTZ_DATEUTIL = """\
from datetime import datetime

import pytz
from dateutil import parser, relativedelta, rrule

paris = pytz.timezone("Europe/Paris")
print(paris.localize(datetime(2024, 3, 31, 1, 30)).isoformat(), paris.localize(datetime(2024, 3, 31, 3, 30)).isoformat())
print(pytz.utc.localize(datetime(2024, 7, 1, 12)).astimezone(pytz.timezone("Asia/Tokyo")).isoformat())
print(len(pytz.all_timezones) > 400, "Europe/Paris" in pytz.all_timezones_set, pytz.country_timezones("nz"))
print(pytz.country_names["fr"], pytz.__version__)
when = parser.parse("2024-03-14T15:09:26+01:00")
print(when.isoformat(), (when + relativedelta.relativedelta(months=+1, weekday=relativedelta.FR(-1))).date())
print([d.date().isoformat() for d in rrule.rrule(rrule.MONTHLY, count=3, bymonthday=-1, dtstart=datetime(2024, 1, 1))])
"""

SQLALCHEMY = """\
from sqlalchemy import ForeignKey, String, __version__, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.util._has_cython import HAS_CYEXTENSION


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "author"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    books: Mapped[list["Book"]] = relationship(back_populates="author")


class Book(Base):
    __tablename__ = "book"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int] = mapped_column(ForeignKey("author.id"))
    author: Mapped[Author] = relationship(back_populates="books")


engine = create_engine("sqlite://")
Base.metadata.create_all(engine)
with Session(engine) as session:
    session.add_all([Author(name="Ada", books=[Book(title="Notes"), Book(title="Sketch")]), Author(name="Alan")])
    session.commit()
    stmt = select(Author.name, func.count(Book.id)).outerjoin(Book).group_by(Author.name).order_by(Author.name)
    print(session.execute(stmt).all())
    print([b.title for b in session.scalars(select(Book).where(Book.title.like("N%")))])
    print(str(stmt.compile(engine)).split())
print(__version__, HAS_CYEXTENSION)
"""

CHARSET_NORMALIZER = """\
import charset_normalizer
from charset_normalizer import from_bytes

for text, codec in (("Le cœur déçu mais l'âme plutôt naïve, Louÿs rêva de crapaüter en canoë au-delà des îles, "
                     "près du mälström où brûlent les novæ. Où est la crème brûlée ? Très bien, merci.", "cp1252"),
                    ("Привет, как дела? Всё хорошо, спасибо большое.", "cp1251"),
                    ("日本語のテキストです。これは文字コードの検出テストです。", "shift_jis")):
    best = from_bytes(text.encode(codec)).best()
    print(best.encoding, str(best) == text, best.language)
print(charset_normalizer.__version__, charset_normalizer.md.__file__.rpartition(".")[2])
"""

ORJSON_MSGPACK = """\
import dataclasses
import datetime
import uuid

import msgpack
import orjson


@dataclasses.dataclass
class Item:
    id: uuid.UUID
    when: datetime.datetime
    tags: list


item = Item(uuid.UUID(int=7), datetime.datetime(2024, 3, 14, 15, 9, 26, tzinfo=datetime.timezone.utc), ["a", "é"])
print(orjson.dumps(item, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
print(orjson.loads(b'{"a": [1, 2.5, null, true]}'), orjson.__version__)
packed = msgpack.packb({"a": [1, 2.5, None, True], "b": b"bytes"})
print(packed.hex(), msgpack.unpackb(packed), msgpack.version, msgpack.Packer.__module__)
"""

HUMANIZE = """\
import datetime

import humanize

print(humanize.naturalsize(123456789), humanize.intcomma(1234567), humanize.intword(12345678901))
print(humanize.naturaldelta(datetime.timedelta(days=3, hours=2)), humanize.ordinal(23))
humanize.i18n.activate("fr_FR")
print(humanize.naturaldelta(datetime.timedelta(days=3, hours=2)), humanize.ordinal(23), humanize.intword(12345678901))
humanize.i18n.activate("de_DE")
print(humanize.naturaldelta(datetime.timedelta(seconds=90)), humanize.intcomma(1234567))
"""


CASES: tuple[Case, ...] = (
    Case(
        "flake8",
        ("flake8==7.5.0", "flake8-comprehensions==3.17.0"),
        console_script="flake8",
        commands=(
            Command("version", ("--version",)),
            Command("lint", ("bad.py",), files=files(**{"bad.py": FLAKE8_BAD}), returncode=1),
            Command(
                "plugin-only",
                ("--select=C4", "--show-source", "bad.py"),
                files=files(**{"bad.py": FLAKE8_BAD}),
                returncode=1,
            ),
            Command("stdin", ("--max-line-length=20", "-"), stdin=FLAKE8_BAD, returncode=1),
        ),
    ),
    Case(
        "black",
        ("black==26.10.1",),
        console_script="black",
        commands=(
            Command("version", ("--version",)),
            Command("format-stdin", ("-q", "-"), stdin=BLACK_INPUT),
            Command("format-narrow", ("-q", "--line-length=30", "--skip-string-normalization", "-"), stdin=BLACK_INPUT),
            Command("check-file", ("--check", "good.py"), files=files(**{"good.py": "x = 1\n"})),
        ),
    ),
    Case(
        "mypy",
        ("mypy==2.4.1",),
        console_script="mypy",
        commands=(
            Command("version", ("--version",)),
            Command(
                "errors",
                ("--no-incremental", "--cache-dir=/dev/null", "--no-color-output", "t.py"),
                files=files(**{"t.py": MYPY_INPUT}),
                returncode=1,
            ),
            Command(
                "strict-clean",
                ("--strict", "--cache-dir=/dev/null", "ok.py"),
                files=files(**{"ok.py": MYPY_CLEAN}),
            ),
        ),
    ),
    Case("pydantic", ("pydantic==2.14.4",), script=PYDANTIC, commands=(Command("models"),)),
    Case("cryptography", ("cryptography==50.0.2",), script=CRYPTOGRAPHY, commands=(Command("primitives"),)),
    Case("pillow", ("pillow==13.0.0",), script=PILLOW, commands=(Command("images"),)),
    Case("numpy", ("numpy==2.4.6",), script=NUMPY, commands=(Command("linalg"),)),
    Case(
        "requests-certifi",
        ("requests==2.34.2", "certifi==2026.10.19.post1"),
        script=REQUESTS_CERTIFI,
        commands=(Command("ca-bundle"),),
    ),
    Case(
        "jinja2-package-loader",
        ("jinja2==3.1.6",),
        local_packages=("corpus-templates",),
        script=JINJA2_PACKAGE_LOADER,
        commands=(Command("render", ("Fruit & Co",)),),
    ),
    Case(
        "pytest-timeout",
        ("pytest==9.2.0", "pytest-timeout==2.4.0"),
        console_script="pytest",
        commands=(
            Command("version", ("--version",)),
            Command(
                "passing",
                ("-p", "no:cacheprovider", "--timeout=30", "test_x.py"),
                files=files(**{"test_x.py": PYTEST_TESTS}),
            ),
            Command(
                "failing",
                ("-q", "-p", "no:cacheprovider", "--timeout=30", "test_fail.py"),
                files=files(**{"test_fail.py": PYTEST_FAILING}),
                returncode=1,
            ),
        ),
    ),
    Case(
        "pkg-resources",
        ("setuptools==81.0.0", "six==1.17.0"),
        script=PKG_RESOURCES,
        commands=(Command("distributions"),),
    ),
    Case("babel", ("babel==2.19.0",), script=BABEL, commands=(Command("locales"),)),
    Case(
        "docutils",
        ("docutils==0.23", "pygments==2.21.0"),
        module="docutils",
        # Not --version: it prints the basename of sys.executable, which is the app's own name.
        commands=(
            Command("html5", (), stdin=RST),
            Command("pseudoxml", ("--writer=pseudoxml",), stdin=RST),
            Command("latex", ("--writer=latex",), stdin=RST),
        ),
    ),
    Case("pyyaml", ("pyyaml==6.0.4",), script=PYYAML, commands=(Command("libyaml"),)),
    Case(
        "lxml",
        ("lxml==6.1.3",),
        script=LXML,
        commands=(Command("core", ("core",)), Command("isoschematron", ("schematron",))),
    ),
    Case("rich", ("rich==15.0.0",), script=RICH, commands=(Command("render"),)),
    Case(
        "pygments",
        ("pygments==2.21.0",),
        console_script="pygmentize",
        commands=(
            Command("version", ("-V",)),
            Command("html", ("-l", "python", "-f", "html", "-O", "noclasses,linenos=1"), stdin=PYGMENTS_INPUT),
            Command("terminal256", ("-l", "python", "-f", "terminal256", "-O", "style=monokai"), stdin=PYGMENTS_INPUT),
            Command("guess", ("-g", "-f", "raw"), stdin="#!/bin/sh\necho hi\n"),
            Command("styles", ("-S", "default", "-f", "html", "-a", ".hl")),
        ),
    ),
    Case("tzdata-zoneinfo", ("tzdata==2026.6",), script=TZDATA_ZONEINFO, commands=(Command("convert"),)),
    Case("stdlib", (), script=STDLIB, commands=(Command("sqlite3-ssl-ctypes"), Command("warning", ("warn",)))),
    Case(
        "click",
        ("click==8.5.1",),
        script=CLICK,
        commands=(
            Command("hello", ("hello", "--count", "2", "--shout", "Ada")),
            Command("help", ("--help",)),
            Command("usage-error", ("hello", "--count", "9", "x"), returncode=2),
            Command("version", ("--version",)),
            Command("stdin", ("count", "a", "b"), stdin="one two three\n"),
        ),
    ),
    Case(
        "attrs-markupsafe",
        ("attrs==26.1.0", "markupsafe==3.0.4"),
        script=ATTRS_MARKUPSAFE,
        commands=(Command("classes"),),
    ),
    Case("lib2to3", (), script=LIB2TO3, commands=(Command("refactor"),)),
    Case(
        "markdown",
        ("markdown==3.11.3",),
        console_script="markdown_py",
        commands=(
            Command(
                "extensions", ("-x", "toc", "-x", "fenced_code", "-x", "tables", "-x", "def_list"), stdin=MARKDOWN_INPUT
            ),
            Command("plain", (), stdin="# Hi\n\n*x*\n"),
        ),
    ),
    Case(
        "pytz-dateutil",
        ("pytz==2026.6", "python-dateutil==4.0.0"),
        script=PYTZ_DATEUTIL,
        commands=(Command("zones"),),
    ),
    Case("sqlalchemy", ("sqlalchemy==2.1.9",), script=SQLALCHEMY, commands=(Command("orm"),)),
    Case(
        "charset-normalizer",
        ("charset-normalizer==3.5.3",),
        script=CHARSET_NORMALIZER,
        commands=(Command("detect"),),
    ),
    Case(
        "orjson-msgpack", ("orjson==3.13.0", "msgpack==1.2.4"), script=ORJSON_MSGPACK, commands=(Command("serialise"),)
    ),
    Case("humanize", ("humanize==4.17.0",), script=HUMANIZE, commands=(Command("gettext"),)),
)


OTHER_PYTHONS_CASES: tuple[str, ...] = (
    "pyyaml",  # C (libyaml)
    "cryptography",  # Rust, abi3 (cp39-abi3 for 3.10, cp311-abi3 from 3.11), OpenSSL in the wheel
    "pydantic",  # Rust (pydantic-core)
    "orjson-msgpack",  # Rust and C
    "attrs-markupsafe",  # C (markupsafe._speedups) and pure
    "lxml",  # C (Cython, libxml2 linked in), and data read through __file__ (isoschematron)
    "charset-normalizer",  # mypyc
    "click",  # pure
    "stdlib",  # the target's own extension modules and the system libraries they need
)
"""The cases that ``test_corpus.py`` also builds with ``--python`` for each of the other interpreters.

Every pin of these has a wheel for cp310, cp311, cp312 and cp313, or is pure (checked with
``pip download --only-binary=:all: --python INTERPRETER``). Not flake8, sqlalchemy, numpy, pillow,
markdown or humanize: their pins need 3.11, and pins used by the default run stay as they are.
"""
