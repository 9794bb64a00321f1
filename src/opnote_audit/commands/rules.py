"""``opnote-audit rules [RULE_ID]``: list the rule catalogue, or document one rule.

The text comes from the rule data (``patterns/rules*.yml``), shown under ruff-style
headings: What it does / Why it matters / Example / How to fix. Loads no spaCy.
"""

from __future__ import annotations

import difflib
import json
import string
import textwrap
from typing import Optional

import typer

from opnote_audit.cli import app
from opnote_audit.commands import user_errors, write_output


def _blank_placeholders(template: str) -> str:
    """A message template with its ``{value}``-style fields shown as '…'."""
    parts = []
    for literal, field_name, _, _ in string.Formatter().parse(template):
        parts.append(literal)
        if field_name:
            parts.append("…")
    return "".join(parts).strip()


def _indent(text: str, width: int = 88) -> str:
    lines = []
    for para in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(para, width - 4, initial_indent="    ", subsequent_indent="    ") or ["    "])
    return "\n".join(lines)


def _block(text: str) -> str:
    return "\n".join(f"    | {line}" for line in text.splitlines())


def describe(rule) -> str:
    """The documentation page of one rule."""
    message = _blank_placeholders(rule.message)
    what = rule.summary
    if message and message.strip("…. ") and message != rule.summary:
        what += f"\nIt reports: \"{message}\""
    sections = [
        f"{rule.id}  ({rule.severity}, element: {rule.element})",
        "",
        "What it does",
        _indent(what),
        "",
        "Why it matters",
        _indent(rule.why),
        "",
        "Example",
        "  This note text fails the rule:",
        _block(rule.example_fail),
        "  This one passes:",
        _block(rule.example_pass),
        "",
        "How to fix",
        _indent(_blank_placeholders(rule.advice)),
    ]
    return "\n".join(sections) + "\n"


def listing(rules) -> str:
    """One line per rule: id, severity, element, summary."""
    rows = [(r.id, r.severity, r.element, r.summary) for r in rules]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(("RULE", "SEVERITY", "ELEMENT"))]
    head = ("RULE", "SEVERITY", "ELEMENT", "SUMMARY")
    out = []
    for row in [head, *rows]:
        out.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(row[:3])) + "  " + row[3])
    return "\n".join(out) + "\n"


def _unknown(rule_id: str, known: list[str]) -> str:
    close = difflib.get_close_matches(rule_id, known, n=3, cutoff=0.5)
    if close:
        return f"unknown rule '{rule_id}'; did you mean: {', '.join(close)}? (`opnote-audit rules` lists them all)"
    return f"unknown rule '{rule_id}'; `opnote-audit rules` lists the {len(known)} rule ids"


def _complete_rule_id(incomplete: str) -> list[str]:
    """Shell completion of rule ids (from the catalogue; no spaCy)."""
    from opnote_audit.rules import catalogue

    try:
        return [rid for rid in catalogue() if rid.startswith(incomplete)]
    except Exception:  # never break the user's shell
        return []


@app.command("rules")
@user_errors
def rules_command(
    rule_id: Optional[str] = typer.Argument(None, help="A rule id: show what it checks, why, an example and how to fix it.",
                                            autocompletion=_complete_rule_id),
    as_json: bool = typer.Option(False, "--json", help="Print the rule data as JSON."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """List every rule, or document one rule (what it does, why it matters, example, how to fix)."""
    from dataclasses import asdict

    from opnote_audit.errors import UsageError
    from opnote_audit.rules import catalogue

    cat = catalogue()
    if rule_id is None:
        text = (json.dumps([asdict(r) for r in cat.values()], indent=2) + "\n") if as_json else listing(cat.values())
    elif rule_id not in cat:
        raise UsageError(_unknown(rule_id, list(cat)))
    else:
        text = (json.dumps(asdict(cat[rule_id]), indent=2) + "\n") if as_json else describe(cat[rule_id])
    write_output(text, output)
