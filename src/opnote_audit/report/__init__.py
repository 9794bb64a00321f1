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


def result_dict(result, options: RenderOptions) -> dict:
    """The JSON-contract dict of a result, without note text when asked."""
    data = result.to_dict(with_text=options.with_text)
    if not options.with_text:
        path = data["elements"]["pathology"]
        path["value"] = [{"category": v["category"], "text": None} for v in path["value"] or []]
    return data
