"""`scan` with a claims CSV and a configuration file: the same review and rules as `check`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from opnote_audit.cli import _register, app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
_register()


def _notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    for name in ("02_generic_approach.txt", "04_multilevel_63103.txt"):
        shutil.copy(ROOT / "sample_notes" / name, folder / name)
    return folder


def _records(out: str) -> dict[str, dict]:
    return {r["file"]: r for r in map(json.loads, out.splitlines())}


def test_claims_csv_reviews_matched_notes_and_warns_about_unmatched_rows(tmp_path):
    folder = _notes(tmp_path)
    claims = tmp_path / "claims.csv"
    claims.write_text("file,cpt,icd\n04_multilevel_63103.txt,63102x2;22845;22854,M54.5\nghost.txt,63102,\n")
    res = runner.invoke(app, ["scan", str(folder), "-f", "jsonl", "--claims", str(claims)])
    recs = _records(res.stdout)
    rules = [f["rule"] for f in recs["04_multilevel_63103.txt"]["findings"]]
    assert "claim-primary-units" in rules and "companion-22845-with-22854" in rules
    assert "claim-dx-symptom-only" in rules
    assert "claim" in recs["04_multilevel_63103.txt"]
    assert "claim" not in recs["02_generic_approach.txt"]
    assert f"{claims}:3: no note found for claim row 'ghost.txt'" in res.stderr
    assert res.exit_code == 1


def test_malformed_claims_csv_is_a_usage_error(tmp_path):
    folder = _notes(tmp_path)
    claims = tmp_path / "claims.csv"
    claims.write_text("file,cpt,icd\n04_multilevel_63103.txt,63l02,\n")
    res = runner.invoke(app, ["scan", str(folder), "--claims", str(claims)])
    assert res.exit_code == 2
    assert f"{claims}:2:" in res.stderr


def test_config_ignore_and_severity_apply_to_every_record(tmp_path, monkeypatch):
    folder = _notes(tmp_path)
    (tmp_path / ".opnote-audit.toml").write_text(
        'ignore = ["level-additional-segments"]\n[severity]\n"approach-generic" = "warning"\n')
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["scan", str(folder), "-f", "jsonl"])
    recs = _records(res.stdout)
    generic = [f for f in recs["02_generic_approach.txt"]["findings"] if f["rule"] == "approach-generic"]
    assert [f["severity"] for f in generic] == ["warning"]
    assert all(f["rule"] != "level-additional-segments" for f in recs["04_multilevel_63103.txt"]["findings"])
    assert res.exit_code == 0  # the only error left was made a warning


def test_config_format_applies_to_scan(tmp_path, monkeypatch):
    folder = _notes(tmp_path)
    (tmp_path / ".opnote-audit.toml").write_text('format = "csv"\n')
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["scan", str(folder)])
    assert res.stdout.startswith("file,verdict,error,")
