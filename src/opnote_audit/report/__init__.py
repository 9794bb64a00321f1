"""Renderers: one module per output format behind one small interface.

A renderer is a function ``render(results, options) -> str`` registered under its format
name. ``check`` renders one result; ``scan`` streams results through ``jsonl``/``csv`` or
collects them for ``table``. Adding a format touches one file and the table below.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

# format name -> module under opnote_audit.report holding render()
FORMATS = {
    "text": "text",
    "json": "json_format",
    "html": "html",          # one self-contained page per note (report/html.py)
}


@dataclass(frozen=True)
class RenderOptions:
    with_text: bool = True      # False: --no-evidence, no quoted note text in the output
    color: bool | None = None   # None: decide from the terminal and NO_COLOR
    width: int | None = None


def render(result, fmt: str, options: RenderOptions = RenderOptions()) -> str:
    if fmt not in FORMATS:
        from opnote_audit.errors import UsageError

        raise UsageError(f"unknown format '{fmt}': choose one of {', '.join(FORMATS)}")
    module = import_module(f"opnote_audit.report.{FORMATS[fmt]}")
    return module.render(result, options)


# Elements whose reason may quote the note (pathology words, an amount, surgeons' names).
_REASONS_WITH_NOTE_TEXT = ("pathology", "extent", "co_surgeon")


def result_dict(result, options: RenderOptions) -> dict:
    """The JSON-contract dict of a result, without note text when asked (``--no-evidence``):
    no quotes, no pathology wording, no surgeons' names, and finding messages that would
    repeat note words are replaced by the rule's fixed summary."""
    data = result.to_dict(with_text=options.with_text)
    if options.with_text:
        return data
    els = data["elements"]
    els["pathology"]["value"] = [{"category": v["category"], "text": None} for v in els["pathology"]["value"] or []]
    els["co_surgeon"]["value"] = [f"co-surgeon {i}" for i, _ in enumerate(els["co_surgeon"]["value"] or [], 1)]
    for name in _REASONS_WITH_NOTE_TEXT:
        els[name]["reason"] = ""
    from opnote_audit.rules import catalogue, fills_from_note

    rules = catalogue()
    for f in data["findings"]:
        rule = rules.get(f["rule"])
        if rule is not None and fills_from_note(rule):
            f["message"] = rule.summary
    return data
