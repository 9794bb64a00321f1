"""ICD-10-CM diagnoses of a claim: format, validity and billability, and their category.

Validity and billability are read from the official CDC tabular that the ``simple-icd-10-cm``
package ships. That package parses the whole tabular when imported (about 3 s), so it is
imported lazily, only when a claim gives diagnoses (never on the path of a plain ``check``).
The category of a code (tumor, fracture, infection, destructive, symptom) comes from
``patterns/icd_categories.yml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from opnote_audit import patterns
from opnote_audit.errors import PatternError, UsageError
from opnote_audit.models import PATHOLOGY_CATEGORIES

# Letter, digit, alphanumeric, then up to four characters after the dot: "M84.58XA", "C79.51".
ICD_FORMAT = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?$")
CATEGORIES = PATHOLOGY_CATEGORIES + ("symptom",)


@dataclass
class Diagnosis:
    """One diagnosis code as the tabular knows it."""

    code: str
    valid: bool = False          # a code or category of the tabular
    billable: bool = False       # a complete code (a leaf: all required characters present)
    description: str | None = None
    category: list[str] = field(default_factory=list)
    family: str | None = None    # the name of the icd_categories.yml family

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "valid": self.valid, "billable": self.billable,
                "description": self.description, "category": self.category, "family": self.family}


def normalize(raw: str) -> str:
    """Upper-case, strip, and put the dot after the third character ("m8458xa" -> "M84.58XA").

    Raises :class:`UsageError` when the value is not shaped like an ICD-10-CM code.
    """
    code = raw.strip().upper()
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    if not ICD_FORMAT.match(code):
        shown = raw.strip()[:20]
        raise UsageError(f"malformed --icd '{shown}': expected an ICD-10-CM code such as M84.58XA or C79.51")
    return code


def _nodot(code: str) -> str:
    return code.replace(".", "")


@patterns.cached
def _families() -> list[tuple[list[tuple[str, str]], list[str], str]]:
    data = patterns.load("icd_categories.yml")
    out = []
    for entry in patterns.require(data, "families", list, "patterns/icd_categories.yml"):
        patterns.check_keys(entry, {"name", "codes", "categories"})
        name = str(patterns.require(entry, "name", str))
        cats = patterns.require(entry, "categories", list)
        bad = [c for c in cats if c not in CATEGORIES]
        if bad or not cats:
            raise PatternError(f"{patterns.where(entry)}: categories must be some of {', '.join(CATEGORIES)}")
        ranges = []
        for spec in patterns.require(entry, "codes", list):
            lo, _, hi = str(spec).partition("-")
            lo, hi = _nodot(lo.strip().upper()), _nodot((hi or lo).strip().upper())
            if not lo or len(lo) != len(hi) or lo > hi:
                raise PatternError(f"{patterns.where(entry)}: bad code range '{spec}'")
            ranges.append((lo, hi))
        out.append((ranges, [str(c) for c in cats], name))
    return out


def family_of(code: str) -> tuple[list[str], str | None]:
    """(categories, family name) of a code from patterns/icd_categories.yml; ([], None) if none."""
    bare = _nodot(code)
    for ranges, cats, name in _families():
        for lo, hi in ranges:
            if lo <= bare[:len(lo)] <= hi:
                return list(cats), name
    return [], None


def lookup(code: str) -> Diagnosis:
    """Validity, billability, description and category of a normalised code (imports the tabular)."""
    import simple_icd_10_cm as cm  # slow import (~3 s): only when diagnoses are given

    dx = Diagnosis(code)
    dx.category, dx.family = family_of(code)
    if not cm.is_valid_item(code):
        return dx
    dx.valid = True
    dx.description = cm.get_description(code)
    dx.billable = bool(cm.is_leaf(code)) and not (cm.is_chapter_or_block(code) and not cm.is_category(code))
    return dx
