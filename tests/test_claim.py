"""Claim review (spec "Claim review"): parsing, every claim rule firing and not firing,
diagnoses against the official tabular, the supported code set and the claims CSV."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from unittest import mock

import pytest
from typer.testing import CliRunner

from opnote_audit import claim as claim_mod
from opnote_audit import icd
from opnote_audit.audit import audit_text
from opnote_audit.claim import ClaimInput, ClaimLine, find_claim, load_claims_csv, parse_cpt, unmatched_claims
from opnote_audit.errors import UsageError
from opnote_audit.readers import read_note

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_notes"
FIX = ROOT / "tests" / "fixtures" / "claims"
NOTES = {
    "single": SAMPLES / "01_exemplary_63102.txt",
    "multi": SAMPLES / "04_multilevel_63103.txt",
    "cosurg": SAMPLES / "05_cosurgeons_distinct.txt",
    "tl": ROOT / "tests" / "corpus" / "notes" / "c02_thoracolumbar_t12_l1.txt",
    "thoracic": FIX / "thoracic_t10.txt",
    "generic": FIX / "generic_approach_l2.txt",
    "noreason": FIX / "cosurgeons_no_reason.txt",
    "mixed": FIX / "companions_mixed_l2.txt",
}


@lru_cache(maxsize=None)
def context(name: str, modifier62: bool = False):
    """(analysis, decisions, code, suggested) of a note, captured from audit_text once."""
    seen = {}

    def spy(an, decisions, claim, code, suggested):
        seen["args"] = (an, decisions, code, suggested)
        return claim_mod.ClaimReview([], {})

    text = read_note(NOTES[name]).text
    probe = ClaimInput([ClaimLine("63102", ("62",) if modifier62 else ())])
    with mock.patch.object(claim_mod, "review", spy):
        audit_text(text, claim=probe)
    return seen["args"]


def run(name: str, cpt=(), icd_codes=(), modifier62: bool = False) -> claim_mod.ClaimReview:
    an, decisions, code, suggested = context(name, modifier62)
    return claim_mod.review(an, decisions, ClaimInput.parse(cpt, icd_codes), code, suggested)


def rule_ids(review: claim_mod.ClaimReview) -> list[str]:
    return [f.rule for f in review.findings]


# ------------------------------------------------------------------------------ parsing

@pytest.mark.parametrize("raw, expected", [
    ("63102", ClaimLine("63102", (), 1)),
    ("63103x2", ClaimLine("63103", (), 2)),
    ("63103X2", ClaimLine("63103", (), 2)),
    ("22558-51", ClaimLine("22558", ("51",), 1)),
    ("63102-62", ClaimLine("63102", ("62",), 1)),
    (" 63102-62-59 x3 ", ClaimLine("63102", ("62", "59"), 3)),
])
def test_parse_cpt(raw, expected):
    assert parse_cpt(raw) == expected


@pytest.mark.parametrize("raw, message", [
    ("6310", "malformed --cpt '6310': expected CODE[-MOD...][xUNITS], e.g. 63103x2, 22558-51, 63102-62"),
    ("63l02", "malformed --cpt '63l02': expected CODE[-MOD...][xUNITS], e.g. 63103x2, 22558-51, 63102-62"),
    ("63102-5", "malformed --cpt '63102-5': expected CODE[-MOD...][xUNITS], e.g. 63103x2, 22558-51, 63102-62"),
    ("63103x0", "malformed --cpt '63103x0': units must be 1 to 99"),
    ("63103x100", "malformed --cpt '63103x100': units must be 1 to 99"),
])
def test_parse_cpt_errors(raw, message):
    with pytest.raises(UsageError) as exc:
        parse_cpt(raw)
    assert str(exc.value) == message


@pytest.mark.parametrize("raw, expected", [("m8458xa", "M84.58XA"), ("C79.51", "C79.51"), ("S32001A", "S32.001A"),
                                           ("M54", "M54")])
def test_icd_normalize(raw, expected):
    assert icd.normalize(raw) == expected


@pytest.mark.parametrize("raw", ["M5", "12.3", "M54.", "M54.5XXAA", "M5-4"])
def test_icd_normalize_errors(raw):
    with pytest.raises(UsageError, match=r"^malformed --icd '.*': expected an ICD-10-CM code such as M84.58XA or C79.51$"):
        icd.normalize(raw)


def test_claim_input_modifier62_and_units():
    c = ClaimInput.parse(["63102-62", "63103", "63103"], ["c79.51", "C79.51"])
    assert c.modifier62 is True
    assert c.billed() == {"63102": 1, "63103": 2}
    assert c.diagnoses == ["C79.51"]
    assert ClaimInput.parse(["22558-62"]).modifier62 is False   # 62 only counts on the corpectomy codes


def test_cli_malformed_cpt_exit_2():
    from opnote_audit import cli

    cli._register()
    result = CliRunner().invoke(cli.app, ["check", str(NOTES["single"]), "--cpt", "63l02"])
    assert result.exit_code == 2
    assert result.output == ("opnote-audit: error: malformed --cpt '63l02': expected CODE[-MOD...][xUNITS], "
                             "e.g. 63103x2, 22558-51, 63102-62\n")


# ------------------------------------------------------------------------------ corpectomy rules

def test_clean_claim_has_no_claim_errors():
    r = run("single", ["63102", "22612", "22614x3", "22842", "22854", "20930", "20936"])
    assert rule_ids(r) == ["companion-graft-bundled", "companion-graft-bundled"]
    assert r.data["differences"] == []


def test_addon_without_primary():
    assert rule_ids(run("multi", ["63103"]))[:1] == ["claim-addon-without-primary"]
    assert "claim-addon-without-primary" not in rule_ids(run("multi", ["63102", "63103"]))


def test_primary_units():
    r = run("multi", ["63102x2"])
    assert "claim-primary-units" in rule_ids(r)
    assert "claim-addon-units" not in rule_ids(r)       # 63102 x2 for two segments: one clear error
    assert "claim-primary-units" not in rule_ids(run("multi", ["63102", "63103"]))


def test_addon_units():
    r = run("multi", ["63102"])
    f = next(f for f in r.findings if f.rule == "claim-addon-units")
    assert f.message == "63103 is billed x0 but the note documents 2 resected segments (L1, L2): 63103 x1."
    assert "claim-addon-units" in rule_ids(run("single", ["63102", "63103"]))
    assert "claim-addon-units" not in rule_ids(run("multi", ["63102", "63103"]))


def test_two_primaries():
    assert "claim-two-primaries" in rule_ids(run("tl", ["63101", "63102"]))
    assert "claim-two-primaries" not in rule_ids(run("tl", ["63102", "63103"]))


def test_region_mismatch():
    r = run("thoracic", ["63102"])
    f = next(f for f in r.findings if f.rule == "claim-region-mismatch")
    assert f.message == "63102 is a lumbar code but the note documents resection of T10 only."
    assert "claim-region-mismatch" not in rule_ids(run("thoracic", ["63101"]))
    assert "claim-region-mismatch" in rule_ids(run("single", ["63101"]))
    # thoracolumbar: either primary code has a resected segment in its region
    assert "claim-region-mismatch" not in rule_ids(run("tl", ["63101", "63103"]))


def test_approach_unsupported():
    r = run("generic", ["63102"])
    f = next(f for f in r.findings if f.rule == "claim-approach-unsupported")
    assert f.message == ("The billed 63102 requires the lateral extracavitary approach but the note's approach is "
                         "insufficient ('posterior').")
    assert "claim-approach-unsupported" not in rule_ids(run("single", ["63102"]))


def test_modifier62_roles_and_necessity():
    r = run("noreason", ["63102-62"], modifier62=True)
    assert {"claim-cosurgeon-roles", "claim-cosurgeon-necessity"} <= set(rule_ids(r))
    ok = run("cosurg", ["63102-62"], modifier62=True)
    assert not {"claim-cosurgeon-roles", "claim-cosurgeon-necessity"} & set(rule_ids(ok))
    # no modifier 62 billed: no co-surgery claim rule
    assert not {"claim-cosurgeon-roles", "claim-cosurgeon-necessity"} & set(rule_ids(run("noreason", ["63102"])))


def test_modifier62_through_audit_text_sets_cosurgery():
    text = read_note(NOTES["single"]).text
    result = audit_text(text, claim=ClaimInput.parse(["63102-62"]))
    assert result.elements["co_surgeon"].status == "missing"
    assert "claim-cosurgeon-roles" in [f.rule for f in result.findings]
    data = result.to_dict()
    assert data["claim"]["modifier62"] is True
    assert {f["element"] for f in data["findings"] if f["rule"].startswith(("claim-", "companion-"))} <= {"claim", "companion"}
    assert data["schema_version"] == 1 and "suggested_codes" in data


def test_team_surgery():
    assert "claim-team-surgery" in rule_ids(run("single", ["63102-66"]))
    assert "claim-team-surgery" not in rule_ids(run("single", ["63102"]))


def test_modifier51_on_addon():
    r = run("multi", ["63102", "63103-51", "22558-51"])
    assert [f.message for f in r.findings if f.rule == "claim-modifier51-addon"] == [
        "Modifier 51 is billed on 63103, an add-on code exempt from modifier 51."]


# ------------------------------------------------------------------------------ companion rules

def test_companion_undocumented_and_unbilled():
    r = run("single", ["63102", "69990", "22854"])
    msgs = {f.rule: f for f in r.findings}
    assert msgs["companion-undocumented"].message.startswith("69990 is billed but the note does not document it")
    unbilled = [f.message for f in r.findings if f.rule == "companion-unbilled"]
    assert "The note documents posterior instrumentation (22842) but the claim does not bill it: possible missed charge." in unbilled
    assert len(unbilled) == 4          # fusion, instrumentation, allograft, local autograft
    assert "companion-undocumented" not in rule_ids(run("cosurg", ["63102", "69990"]))


def test_companion_code_differs():
    r = run("multi", ["63102", "63103", "22842"])
    f = next(f for f in r.findings if f.rule == "companion-code-differs")
    assert f.message == "22842 is billed but the note supports 22843 (7 vertebral segments)."
    assert "companion-code-differs" not in rule_ids(run("multi", ["63102", "63103", "22843"]))


def test_discectomy_included():
    r = run("single", ["63102", "63056"])
    f = next(f for f in r.findings if f.rule == "companion-discectomy-included")
    assert "(L1-L2, L2-L3)" in f.message
    # a discectomy at another interspace (L4-L5) may be billed
    assert "companion-discectomy-included" not in rule_ids(run("mixed", ["63102", "63030"]))


def test_22845_with_22854():
    assert "companion-22845-with-22854" in rule_ids(run("multi", ["63102", "63103", "22854", "22845"]))
    # a separate lateral plate is documented: 22845 may go with the device code
    ok = rule_ids(run("mixed", ["63102", "22859", "22845"]))
    assert "companion-22845-with-22854" not in ok and "companion-undocumented" not in ok


def test_22853_in_corpectomy_defect():
    r = run("single", ["63102", "22853x2"])
    f = next(f for f in r.findings if f.rule == "companion-22853-in-corpectomy")
    assert "that is 22854, once per contiguous defect" in f.message
    assert "companion-22853-in-corpectomy" not in rule_ids(run("single", ["63102", "22854"]))


def test_the_22854_conflict_covers_every_anterior_instrumentation_code():
    # the conflict is data on each code (cpt_claim.yml), not a test of "22845" in Python
    for code in ("22846", "22847"):
        assert "companion-22845-with-22854" in rule_ids(run("multi", ["63102", "63103", "22854", code]))


@pytest.mark.parametrize("entry, message", [
    ("{rule: no-such-rule, device_placed: in_corpectomy_defect}", "cpt_claim.yml:4: 22853: unknown rule 'no-such-rule'"),
    ("{rule: companion-22853-in-corpectomy, device_placed: in_corpectomy_defect, billed_with: '22854'}",
     "cpt_claim.yml:4: 22853: a conflict needs exactly one of billed_with, device_placed"),
    ("{rule: companion-22853-in-corpectomy, when: always}",
     "cpt_claim.yml:4: unknown key(s) when; allowed: billed_with, device_placed, rule"),
])
def test_a_broken_conflict_entry_is_a_pattern_error(tmp_path, entry, message):
    from opnote_audit import patterns
    from opnote_audit.errors import PatternError

    (tmp_path / "cpt_claim.yml").write_text(f'codes:\n  "22853":\n    conflicts:\n      - {entry}\n',
                                            encoding="utf-8")
    patterns.set_extra_dirs([tmp_path])
    try:
        with pytest.raises(PatternError) as info:
            run("single", ["63102", "22853"])
    finally:
        patterns.set_extra_dirs([])
    assert message in str(info.value)


def test_graft_bundled_info():
    r = run("single", ["63102", "20930"])
    assert [f.severity for f in r.findings if f.rule == "companion-graft-bundled"] == ["info"]
    assert "companion-graft-bundled" not in rule_ids(run("mixed", ["63102", "20931"]))


def test_reason_and_separate_step_rules(tmp_path):
    text = ("PROCEDURE: Left lateral extracavitary complete L2 corpectomy with pedicle screws at L1 and L3.\n"
            "DESCRIPTION: The entire L2 vertebral body was resected. The cauda equina was decompressed.\n")
    result = audit_text(text, claim=ClaimInput.parse(["63102", "22842"]))
    ids = [f.rule for f in result.findings]
    assert "companion-reason-unstated" in ids and "companion-not-separate" in ids
    assert not {"companion-reason-unstated", "companion-not-separate"} & set(rule_ids(run("single", ["63102", "22842"])))


# ------------------------------------------------------------------------------ diagnoses

def test_diagnoses_valid_billable_and_description():
    r = run("single", ["63102"], ["C79.51", "M84.58XA"])
    assert r.data["diagnoses"][0] == {"code": "C79.51", "valid": True, "billable": True,
                                      "description": "Secondary malignant neoplasm of bone",
                                      "category": ["tumor"], "family": "secondary malignant neoplasm of bone"}
    assert r.data["diagnoses"][1]["category"] == ["fracture", "tumor"]
    assert not [x for x in rule_ids(r) if x.startswith("claim-")]


def test_diagnosis_invalid_and_not_billable():
    r = run("single", ["63102"], ["S32.0", "M99.99X", "C79.51"])
    msgs = {f.rule: f.message for f in r.findings}
    assert msgs["claim-icd-not-billable"] == ("S32.0 (Fracture of lumbar vertebra) is a category, not a billable code: "
                                              "it needs more characters.")
    assert msgs["claim-icd-invalid"] == "M99.99X is not a code of the ICD-10-CM tabular."


def test_symptom_only_diagnoses():
    r = run("single", ["63102"], ["M54.50", "M54.16"])
    assert "claim-dx-symptom-only" in rule_ids(r)
    assert "claim-dx-symptom-only" not in rule_ids(run("single", ["63102"], ["M54.16", "C79.51"]))


def test_diagnosis_pathology_mismatch():
    r = run("single", ["63102"], ["S32.001A"])          # fracture code, tumor documented
    f = next(f for f in r.findings if f.rule == "claim-dx-pathology-mismatch")
    assert (f.severity, f.message) == ("warning", "S32.001A is a fracture code but the note documents tumor.")
    assert "claim-dx-pathology-mismatch" not in rule_ids(run("single", ["63102"], ["C79.51"]))
    assert "claim-dx-pathology-mismatch" not in rule_ids(run("multi", ["63102", "63103"], ["M84.58XA"]))


# ------------------------------------------------------------------------------ supported code sets

def supported(name: str, modifier62: bool = False) -> list[tuple[str, int]]:
    return [(s["code"], s["units"]) for s in run(name, ["63102"], modifier62=modifier62).data["supported"]]


def test_supported_single_level():
    assert supported("single") == [("63102", 1), ("22612", 1), ("22614", 3), ("22842", 1), ("22854", 1),
                                   ("20930", 1), ("20936", 1)]


def test_supported_multilevel():
    assert supported("multi") == [("63102", 1), ("63103", 1), ("22612", 1), ("22614", 5), ("22843", 1),
                                  ("22854", 1), ("20930", 1)]


def test_supported_thoracolumbar():
    assert supported("tl") == [("63102", 1), ("63103", 1), ("22612", 1), ("22614", 4), ("22842", 1),
                               ("22854", 1), ("20930", 1)]


def test_supported_cosurgeons():
    assert supported("cosurg", modifier62=True) == [("63102", 1), ("22612", 1), ("22614", 3), ("22842", 1),
                                                    ("22854", 1), ("20930", 1), ("69990", 1)]


def test_differences_and_rvu():
    r = run("multi", ["63102x2", "22845", "22854"])
    diffs = {d["code"]: d for d in r.data["differences"]}
    assert diffs["63102"] == {"code": "63102", "kind": "units", "billed": 2, "supported": 1, "rvu_difference": -65.09}
    assert diffs["22845"]["kind"] == "extra" and diffs["22845"]["rvu_difference"] is None
    assert diffs["63103"]["kind"] == "missing"
    assert r.data["rvu"]["billed_total_rvu"] == 130.18
    assert r.data["rvu"]["difference"] == -65.09
    assert r.data["rvu"]["source"] == "CMS Physician Fee Schedule, RVU26A (January 2026)"


def test_unknown_code_is_not_reviewed():
    r = run("single", ["63102", "99213"])
    assert r.data["not_reviewed"] == ["99213"]
    assert "99213" not in {d["code"] for d in r.data["differences"]}


def test_json_and_text_report_show_the_claim():
    from opnote_audit.report import RenderOptions, render

    result = audit_text(read_note(NOTES["multi"]).text, file="04.txt",
                        claim=ClaimInput.parse(["63102x2", "22845", "22854"], ["M54.5"]))
    data = json.loads(render(result, "json"))
    assert set(data["claim"]) == {"billed", "diagnoses", "companions", "supported", "differences", "rvu",
                                  "not_reviewed", "modifier62"}
    assert data["claim"]["billed"][0] == {"code": "63102", "modifiers": [], "units": 2}
    text = render(result, "text", RenderOptions(color=False, width=100))
    assert "\nClaim\n" in text and "Billed: 63102 x2, 22845, 22854" in text
    assert "Low back pain" in text


def test_plain_audit_has_no_claim_key():
    result = audit_text("PROCEDURE: Lateral extracavitary L2 corpectomy.")
    assert result.claim is None and "claim" not in result.to_dict()


# ------------------------------------------------------------------------------ claims CSV

def test_claims_csv_matched(monkeypatch):
    monkeypatch.chdir(ROOT)
    claims = load_claims_csv(FIX / "claims_ok.csv")
    assert list(claims) == ["sample_notes/01_exemplary_63102.txt", "04_multilevel_63103.txt"]
    first = find_claim(claims, "sample_notes/01_exemplary_63102.txt")
    assert first.billed() == {"63102": 1, "22854": 1, "20930": 1} and first.diagnoses == ["C79.51"]
    assert first.line == 2
    # matched by file name when only one row has it
    assert find_claim(claims, SAMPLES / "04_multilevel_63103.txt").diagnoses == ["C90.00", "M84.58XA"]
    assert find_claim(claims, SAMPLES / "05_cosurgeons_distinct.txt") is None


def test_claims_csv_unmatched(monkeypatch):
    monkeypatch.chdir(ROOT)
    claims = load_claims_csv(FIX / "claims_unmatched.csv")
    left = unmatched_claims(claims, ["sample_notes/01_exemplary_63102.txt"])
    assert [(c.file, c.line) for c in left] == [("notes/not_in_the_batch.txt", 3)]


@pytest.mark.parametrize("name, message", [
    ("claims_bad.csv", "claims_bad.csv:3: malformed --cpt '63l02': expected CODE[-MOD...][xUNITS], e.g. 63103x2, "
                       "22558-51, 63102-62 (and 1 more malformed row(s))"),
    ("claims_noheader.csv", "claims_noheader.csv:1: the header must name the columns file,cpt,icd (missing file, cpt, icd)"),
    ("claims_dup.csv", "claims_dup.csv:3: a.txt is listed twice (first on line 2)"),
])
def test_claims_csv_malformed(name, message):
    with pytest.raises(UsageError) as exc:
        load_claims_csv(FIX / name)
    assert str(exc.value).endswith(message)
    assert str(exc.value).startswith(str(FIX))


def test_claims_csv_missing_file(tmp_path):
    with pytest.raises(UsageError, match=r"cannot read the claims file \(FileNotFoundError\)"):
        load_claims_csv(tmp_path / "nope.csv")
