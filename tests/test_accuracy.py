"""Accuracy floors: the auditor against the project's gold labels.

Three gold sets: the project corpus (tests/corpus/gold.jsonl, 45 invented notes), the sample
notes (sample_notes/labels.jsonl, 12 notes), and the "blind" set (tests/corpus/blind/, 25 notes
written from the spec alone by a helper who never saw the code or the patterns; first measured at
92.7% status accuracy with 1 false documented, before the fixes it prompted), and a second blind
set (tests/corpus/blind2/, 30 notes, first measured at 96.7% with 1 false documented) and a
third (tests/corpus/blind3/, 30 messy notes, first measured at 96.1% with 1 false documented),
and a fourth (tests/corpus/blind4/, 25 terse notes on borderline statuses, first measured at 96.7%
with 2 false documented: "extracavitary approach" without "lateral") and a fifth
(tests/corpus/blind5/, 25 long academic notes, first measured at 94.0% with 4 false documented),
a sixth (tests/corpus/blind6/, 25 notes in international dictation styles, 87.3% with 1 false
documented at first) and a seventh (tests/corpus/blind7/, 25 trauma/infection EHR templates, 88.0%
with 8 false documented at first), an eighth (tests/corpus/blind8/, 25 representative notes,
98.7% with 1 false documented at first) and a ninth (tests/corpus/blind9/, 25 mostly thoracic
notes, 98.0% with 0 false documented at first), a tenth (tests/corpus/blind10/, 25 personal
styles, 95.3% / 0 at first) and an eleventh (tests/corpus/blind11/, 25 system exports with page
footers, double spacing and fax wraps, 98.7% / 1 at first), a twelfth (tests/corpus/blind12/,
25 traps for a false documented, 99.3% / 1 at first) and a thirteenth (tests/corpus/blind13/, 25
transcription-service reports, 98.7% / 1 at first), and a last held-out set written after all
the fixes of the first session (tests/corpus/blind14/, 20 mixed notes, 98.3% with 0 false
documented at first), and one written in the second session (tests/corpus/blind15/, 25 notes:
CDI addenda, resident attestations, voice recognition, templates, traps; 94.0% with 2 false
documented at first), and the last held-out set (tests/corpus/blind16/, 25 notes by different
authors and institutions; 98.0% with 1 false documented at first, and a 3 KB template that hung
the audit, fixed) and the last (tests/corpus/blind17/, 20 notes on typography, layout and long
negation scopes; 97.5% with 1 false documented at first). Sets 6, 7, 9, 10, 13, 14, 15, 16 and
17 still have disagreements (see their floors).
Each note is audited once per session.

The floors are the figures measured when the test was written, rounded DOWN to the percent
(precision floors likewise). Raise a floor when accuracy improves; never lower one to make a
change pass: fix the change or, if a gold label was wrong by the spec, fix the label and say so.

False ``documented`` is the error a coder cannot afford (the claim goes out unsupported), so it
is tested note by note: every (note, element) whose gold status is not ``documented`` must not
be reported ``documented``. Known failures are listed by name in KNOWN_FALSE_DOCUMENTED and
marked xfail(strict): a new one still fails, and a fixed one must be removed from the list.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from opnote_audit.evaluate import caching_audit, evaluate, load_gold
from opnote_audit.models import ELEMENTS

ROOT = Path(__file__).resolve().parents[1]
GOLD = {
    "corpus": (ROOT / "tests" / "corpus" / "gold.jsonl", ROOT / "tests" / "corpus" / "notes"),
    "samples": (ROOT / "sample_notes" / "labels.jsonl", ROOT / "sample_notes"),
    "blind": (ROOT / "tests" / "corpus" / "blind" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind" / "notes"),
    "blind2": (ROOT / "tests" / "corpus" / "blind2" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind2" / "notes"),
    "blind3": (ROOT / "tests" / "corpus" / "blind3" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind3" / "notes"),
    "blind4": (ROOT / "tests" / "corpus" / "blind4" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind4" / "notes"),
    "blind5": (ROOT / "tests" / "corpus" / "blind5" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind5" / "notes"),
    "blind6": (ROOT / "tests" / "corpus" / "blind6" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind6" / "notes"),
    "blind7": (ROOT / "tests" / "corpus" / "blind7" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind7" / "notes"),
    "blind8": (ROOT / "tests" / "corpus" / "blind8" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind8" / "notes"),
    "blind9": (ROOT / "tests" / "corpus" / "blind9" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind9" / "notes"),
    "blind10": (ROOT / "tests" / "corpus" / "blind10" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind10" / "notes"),
    "blind11": (ROOT / "tests" / "corpus" / "blind11" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind11" / "notes"),
    "blind12": (ROOT / "tests" / "corpus" / "blind12" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind12" / "notes"),
    "blind13": (ROOT / "tests" / "corpus" / "blind13" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind13" / "notes"),
    "blind14": (ROOT / "tests" / "corpus" / "blind14" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind14" / "notes"),
    "blind15": (ROOT / "tests" / "corpus" / "blind15" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind15" / "notes"),
    "blind16": (ROOT / "tests" / "corpus" / "blind16" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind16" / "notes"),
    "blind17": (ROOT / "tests" / "corpus" / "blind17" / "gold.jsonl", ROOT / "tests" / "corpus" / "blind17" / "notes"),
}

# Measured for issue 6: corpus 270/270 statuses; samples 72/72.
STATUS_FLOOR = {"corpus": 1.00, "samples": 1.00, "blind": 1.00, "blind2": 1.00, "blind3": 1.00, "blind4": 1.00, "blind5": 1.00,
                "blind6": 0.97, "blind7": 0.99, "blind8": 1.00, "blind9": 0.99,
                "blind10": 0.98, "blind11": 1.00, "blind12": 1.00, "blind13": 0.99,
                "blind14": 0.99, "blind15": 0.98, "blind16": 1.00, "blind17": 1.00}
PRECISION_FLOOR = {
    "corpus": {e: 1.00 for e in ELEMENTS},
    "samples": {e: 1.00 for e in ELEMENTS},
    "blind": {e: 1.00 for e in ELEMENTS},
    "blind2": {e: 1.00 for e in ELEMENTS},
    "blind3": {e: 1.00 for e in ELEMENTS},
    "blind4": {e: 1.00 for e in ELEMENTS},
    "blind5": {e: 1.00 for e in ELEMENTS},
    "blind6": {e: 1.00 for e in ELEMENTS},
    "blind7": {e: 1.00 for e in ELEMENTS},
    "blind8": {e: 1.00 for e in ELEMENTS},
    "blind9": {e: 1.00 for e in ELEMENTS},
    "blind10": {e: 1.00 for e in ELEMENTS},
    "blind11": {e: 1.00 for e in ELEMENTS},
    "blind12": {e: 1.00 for e in ELEMENTS},
    "blind13": {e: 1.00 for e in ELEMENTS},
    "blind14": {e: 1.00 for e in ELEMENTS},
    "blind15": {e: 1.00 for e in ELEMENTS},
    "blind16": {e: 1.00 for e in ELEMENTS},
    "blind17": {e: 1.00 for e in ELEMENTS},
}
# corpus pathology categories: c22 "workup for infection ... was negative" (a negation too far back)
VALUE_FLOOR = {
    "corpus": {"level": 1.00, "segments": 1.00, "extent": 1.00, "pathology": 0.97},
    "samples": {"level": 1.00, "segments": 1.00, "extent": 1.00, "pathology": 1.00},
    "blind": {"level": 1.00, "segments": 1.00, "extent": 1.00, "pathology": 1.00},
    "blind2": {"level": 1.00, "segments": 1.00, "extent": 1.00, "pathology": 1.00},
    # blind3 segments 29/30: e25's gold counts a resected body whose level the note never names
    "blind3": {"level": 1.00, "segments": 0.96, "extent": 1.00, "pathology": 1.00},
    "blind4": {"level": 1.00, "segments": 1.00, "extent": 1.00, "pathology": 1.00},
    "blind5": {"level": 1.00, "segments": 1.00, "extent": 1.00, "pathology": 1.00},
    "blind6": {"level": 0.92, "segments": 0.92, "extent": 0.92, "pathology": 0.92},
    "blind7": {"level": 1.00, "segments": 1.00, "extent": 1.00, "pathology": 1.00},
    "blind8": {"level": 1.00, "segments": 1.00, "extent": 1.00, "pathology": 1.00},
    "blind9": {"level": 1.00, "segments": 1.00, "extent": 1.00, "pathology": 1.00},
    "blind10": {"level": 0.96, "segments": 0.96, "extent": 0.96, "pathology": 0.96},
    "blind11": {"level": 1.00, "segments": 1.00, "extent": 1.00, "pathology": 1.00},
    "blind12": {"level": 1.00, "segments": 1.00, "extent": 1.00, "pathology": 1.00},
    "blind13": {"level": 1.00, "segments": 1.00, "extent": 1.00, "pathology": 0.96},
    "blind14": {"level": 1.00, "segments": 1.00, "extent": 0.95, "pathology": 1.00},
    # blind15: u03 is voice-recognition output that heard "L2" as "L to"; u17's gold counts a
    # body whose level is never named; u20 takes a fracture from a past operation
    "blind15": {"level": 0.96, "segments": 0.92, "extent": 0.96, "pathology": 0.96},
    # blind16 segments 24/25: v19's gold counts "the adjacent vertebral body", never named
    "blind16": {"level": 1.00, "segments": 0.96, "extent": 1.00, "pathology": 1.00},
    # blind17 segments 19/20: w14's gold counts a body whose level is never named
    "blind17": {"level": 1.00, "segments": 0.95, "extent": 1.00, "pathology": 1.00},
}
# (gold set, file, element) reported `documented` although the gold label says otherwise: none now
KNOWN_FALSE_DOCUMENTED: set[tuple[str, str, str]] = set()

_audit = caching_audit()


@functools.cache
def evaluation(name: str) -> dict:
    gold, notes = GOLD[name]
    return evaluate(gold, notes, audit=_audit)


def percent(x: float) -> str:
    return f"{100 * x:.1f}%"


@pytest.mark.parametrize("name", list(GOLD))
def test_status_accuracy_floor(name: str) -> None:
    data = evaluation(name)
    assert data["status_accuracy"] >= STATUS_FLOOR[name], (
        f"{name}: status accuracy {data['status_correct']}/{data['status_total']} "
        f"({percent(data['status_accuracy'])}) fell below {percent(STATUS_FLOOR[name])}")


@pytest.mark.parametrize("name", list(GOLD))
@pytest.mark.parametrize("element", ELEMENTS)
def test_documented_precision_floor(name: str, element: str) -> None:
    s = evaluation(name)["elements"][element]
    assert s["documented_precision"] >= PRECISION_FLOOR[name][element], (
        f"{name}: {element} documented precision {s['documented_tp']}/"
        f"{s['documented_tp'] + s['documented_fp']} fell below {percent(PRECISION_FLOOR[name][element])}")


@pytest.mark.parametrize("name", list(GOLD))
@pytest.mark.parametrize("kind", ["level", "segments", "extent", "pathology"])
def test_value_accuracy_floor(name: str, kind: str) -> None:
    v = evaluation(name)["values"][kind]
    assert v["accuracy"] >= VALUE_FLOOR[name][kind], (
        f"{name}: {kind} value accuracy {v['correct']}/{v['total']} fell below {percent(VALUE_FLOOR[name][kind])}")


def _not_documented_cases() -> list:
    cases = []
    for name, (gold, _) in GOLD.items():
        for g in load_gold(gold):
            for e in ELEMENTS:
                if g.elements[e]["status"] == "documented":
                    continue
                marks = []
                if (name, g.file, e) in KNOWN_FALSE_DOCUMENTED:
                    marks.append(pytest.mark.xfail(strict=True, reason="known false documented (see report)"))
                cases.append(pytest.param(name, g.file, e, id=f"{name}:{g.file}:{e}", marks=marks))
    return cases


@pytest.mark.parametrize("name, file, element", _not_documented_cases())
def test_no_false_documented(name: str, file: str, element: str) -> None:
    hits = [d for d in evaluation(name)["false_documented_notes"] if (d["file"], d["element"]) == (file, element)]
    assert not hits, f"{file}: {element} reported documented, gold says {hits[0]['gold']}"


def test_the_floors_cover_every_note() -> None:
    """The accuracy figures are over every labelled note of each set (none skipped)."""
    assert evaluation("corpus")["notes"] == 45 and evaluation("corpus")["status_total"] == 270
    assert evaluation("samples")["notes"] == 12 and evaluation("samples")["status_total"] == 72
    assert evaluation("corpus")["values"]["segments"]["total"] == 45
