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
    if data.get("claim") is not None:
        parts.extend(_claim_parts(data["claim"]))
    return Group(*parts)


DIFF_STYLE = {"ok": "green", "missing": "yellow", "extra": "bold red", "units": "bold red"}


def _lines(evidence: list[dict]) -> str:
    return ", ".join(dict.fromkeys(f"line {e['line']}" for e in evidence))


def _claim_parts(claim: dict) -> list:
    """The "Claim" section: billed vs supported codes, RVUs, diagnoses, companion procedures."""
    parts: list = [Text("Claim", style="bold underline")]
    billed = ", ".join(b["code"] + "".join(f"-{m}" for m in b["modifiers"]) + (f" x{b['units']}" if b["units"] != 1 else "")
                       for b in claim.get("billed", [])) or "-"
    parts.append(Text.assemble(("Billed: ", "bold"), billed))
    diffs = {d["code"]: d for d in claim.get("differences", [])}
    table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False)
    for name, ratio in (("Code", 2), ("Billed", 2), ("Supported", 2), ("Result", 2), ("Basis in the note", 6)):
        table.add_column(name, ratio=ratio)
    billed_units = {}
    for b in claim.get("billed", []):
        billed_units[b["code"]] = billed_units.get(b["code"], 0) + b["units"]
    rows = [(s["code"], s) for s in claim.get("supported", [])]
    rows += [(c, None) for c in billed_units if c not in {s["code"] for s in claim.get("supported", [])}]
    for code, sup in rows:
        kind = diffs.get(code, {}).get("kind", "ok")
        if code in claim.get("not_reviewed", []):
            kind = "not reviewed"
        basis = "-"
        if sup:
            basis = "; ".join(x for x in (sup.get("detail"), _lines(sup.get("evidence", []))) if x) or "-"
        table.add_row(code, str(billed_units.get(code, 0)), str(sup["units"]) if sup else "0",
                      Text(kind, style=DIFF_STYLE.get(kind, "")), basis)
    parts.append(table)
    rvu = claim.get("rvu") or {}
    if rvu:
        line = (f"Total RVU where known ({rvu.get('source')}): billed {rvu['billed_total_rvu']:.2f}, "
                f"supported {rvu['supported_total_rvu']:.2f}, difference {rvu['difference']:+.2f}")
        if rvu.get("unknown_codes"):
            line += f"; unknown: {', '.join(rvu['unknown_codes'])}"
        parts.append(Text(line))
    if claim.get("diagnoses"):
        dx_table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False)
        for name, ratio in (("Diagnosis", 2), ("Valid", 2), ("Billable", 2), ("Category", 2), ("Description", 5)):
            dx_table.add_column(name, ratio=ratio)
        for dx in claim["diagnoses"]:
            dx_table.add_row(dx["code"], "yes" if dx["valid"] else Text("NO", style="bold red"),
                             "yes" if dx["billable"] else Text("NO", style="bold red"),
                             ", ".join(dx.get("category") or []) or "-", dx.get("description") or "-")
        parts.append(dx_table)
    if claim.get("companions"):
        co_table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False)
        for name, ratio in (("Companion procedure", 5), ("Codes", 3), ("Separate step", 2), ("Reason", 2), ("Lines", 3)):
            co_table.add_column(name, ratio=ratio)
        for c in claim["companions"]:
            codes = ", ".join(e["code"] + (f" x{e['units']}" if e["units"] != 1 else "") for e in c["codes"]) or "-"
            reason = (_lines(c.get("reason_evidence", [])) if c["reason_stated"] else "not stated") \
                if c.get("needs_reason") else "-"
            co_table.add_row(c["name"] + (f" ({c['detail']})" if c.get("detail") else ""), codes,
                             "yes" if c["separate_step"] else "no", reason, _lines(c["evidence"]))
        parts.append(co_table)
    return parts


def render(result, options: RenderOptions) -> str:
    data = result_dict(result, options)
    buf = io.StringIO()
    console = Console(file=buf, width=options.width or 80, force_terminal=bool(options.color),
                      no_color=not options.color, color_system="standard" if options.color else None,
                      highlight=False, soft_wrap=False)
    console.print(build(data))
    return buf.getvalue()
