"""The terminal report of ``opnote-audit eval`` (Rich): summary, per-element scores, value
accuracy, the status confusion matrices and each disagreement with the note's evidence.

Reads well without colour and at 80 columns: two confusion matrices per row, figures as
"correct/total (percent)", evidence quotes shortened to the width.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from opnote_audit.models import STATUSES
from opnote_audit.report.text import ELEMENT_TITLE
VALUE_TITLE = {
    "level": "Levels (exact list)",
    "segments": "Segment count",
    "extent": "Extent (partial/complete)",
    "pathology": "Pathology categories",
}
SHORT = {"documented": "doc", "insufficient": "ins", "missing": "mis", "conflict": "con",
         "not_applicable": "n/a"}
MAX_EVIDENCE = 3


@dataclass(frozen=True)
class EvalRenderOptions:
    show_disagreements: bool = True
    with_text: bool = True          # False: line numbers only, no quoted note text
    color: bool = False
    width: int | None = None


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _frac(correct: int, total: int, ratio: float) -> str:
    return f"{correct}/{total} ({pct(ratio)})"


def _header(data: dict) -> Panel:
    acc = _frac(data["status_correct"], data["status_total"], data["status_accuracy"])
    fd = data["false_documented"]
    text = Text.assemble(
        ("Gold: ", "bold"), f"{data['gold']} ({data['notes']} notes)\n",
        ("Notes: ", "bold"), f"{data['notes_dir']}\n",
        ("Status accuracy: ", "bold"), acc, "\n",
        ("False documented: ", "bold"), (str(fd), "bold red" if fd else "green"),
        ("   Disagreements: ", "bold"), str(len(data["disagreements"])),
    )
    return Panel(text, title="opnote-audit eval", expand=True)


def _element_table(data: dict) -> Table:
    t = Table(title="Status by element", title_justify="left", title_style="bold",
              box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
    t.add_column("Element", no_wrap=True)
    t.add_column("Accuracy", justify="right", no_wrap=True)
    t.add_column("Doc P", justify="right", no_wrap=True)
    t.add_column("Doc R", justify="right", no_wrap=True)
    t.add_column("Doc F1", justify="right", no_wrap=True)
    t.add_column("False doc", justify="right", no_wrap=True)
    for name, s in data["elements"].items():
        fd = Text(str(s["false_documented"]), style="bold red" if s["false_documented"] else "")
        t.add_row(ELEMENT_TITLE.get(name, name), _frac(s["correct"], s["notes"], s["accuracy"]),
                  pct(s["documented_precision"]), pct(s["documented_recall"]), pct(s["documented_f1"]), fd)
    return t


def _value_table(data: dict) -> Table:
    t = Table(title="Value accuracy", title_justify="left", title_style="bold",
              box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
    t.add_column("Value", no_wrap=True)
    t.add_column("Correct", justify="right", no_wrap=True)
    for name, v in data["values"].items():
        t.add_row(VALUE_TITLE.get(name, name), _frac(v["correct"], v["total"], v["accuracy"]))
    return t


def _matrix(name: str, m: dict[str, dict[str, int]]) -> Table:
    t = Table(title=ELEMENT_TITLE.get(name, name), title_justify="left", title_style="bold",
              box=box.SIMPLE, pad_edge=False, padding=(0, 1), expand=False)
    t.add_column("gold", no_wrap=True, min_width=4)
    for s in STATUSES:
        t.add_column(SHORT[s], justify="right", no_wrap=True, min_width=3)
    for g in STATUSES:
        cells = []
        for p in STATUSES:
            n = m[g][p]
            style = ("bold" if g == p else "bold red" if p == "documented" else "yellow") if n else "dim"
            cells.append(Text(str(n) if n else ".", style=style))
        t.add_row(SHORT[g], *cells)
    return t


def _confusion(data: dict, width: int) -> Group:
    per_row = 2 if width >= 78 else 1     # one matrix is 36 columns wide
    grid = Table.grid(padding=(0, 6))
    for _ in range(per_row):
        grid.add_column(no_wrap=True)
    names = list(data["elements"])
    for i in range(0, len(names), per_row):
        row = [_matrix(n, data["elements"][n]["confusion"]) for n in names[i:i + per_row]]
        grid.add_row(*row, *([""] * (per_row - len(row))))
    legend = Text("Rows: gold label; columns: the tool's status. " + ", ".join(f"{v} = {k.replace('_', ' ')}"
                                                                        for k, v in SHORT.items()) + ".",
                  style="dim")
    return Group(Text("Status confusion", style="bold underline"), legend, grid)


def show_value(v: Any) -> str:
    if v is None or v == []:
        return "none"
    if isinstance(v, list):
        return ", ".join(map(str, v))
    return str(v)


def _quote(e: dict, room: int) -> Text:
    """``line N: "...before MATCH after..."`` in at most ``room`` characters, match in bold."""
    out = Text(f"line {e['line']}")
    if e.get("text") is None:
        return out
    out.append(": ")
    room = max(room - len(out) - 2, 24)
    match = " ".join(str(e["text"]).split())
    if len(match) > room:
        match = match[:room - 3] + "..."
    ctx = e.get("context") or {}
    before, after = ctx.get("before", ""), ctx.get("after", "")
    left = room - len(match)
    keep_before = min(len(before), max(left // 2, left - len(after)))
    keep_after = min(len(after), left - keep_before)
    if keep_before < len(before):
        before = "..." + before[len(before) - keep_before + 3:] if keep_before > 3 else ""
    if keep_after < len(after):
        after = after[:keep_after - 3] + "..." if keep_after > 3 else ""
    out.append('"' + before)
    out.append(match, style="bold")
    out.append(after + '"')
    return out


def _disagreements(data: dict, opts: EvalRenderOptions, width: int) -> Group:
    dis = data["disagreements"]
    files = list(dict.fromkeys(d["file"] for d in dis))
    parts: list[Any] = [Text(f"Disagreements ({len(dis)} in {len(files)} notes)", style="bold underline")]
    if not dis:
        parts.append(Text("None: every status and value matches the gold labels.", style="green"))
    for f in files:
        parts.append(Text(f, style="bold"))
        for d in (d for d in dis if d["file"] == f):
            what = "status" if d["field"] == "status" else ("segments" if d["field"] == "segments" else "value")
            line = Text("  ")
            line.append(f"{ELEMENT_TITLE.get(d['element'], d['element'])} {what}: ", style="bold")
            line.append(f"gold {show_value(d['gold'])}, tool ")
            line.append(show_value(d["got"]), style="bold red" if d["got"] == "documented" else "yellow")
            parts.append(line)
            if d.get("reason"):
                parts.append(Padding(Text(f"why: {d['reason']}", style="dim"), (0, 0, 0, 4)))
            ev = d.get("evidence") or []
            if ev and all(e.get("text") is None for e in ev):
                lines = ", ".join(dict.fromkeys(str(e["line"]) for e in ev))
                parts.append(Padding(Text(f"line(s) {lines}"), (0, 0, 0, 4)))
                continue
            for e in ev[:MAX_EVIDENCE]:
                parts.append(Padding(_quote(e, width - 4), (0, 0, 0, 4)))
            if len(ev) > MAX_EVIDENCE:
                parts.append(Text(f"    (+{len(ev) - MAX_EVIDENCE} more)", style="dim"))
            if not ev:
                parts.append(Text("    (the tool quoted no evidence)", style="dim"))
    return Group(*parts)


def build(data: dict, opts: EvalRenderOptions, width: int) -> Group:
    parts: list[Any] = [_header(data), _element_table(data), _value_table(data), _confusion(data, width)]
    if opts.show_disagreements:
        parts.append(Text(""))
        parts.append(_disagreements(data, opts, width))
    return Group(*parts)


def strip_text(data: dict) -> dict:
    """A copy of the evaluation without quoted note text (evidence keeps line numbers)."""
    out = dict(data)
    out["disagreements"] = [
        {**d, "evidence": [{k: (None if k == "text" else v) for k, v in e.items() if k != "context"}
                           for e in d.get("evidence") or []]} for d in data["disagreements"]
    ]
    return out


def render(data: dict, opts: EvalRenderOptions = EvalRenderOptions()) -> str:
    if not opts.with_text:
        data = strip_text(data)
    width = opts.width or 80
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=opts.color, no_color=not opts.color,
                      color_system="standard" if opts.color else None, highlight=False, soft_wrap=False)
    console.print(build(data, opts, width))
    return buf.getvalue()
