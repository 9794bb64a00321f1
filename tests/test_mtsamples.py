"""Real de-identified spine notes (MTSamples, ../shared/corpus/mtsamples-spine/): the auditor
never crashes and never credits what none of them contains.

None of these notes is a lateral extracavitary lumbar corpectomy, so on every one of them
(op notes, consults, letters) approach and level are never ``documented``, and extent is
``documented`` only for the partial C5 corpectomy (mts_2099). The labelled subset
(tests/corpus/mtsamples_gold.jsonl) also has an accuracy floor and the note-by-note false
``documented`` check of test_accuracy.py (same xfail policy). Each note is audited once.
The notes are read in place and never copied into the repository.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from opnote_audit.evaluate import caching_audit, evaluate, load_gold
from opnote_audit.models import ELEMENTS, STATUSES
from opnote_audit.readers import read_note

ROOT = Path(__file__).resolve().parents[1]
MTS = ROOT.parent / "shared" / "corpus" / "mtsamples-spine"
GOLD = ROOT / "tests" / "corpus" / "mtsamples_gold.jsonl"
PARTIAL_C5 = "mts_2099_anterior_cervical_discectomy_arthrodesis.txt"

pytestmark = pytest.mark.skipif(not MTS.is_dir(), reason=f"real-note corpus not present at {MTS}")

NOTES = sorted(p.name for p in MTS.glob("*.txt")) if MTS.is_dir() else []

# Measured for issue 6 on 25 labelled notes: 147/150 statuses (98.0%); values level 25/25,
# segments 25/25, extent 25/25, pathology 24/25 (96.0%). Floors are rounded down to the percent.
STATUS_FLOOR = 0.98
VALUE_FLOOR = {"level": 1.00, "segments": 1.00, "extent": 1.00, "pathology": 0.96}
PRECISION_FLOOR = {e: 1.00 for e in ELEMENTS}
# (file, element) known to be wrongly reported documented; xfail(strict), listed by name
KNOWN_FALSE_DOCUMENTED: set[tuple[str, str]] = set()
# (file, element) known to break the never-documented rules on the whole folder
KNOWN_CHECK_FAILURES: set[tuple[str, str]] = set()

_audit = caching_audit()


def audit(name: str) -> dict:
    return _audit(MTS / name, "63102", name, False)


@functools.cache
def evaluation() -> dict:
    return evaluate(GOLD, MTS, audit=_audit)


def known(name: str, element: str, table: set) -> list:
    if (name, element) in table:
        return [pytest.mark.xfail(strict=True, reason=f"known: {element} wrongly documented (see report)")]
    return []


def cases(element: str) -> list:
    return [pytest.param(n, id=n, marks=known(n, element, KNOWN_CHECK_FAILURES)) for n in NOTES]


def test_the_folder_is_the_expected_corpus() -> None:
    assert len(NOTES) == 95
    assert PARTIAL_C5 in NOTES


@pytest.mark.parametrize("name", NOTES)
def test_check_runs_and_keeps_the_contract(name: str) -> None:
    res = audit(name)
    assert res["file"] == name and res["code"] == "63102"
    assert list(res["elements"]) == list(ELEMENTS)
    assert all(res["elements"][e]["status"] in STATUSES for e in ELEMENTS)
    text = read_note(MTS / name).text
    for e in ELEMENTS:
        for ev in res["elements"][e]["evidence"]:
            assert text[ev["start"]:ev["end"]] == ev["text"]
            assert ev["line"] == text.count("\n", 0, ev["start"]) + 1


@pytest.mark.parametrize("name", cases("approach"))
def test_approach_is_never_documented(name: str) -> None:
    el = audit(name)["elements"]["approach"]
    assert el["status"] != "documented", f"approach documented from {el['evidence'][:1]}"


@pytest.mark.parametrize("name", cases("level"))
def test_level_is_never_documented(name: str) -> None:
    el = audit(name)["elements"]["level"]
    assert el["status"] != "documented", f"level {el['value']} documented"


@pytest.mark.parametrize("name", cases("extent"))
def test_extent_documented_only_for_the_partial_c5_corpectomy(name: str) -> None:
    el = audit(name)["elements"]["extent"]
    if name == PARTIAL_C5:
        assert (el["status"], el["value"]) == ("documented", "partial")
    else:
        assert el["status"] != "documented", f"extent {el['value']} documented"


def test_status_accuracy_floor() -> None:
    data = evaluation()
    assert data["status_accuracy"] >= STATUS_FLOOR, (
        f"status accuracy {data['status_correct']}/{data['status_total']} fell below {STATUS_FLOOR:.0%}")


@pytest.mark.parametrize("kind", list(VALUE_FLOOR))
def test_value_accuracy_floor(kind: str) -> None:
    v = evaluation()["values"][kind]
    assert v["accuracy"] >= VALUE_FLOOR[kind], f"{kind}: {v['correct']}/{v['total']} below {VALUE_FLOOR[kind]:.0%}"


@pytest.mark.parametrize("element", ELEMENTS)
def test_documented_precision_floor(element: str) -> None:
    s = evaluation()["elements"][element]
    assert s["documented_precision"] >= PRECISION_FLOOR[element], (
        f"{element}: {s['documented_tp']}/{s['documented_tp'] + s['documented_fp']} documented are right")


def _not_documented_cases() -> list:
    if not MTS.is_dir():
        return []
    out = []
    for g in load_gold(GOLD):
        for e in ELEMENTS:
            if g.elements[e]["status"] != "documented":
                out.append(pytest.param(g.file, e, id=f"{g.file}:{e}",
                                        marks=known(g.file, e, KNOWN_FALSE_DOCUMENTED)))
    return out


@pytest.mark.parametrize("file, element", _not_documented_cases())
def test_no_false_documented(file: str, element: str) -> None:
    hits = [d for d in evaluation()["false_documented_notes"] if (d["file"], d["element"]) == (file, element)]
    assert not hits, f"{file}: {element} reported documented, gold says {hits[0]['gold']}"


def test_gold_labels_only_real_op_notes() -> None:
    """Every labelled note exists and is marked as an op note in the corpus index."""
    rows = [r.rstrip("\r").split("\t") for r in (MTS / "index.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    op_notes = {r[0] for r in rows if r[-1] == "1"}
    files = [g.file for g in load_gold(GOLD)]
    assert files and set(files) <= op_notes
