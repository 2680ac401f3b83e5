"""Name and Version read from METADATA at build time, served without parsing it at run time
(payload._metadata_headers): only where the email parser would return exactly those."""

from __future__ import annotations

import email

import pytest

from onebin.payload import _metadata_headers

CASES = {
    "plain": b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.2.3\nSummary: s\n\nVersion: 9 (the body)\n",
    "long description header": b"Metadata-Version: 2.4\nName: pkg\nVersion: 2.0\nDescription: a\n  b\n\nbody\n",
    "folded version": b"Name: pkg\nVersion: 1.0\n  .post1\n\n",
    "crlf": b"Name: pkg\r\nVersion: 1.0\r\n\r\n",
    "lower case": b"name: pkg\nversion: 1.0\n\n",
    "twice": b"Name: pkg\nVersion: 1.0\nVersion: 2.0\n\n",
    "no space": b"Name:pkg\nVersion:1.0\n\n",
    "after a defect": b"Name: pkg\nnot a header\nVersion: 1.0\n\n",
    "not utf-8": b"Name: pk\xffg\nVersion: 1.0\n\n",
    # The email parser also ends a line at a lone \r: here it ends the headers early.
    "lone cr": b"Metadata-Version: 2.1\nSummary: s\r\r\nName: pkg\nVersion: 1.0\n\n",
    "lone cr hides a header": b"Summary: s\rName: other\nName: pkg\nVersion: 1.0\n\n",
}
SERVED = {"plain", "long description header"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_served_only_where_the_email_parser_agrees(case: str) -> None:
    distinfo = f"lib/site-packages/{case}.dist-info"
    found = _metadata_headers({distinfo + "/METADATA": CASES[case]}, {"lib/site-packages": (("x", distinfo),)})
    if case not in SERVED:
        assert found == {}
        return
    message = email.message_from_string(CASES[case].decode("utf-8"))
    assert found == {distinfo: (message["Name"], message["Version"])}


def test_a_distribution_without_metadata_is_left_out() -> None:
    assert _metadata_headers({}, {"lib": (("x", "lib/x-1.dist-info"),)}) == {}
