"""EHR template residue that states nothing, blanked out before matching.

An unselected picklist option, an unfilled smart-phrase ("{Blank single:...}", "***") or a
field answered "No"/"N/A" or left blank documents nothing, label included. The spans come from
``patterns/templates.yml``; they are replaced by spaces, so every offset stays where it was.
"""

from __future__ import annotations

import re

from opnote_audit import patterns
from opnote_audit.errors import PatternError


_LABEL_ONLY = re.compile(r"[ \t]*(?:[-*\u2022][ \t]*)?[^:\n]{1,60}:[ \t]*$")  # layout: "Label:" and nothing else


@patterns.cached
def _rules() -> list[tuple[re.Pattern[str], list[re.Pattern[str]]]]:
    data = patterns.load("templates.yml")
    out = []
    for entry in patterns.require(data, "blank", list, "patterns/templates.yml"):
        patterns.check_keys(entry, {"regex", "only_on_lines_with"})
        rx = patterns.compile_regex(patterns.require(entry, "regex", str), entry)
        lines = entry.get("only_on_lines_with") or []
        if isinstance(lines, str):
            lines = [lines]
        if not isinstance(lines, list) or not all(isinstance(x, str) and x for x in lines):
            raise PatternError(f"{patterns.where(entry)}: 'only_on_lines_with' must be a regex string or a list of them")
        out.append((rx, [patterns.compile_regex(x, entry) for x in lines]))
    return out


def blank_residue(text: str) -> str:
    """The text with template residue replaced by spaces (same length, same offsets)."""
    spans: list[tuple[int, int]] = []
    for rx, line_filters in _rules():
        verdicts: dict[int, bool] = {}  # line start -> does the line pass the filters (once per line)
        for m in rx.finditer(text):
            if line_filters:
                ls = text.rfind("\n", 0, m.start()) + 1
                if ls not in verdicts:
                    le = text.find("\n", m.end())
                    le = len(text) if le == -1 else le
                    verdicts[ls] = all(f.search(text, ls, le) for f in line_filters)
                if not verdicts[ls]:
                    continue
            a, b = (m.start("blank"), m.end("blank")) if "blank" in rx.groupindex else m.span()
            if b > a:
                spans.append((a, b))
    if not spans:
        return text
    # a field whose whole value was blanked ("Corpectomy: {Blank single:...}") loses its label too
    for a, b in list(spans):
        ls = text.rfind("\n", 0, a) + 1
        le = text.find("\n", b)
        le = len(text) if le == -1 else le
        if _LABEL_ONLY.match(text, ls, a) and not text[b:le].strip():
            spans.append((ls, a))
    chars = list(text)
    for a, b in spans:
        for i in range(a, b):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)
