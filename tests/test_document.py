"""document.prepare: lines end as in Python's universal newlines ("\n", "\r\n", a lone "\r")."""

from __future__ import annotations

from pathlib import Path

import pytest

from opnote_audit.audit import audit_text

SAMPLE = Path(__file__).resolve().parents[1] / "sample_notes" / "01_exemplary_63102.txt"


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_other_line_breaks_audit_like_newlines(newline):
    text = SAMPLE.read_text(encoding="utf-8")
    expected = audit_text(text).to_dict()
    got = audit_text(text.replace("\n", newline)).to_dict()
    # statuses, values and line numbers are the same; offsets are the same too (one character
    # for one) except for "\r\n", which is two
    for name, element in expected["elements"].items():
        assert got["elements"][name]["status"] == element["status"]
        assert got["elements"][name]["value"] == element["value"]
        assert [e["line"] for e in got["elements"][name]["evidence"]] == [e["line"] for e in element["evidence"]]
    if newline != "\r\n":
        assert got == expected
