"""The terminal report (Rich): verdict header, the six elements, the findings with advice.

Reads well without colour (NO_COLOR, piped output) and at 80 columns: statuses are words,
not only colours, and every table column wraps.
"""

from __future__ import annotations

import io

from rich import box
from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from opnote_audit.report import RenderOptions, result_dict

STATUS_STYLE = {
    "documented": "bold green",
    "insufficient": "bold yellow",
    "missing": "bold red",
    "conflict": "bold magenta",
    "not_applicable": "dim",
}
SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
ELEMENT_TITLE = {
    "approach": "Approach",
    "level": "Level",
    "pathology": "Pathology",
    "extent": "Extent",
    "neural_elements": "Neural elements",
    "co_surgeon": "Co-surgeon",
}


def _value_text(name: str, value) -> str:
    if value is None or value == []:
        return "-"
    if name == "pathology":
        return "; ".join(f"{v['category']}: {v['text']}" if v.get("text") else v["category"] for v in value)
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _quote(evidence: list[dict], limit: int = 2) -> str:
    parts = []
    for e in evidence[:limit]:
        if e.get("text") is None:
            parts.append(f"line {e['line']}")
        else:
            snippet = " ".join(e["text"].split())
            if len(snippet) > 60:
                snippet = snippet[:57] + "..."
            parts.append(f"line {e['line']}: \"{snippet}\"")
    if len(evidence) > limit:
        parts.append(f"(+{len(evidence) - limit} more)")
    return "\n".join(parts) or "-"


def build(data: dict) -> Group:
    n_gaps = len(data["summary"]["gaps"])
    errors, warnings = data["summary"]["errors"], data["summary"]["warnings"]
    if data["verdict"] == "supports":
        verdict = Text(f"SUPPORTS {data['code']}", style="bold green")
    else:
        verdict = Text(f"{n_gaps} GAP{'S' if n_gaps != 1 else ''} - does not yet support {data['code']}", style="bold red")
    head = Text.assemble(("File: ", "bold"), data["file"], "\n", ("Code: ", "bold"), data["code"], "   ",
                         ("Verdict: ", "bold"), verdict, "\n",
                         (f"{errors} error(s), {warnings} warning(s), {data['summary']['info']} info", ""))
    if data.get("suggested_codes"):
        codes = ", ".join(f"{c['code']}" + (f" x{c['units']}" if c["units"] != 1 else "") for c in data["suggested_codes"])
        head.append(f"\nThe note supports: {codes}")
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, expand=True, pad_edge=False)
    table.add_column("Element", no_wrap=True, min_width=15)
    table.add_column("Status", no_wrap=True, min_width=14)
    table.add_column("Value", ratio=3)
    table.add_column("Evidence", ratio=4)
    for name, el in data["elements"].items():
        table.add_row(ELEMENT_TITLE.get(name, name), Text(el["status"].replace("_", " "), style=STATUS_STYLE.get(el["status"], "")),
                      _value_text(name, el["value"]), _quote(el["evidence"]))
    parts = [Panel(head, title="opnote-audit", expand=True), table]
    if data["findings"]:
        parts.append(Text("Findings", style="bold underline"))
        for f in data["findings"]:
            head_line = Text()
            head_line.append(f"{f['severity'].upper():8}", style=SEVERITY_STYLE.get(f["severity"], ""))
            head_line.append(f["rule"], style="bold")
            if f["evidence"]:
                head_line.append(f"  (line {f['evidence'][0]['line']})")
            parts.append(head_line)
            parts.append(Padding(Text(f["message"]), (0, 0, 0, 8)))
            parts.append(Padding(Text(f"Fix: {f['advice']}", style="italic"), (0, 0, 0, 8)))
    else:
        parts.append(Text("No findings.", style="green"))
    return Group(*parts)


def render(result, options: RenderOptions) -> str:
    data = result_dict(result, options)
    buf = io.StringIO()
    console = Console(file=buf, width=options.width or 80, force_terminal=bool(options.color),
                      no_color=not options.color, color_system="standard" if options.color else None,
                      highlight=False, soft_wrap=False)
    console.print(build(data))
    return buf.getvalue()
