"""Every element status, tested by example: tests/cases/<element>.yml.

Each case is a short note with the status (and value, categories, rules) the spec requires.
The cases read like the spec: a new behaviour gets a new case, not a hand-built object.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from opnote_audit.audit import audit_text

CASES_DIR = Path(__file__).parent / "cases"
CASE_KEYS = {"name", "text", "code", "status", "value", "categories", "rules", "rules_absent"}


def _cases():
    for path in sorted(CASES_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            assert set(case) <= CASE_KEYS, f"{path.name}: unknown keys in case {case.get('name')}"
            yield pytest.param(data["element"], case, id=f"{path.stem}: {case['name']}")


@pytest.mark.parametrize("element,case", list(_cases()))
def test_case(element, case):
    result = audit_text(case["text"], code=case.get("code", "63102"))
    got = result.elements[element]
    assert got.status == case["status"], f"{got.status}: {got.reason}"
    if "value" in case:
        assert got.value == case["value"]
    if "categories" in case:
        assert sorted({v["category"] for v in got.value}) == sorted(case["categories"])
    rules = {f.rule for f in result.findings}
    for rule in case.get("rules", []):
        assert rule in rules
    for rule in case.get("rules_absent", []):
        assert rule not in rules


def test_every_status_of_every_element_is_covered():
    seen: dict[str, set[str]] = {}
    for param in _cases():
        element, case = param.values
        seen.setdefault(element, set()).add(case["status"])
    assert seen["approach"] == {"documented", "insufficient", "missing", "conflict"}
    assert seen["level"] == {"documented", "insufficient", "missing", "conflict"}
    assert seen["pathology"] == {"documented", "insufficient", "missing"}
    assert seen["extent"] == {"documented", "insufficient", "missing", "conflict"}
    assert seen["neural_elements"] == {"documented", "insufficient", "missing"}
    assert seen["co_surgeon"] == {"documented", "missing", "not_applicable"}
