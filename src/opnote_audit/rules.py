"""The rule catalogue (``patterns/rules.yml``) and the making of findings from it.

A rule has an id, an element, a severity, a message template, advice, why it matters and a
failing and a passing example. Code never writes a message of its own: it picks a rule and
fills the template's ``{value}``, ``{detail}``, ``{code}`` and ``{region}``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from opnote_audit import patterns
from opnote_audit.errors import PatternError
from opnote_audit.models import ELEMENTS, SEVERITIES, Evidence, Finding

RULE_KEYS = {"id", "element", "severity", "summary", "message", "advice", "why", "example_fail", "example_pass"}
PLACEHOLDERS = {"value", "detail", "code", "region"}


@dataclass(frozen=True)
class Rule:
    id: str
    element: str
    severity: str
    summary: str
    message: str
    advice: str
    why: str
    example_fail: str
    example_pass: str


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


RULE_FILES = ("rules.yml", "rules_claim.yml")  # the element rules, then the claim and companion rules


def _rule_entries():
    for name in RULE_FILES:
        if name != RULE_FILES[0] and not (patterns.builtin_dir() / name).is_file():
            continue
        data = patterns.load(name)
        yield from patterns.require(data, "rules", list, f"patterns/{name}")


@patterns.cached
def catalogue() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for entry in _rule_entries():
        patterns.check_keys(entry, RULE_KEYS)
        missing = RULE_KEYS - set(entry)
        if missing:
            raise PatternError(f"{patterns.where(entry)}: rule is missing {', '.join(sorted(missing))}")
        rid = str(entry["id"])
        if rid in rules:
            raise PatternError(f"{patterns.where(entry)}: duplicate rule id '{rid}'")
        if entry["severity"] not in SEVERITIES:
            raise PatternError(f"{patterns.where(entry)}: severity must be one of {', '.join(SEVERITIES)}")
        if entry["element"] not in (*ELEMENTS, "any", "claim", "companion"):
            raise PatternError(f"{patterns.where(entry)}: unknown element '{entry['element']}'")
        for field_name in ("message", "advice"):
            used = {f for _, f, _, _ in string.Formatter().parse(str(entry[field_name])) if f}
            if used - PLACEHOLDERS:
                raise PatternError(f"{patterns.where(entry)}: unknown placeholder(s) {', '.join(sorted(used - PLACEHOLDERS))} in {field_name}")
        rules[rid] = Rule(**{k: str(entry[k]) for k in RULE_KEYS})
    status_rules = patterns.load("rules.yml").get("status_rules") or {}
    for element, mapping in status_rules.items():
        for status, rid in (mapping or {}).items():
            if rid not in rules:
                raise PatternError(f"{patterns.where(mapping)}: status rule '{rid}' is not in the catalogue")
    return rules


@patterns.cached
def status_rules() -> dict[str, dict[str, str]]:
    catalogue()
    data = patterns.load("rules.yml")
    return {str(k): dict(v or {}) for k, v in (data.get("status_rules") or {}).items()}


def fills_from_note(rule: Rule) -> bool:
    """Does the rule's message take words from the note ({value} or {detail})?"""
    used = {f for _, f, _, _ in string.Formatter().parse(rule.message) if f}
    return bool(used & {"value", "detail"})


def finding(rule_id: str, evidence: list[Evidence] | None = None, element: str | None = None,
            severity: str | None = None, **fill: Any) -> Finding:
    rule = catalogue()[rule_id]
    values = _Blank({k: ("" if v is None else v) for k, v in fill.items()})
    return Finding(
        rule=rule.id,
        severity=severity or rule.severity,
        element=element or rule.element,
        message=rule.message.format_map(values),
        advice=rule.advice.format_map(values),
        evidence=list(evidence or []),
    )
