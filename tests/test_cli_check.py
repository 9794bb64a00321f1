"""`opnote-audit check`: exit codes, formats and one-line errors, run as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_notes"


def run(*args, stdin: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, NO_COLOR="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "opnote_audit", *args], input=stdin, capture_output=True,
                          env=full_env, cwd=ROOT, timeout=120)


def test_supported_note_exits_0_and_says_so():
    p = run("check", str(SAMPLES / "01_exemplary_63102.txt"))
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    assert "SUPPORTS 63102" in out
    assert "\x1b[" not in out  # no colour when piped


def test_gap_exits_1_and_names_the_rule_with_advice():
    p = run("check", str(SAMPLES / "02_generic_approach.txt"))
    assert p.returncode == 1
    out = p.stdout.decode()
    assert "approach-generic" in out
    assert "Fix: Name the approach: 'lateral extracavitary'" in out


def test_fail_on_never_exits_0_and_fail_on_warning_counts_warnings():
    assert run("check", str(SAMPLES / "02_generic_approach.txt"), "--fail-on", "never").returncode == 0
    # sample 05 has only an info finding and a warning-free verdict? it has no errors
    p = run("check", str(SAMPLES / "05_cosurgeons_distinct.txt"), "--format", "json")
    data = json.loads(p.stdout)
    assert data["summary"]["errors"] == 0
    assert p.returncode == 0


def test_json_format_is_the_contract():
    p = run("check", str(SAMPLES / "04_multilevel_63103.txt"), "--format", "json")
    data = json.loads(p.stdout)
    assert data["schema_version"] == 1
    assert data["code"] == "63102"
    assert data["elements"]["level"]["value"] == ["L1", "L2"]
    assert data["suggested_codes"] == [{"code": "63102", "units": 1}, {"code": "63103", "units": 1}]


def test_code_63101_on_thoracic_note():
    p = run("check", str(SAMPLES / "03_thoracic_only_63101.txt"), "--code", "63101", "--format", "json")
    data = json.loads(p.stdout)
    assert data["elements"]["level"]["status"] == "documented"
    assert data["suggested_codes"] == [{"code": "63101", "units": 1}]


def test_no_evidence_removes_note_text():
    p = run("check", str(SAMPLES / "01_exemplary_63102.txt"), "--format", "json", "--no-evidence")
    data = json.loads(p.stdout)
    texts = [e["text"] for el in data["elements"].values() for e in el["evidence"]]
    assert texts and all(t is None for t in texts)
    assert all(v["text"] is None for v in data["elements"]["pathology"]["value"])
    assert "renal cell" not in p.stdout.decode().lower()


def test_stdin():
    note = (SAMPLES / "01_exemplary_63102.txt").read_bytes()
    p = run("check", "-", "--format", "json", stdin=note)
    assert p.returncode == 0
    assert json.loads(p.stdout)["file"] == "<stdin>"


@pytest.mark.parametrize("args,message", [
    (["check", "no/such/note.txt"], "opnote-audit: error: no/such/note.txt: no such file"),
    (["check", "sample_notes"], "opnote-audit: error: sample_notes: is a directory, not a note file"),
    (["check", "sample_notes/01_exemplary_63102.txt", "--code", "63999"],
     "opnote-audit: error: unknown --code 63999: choose one of 63101, 63102"),
    (["check", "sample_notes/01_exemplary_63102.txt", "--format", "yaml"],
     "opnote-audit: error: unknown format 'yaml': choose one of text, json, html"),
])
def test_errors_are_one_line_exit_2(args, message):
    p = run(*args)
    assert p.returncode == 2
    err = p.stderr.decode()
    assert err.strip() == message
    assert "Traceback" not in err


def test_empty_note_is_an_input_error(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    p = run("check", str(empty))
    assert p.returncode == 2
    assert p.stderr.decode().strip().endswith("empty file (0 bytes)")


def test_output_file_and_never_the_note(tmp_path):
    out = tmp_path / "report.json"
    p = run("check", str(SAMPLES / "01_exemplary_63102.txt"), "-f", "json", "-o", str(out))
    assert p.returncode == 0 and p.stdout == b""
    assert json.loads(out.read_text())["code"] == "63102"
    note = tmp_path / "n.txt"
    note.write_text((SAMPLES / "01_exemplary_63102.txt").read_text())
    p = run("check", str(note), "-o", str(note))
    assert p.returncode == 2
    assert "must not be the note itself" in p.stderr.decode()


def test_broken_pattern_file_names_file_and_line(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "approach.yml").write_text("terms:\n  - label: named\n    phrases: [unclosed\n")
    p = run("check", str(SAMPLES / "01_exemplary_63102.txt"), "--patterns", str(pack))
    assert p.returncode == 2
    err = p.stderr.decode().strip()
    assert err.startswith("opnote-audit: error: ") and "approach.yml:" in err and "invalid YAML" in err
    assert "\n" not in err


def test_version_and_help():
    p = run("--version")
    assert p.returncode == 0 and p.stdout.decode().startswith("opnote-audit ")
    assert run("--help").returncode == 0
