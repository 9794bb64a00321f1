"""Companion procedures detected in the note (spec "Companion procedures")."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from opnote_audit import companions, patterns
from opnote_audit import elements as el
from opnote_audit.analysis import analyze
from opnote_audit.errors import PatternError
from opnote_audit.readers import read_note

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "claims"


@lru_cache(maxsize=None)
def detect_text(text: str) -> dict[str, companions.Companion]:
    an = analyze(text)
    resected = el.decide_level(an, el.load_code("63102"), True).notes["resected"]
    return {c.id: c for c in companions.detect(an, resected)}


def detect_file(path: Path) -> dict[str, companions.Companion]:
    return detect_text(read_note(path).text)


def codes(found: dict[str, companions.Companion]) -> dict[str, list[tuple[str, int]]]:
    return {k: [(e["code"], e["units"]) for e in c.codes] for k, c in found.items()}


def test_single_level_sample_companions():
    found = detect_file(ROOT / "sample_notes" / "01_exemplary_63102.txt")
    assert codes(found) == {
        "posterior_arthrodesis": [("22612", 1), ("22614", 3)],
        "posterior_instrumentation": [("22842", 1)],
        "device": [("22854", 1)],
        "graft_allograft_morselized": [("20930", 1)],
        "graft_autograft_local": [("20936", 1)],
        "discectomy": [],
    }
    assert found["posterior_instrumentation"].levels == ["T12", "L1", "L2", "L3", "L4"]
    assert found["device"].facts == {"in_corpectomy_defect": True, "with_fusion": True, "defects": 1}
    assert found["discectomy"].facts == {"adjacent": ["L1-L2", "L2-L3"], "separate": []}
    assert all(c.separate_step for c in found.values())
    assert found["device"].reason_stated


def test_multilevel_sample_companions():
    found = detect_file(ROOT / "sample_notes" / "04_multilevel_63103.txt")
    assert codes(found)["posterior_instrumentation"] == [("22843", 1)]     # T10 to L4: 7 segments
    assert codes(found)["posterior_arthrodesis"] == [("22612", 1), ("22614", 5)]
    assert found["discectomy"].facts["adjacent"] == ["T12-L1", "L1-L2", "L2-L3"]
    # the reason (SINS 15, unstable) is stated in the indications
    assert found["posterior_instrumentation"].reason_stated
    assert found["posterior_instrumentation"].reason_evidence[0].line == 31


def test_microscope_found_in_cosurgeon_sample():
    found = detect_file(ROOT / "sample_notes" / "05_cosurgeons_distinct.txt")
    assert codes(found)["microscope"] == [("69990", 1)]
    assert found["microscope"].evidence[0].text == "under the microscope"


def test_mixed_fixture_kinds_and_context():
    found = detect_file(FIX / "companions_mixed_l2.txt")
    assert codes(found) == {
        "anterior_instrumentation": [("22845", 1)],
        "device": [("22859", 1)],                      # no graft in or beside the device
        "graft_allograft_structural": [("20931", 1)],
        "graft_autograft_separate": [("20937", 1)],
        "microscope": [("69990", 1)],
        "discectomy": [],
    }
    # "No pedicle screws were placed" and "will be performed at a later stage" do not count
    assert "posterior_instrumentation" not in found
    assert "posterior_arthrodesis" not in found
    assert found["discectomy"].facts == {"adjacent": [], "separate": ["L4-L5"]}


def test_not_separate_and_no_reason():
    text = ("PROCEDURE: Left lateral extracavitary complete L2 corpectomy with pedicle screws at L1 and L3.\n"
            "DESCRIPTION: The entire L2 vertebral body was resected. The cauda equina was decompressed.\n")
    found = detect_text(text)
    inst = found["posterior_instrumentation"]
    assert (inst.separate_step, inst.reason_stated) == (False, False)
    assert codes(found)["posterior_instrumentation"] == [("22842", 1)]   # L1 to L3: 3 segments


def test_device_without_corpectomy_is_disc_space():
    text = "PROCEDURE: L4-L5 interbody cage packed with allograft.\n"
    found = detect_text(text)
    assert codes(found)["device"] == [("22853", 1)]
    assert found["device"].facts == {"in_corpectomy_defect": False}


def test_to_dict_has_no_note_text():
    found = detect_file(ROOT / "sample_notes" / "01_exemplary_63102.txt")
    d = found["device"].to_dict()
    assert set(d) == {"id", "name", "family", "codes", "separate_step", "reason_stated", "needs_reason",
                      "levels", "detail", "facts", "evidence", "reason_evidence"}
    assert set(d["evidence"][0]) == {"line", "start", "end"}


def test_bad_code_rule_is_a_pattern_error(tmp_path):
    (tmp_path / "companions.yml").write_text(
        "procedures:\n  - id: odd\n    name: odd\n    family: graft\n    regex: 'odd'\n    code_rule: guess\n")
    patterns.set_extra_dirs([tmp_path])
    try:
        with pytest.raises(PatternError, match=r"companions.yml:2: code_rule must be one of"):
            companions.procedures()
    finally:
        patterns.set_extra_dirs([])
