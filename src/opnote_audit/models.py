"""Typed results every stage and renderer share: mentions, evidence, element results, findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ELEMENTS = ("approach", "level", "pathology", "extent", "neural_elements", "co_surgeon")
STATUSES = ("documented", "insufficient", "missing", "conflict", "not_applicable")
SEVERITIES = ("error", "warning", "info")
# the pathology categories of the JSON contract: the structural diseases that call for a corpectomy
PATHOLOGY_CATEGORIES = ("tumor", "fracture", "infection", "destructive")
SCHEMA_VERSION = 1


@dataclass
class Mention:
    """A matched term in the normalised text, with its structural and context reading."""

    element: str          # which pattern file it came from: approach, pathology, extent, neural, imaging
    label: str            # category inside that file (named, generic, conflict, tumor, ...)
    value: str | None     # normalised value from the data
    start: int            # normalised offsets
    end: int
    text: str             # normalised text of the match
    sent: int = -1        # sentence index
    section_id: str = "preamble"
    section_kind: str = "other"
    section_mode: str = "counts"
    labels: frozenset[str] = frozenset()   # context: negated, uncertain, hypothetical, historical, family
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def affirmed(self) -> bool:
        return not self.labels

    def counts_as_done(self) -> bool:
        """Affirmed, and in a section where procedure mentions document what was done."""
        return not self.labels and self.section_mode == "counts"

    def why_not_counted(self) -> str:
        reasons = sorted(self.labels)
        if self.section_mode != "counts":
            reasons.append(f"{self.section_mode} ({self.section_id.replace('_', ' ')} section)")
        return ", ".join(reasons)


@dataclass(frozen=True)
class Evidence:
    text: str
    line: int
    start: int
    end: int

    def to_dict(self, with_text: bool = True) -> dict[str, Any]:
        return {"text": self.text if with_text else None, "line": self.line, "start": self.start, "end": self.end}


@dataclass
class ElementResult:
    status: str
    value: Any = None
    evidence: list[Evidence] = field(default_factory=list)
    reason: str = ""

    def to_dict(self, with_text: bool = True) -> dict[str, Any]:
        return {
            "status": self.status,
            "value": self.value,
            "evidence": [e.to_dict(with_text) for e in self.evidence],
            "reason": self.reason,
        }


@dataclass
class Finding:
    rule: str
    severity: str
    element: str
    message: str
    advice: str
    evidence: list[Evidence] = field(default_factory=list)

    def to_dict(self, with_text: bool = True) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "element": self.element,
            "message": self.message,
            "advice": self.advice,
            "evidence": [e.to_dict(with_text) for e in self.evidence],
        }


@dataclass
class AuditResult:
    file: str
    code: str
    elements: dict[str, ElementResult]
    findings: list[Finding]
    suggested_codes: list[dict[str, Any]]
    facts: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    claim: dict[str, Any] | None = None

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def gaps(self) -> list[str]:
        return [n for n, r in self.elements.items() if r.status not in ("documented", "not_applicable")]

    @property
    def verdict(self) -> str:
        if not self.gaps and self.count("error") == 0:
            return "supports"
        return "gaps"

    def to_dict(self, with_text: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "file": self.file,
            "code": self.code,
            "verdict": self.verdict,
            "elements": {n: r.to_dict(with_text) for n, r in self.elements.items()},
            "findings": [f.to_dict(with_text) for f in self.findings],
            "suggested_codes": self.suggested_codes,
            "summary": {
                "errors": self.count("error"),
                "warnings": self.count("warning"),
                "info": self.count("info"),
                "gaps": self.gaps,
            },
            "facts": self.facts,
            "source": self.source,
        }
        if self.claim is not None:
            out["claim"] = self.claim
        return out
