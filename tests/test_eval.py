"""``opnote-audit eval``: the figures it prints, its options, and one clear error per bad input.

The gold files here are written in tmp_path from the label of the exemplary sample note
(01_exemplary_63102.txt, every element documented), sometimes with a deliberately wrong label
so that the report has a known disagreement to show.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opnote_audit.cli import _register, app
from opnote_audit.errors import InputError
from opnote_audit.evaluate import default_notes_dir, evaluate, load_gold

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_notes"
NOTE = "01_exemplary_63102.txt"
NOTE2 = "02_generic_approach.txt"

_register()
runner = CliRunner()


def label(name: str) -> dict:
    for line in (SAMPLES / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        if obj["file"] == name:
            return obj
    raise KeyError(name)


def wrong_approach() -> dict:
    """The exemplary note labelled as if its approach were only generic (it is not)."""
    obj = label(NOTE)
    obj["elements"]["approach"] = {"status": "insufficient", "value": "posterior approach"}
    return obj


def write_gold(folder: Path, *objs: dict | str, name: str = "gold.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs), encoding="utf-8")
    return path


def copy_notes(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copy(SAMPLES / n, folder / n)
    return folder


def run(*args: str):
    return runner.invoke(app, ["eval", *args])


def line_of(path: Path, phrase: str) -> int:
    """1-based line of the first line holding ``phrase`` (case-insensitive)."""
    for i, text in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if phrase in text.lower():
            return i
    raise AssertionError(phrase)


@pytest.fixture
def known(tmp_path: Path) -> Path:
    """Gold for two sample notes, the first with a wrong approach label; notes in ./notes."""
    copy_notes(tmp_path / "notes", NOTE, NOTE2)
    return write_gold(tmp_path, wrong_approach(), label(NOTE2))


# ---------------------------------------------------------------- figures

def test_json_figures_are_exact(known: Path) -> None:
    res = run(str(known), "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["notes"] == 2
    assert data["notes_dir"] == str(known.parent / "notes")
    assert (data["status_correct"], data["status_total"]) == (11, 12)
    assert data["status_accuracy"] == pytest.approx(11 / 12)
    assert data["false_documented"] == 1
    assert data["false_documented_notes"] == [{"file": NOTE, "element": "approach", "gold": "insufficient"}]
    approach = data["elements"]["approach"]
    assert approach["confusion"]["insufficient"]["documented"] == 1
    assert approach["confusion"]["insufficient"]["insufficient"] == 1     # note 02 is right
    assert (approach["documented_tp"], approach["documented_fp"], approach["documented_fn"]) == (0, 1, 0)
    assert approach["documented_precision"] == 0.0
    assert approach["documented_recall"] == 1.0
    assert approach["accuracy"] == 0.5
    assert data["elements"]["level"]["documented_f1"] == 1.0
    assert data["values"]["level"] == {"correct": 2, "total": 2, "accuracy": 1.0}
    assert data["values"]["segments"] == {"correct": 2, "total": 2, "accuracy": 1.0}


def test_json_disagreement_quotes_the_note_with_its_line(known: Path) -> None:
    data = json.loads(run(str(known), "-f", "json").stdout)
    assert len(data["disagreements"]) == 1
    d = data["disagreements"][0]
    assert (d["file"], d["element"], d["field"], d["gold"], d["got"]) == (NOTE, "approach", "status",
                                                                         "insufficient", "documented")
    ev = d["evidence"][0]
    note = known.parent / "notes" / NOTE
    text = note.read_text(encoding="utf-8")
    assert "lateral extracavitary" in ev["text"].lower()
    assert text[ev["start"]:ev["end"]] == ev["text"]
    assert ev["line"] == text[:ev["start"]].count("\n") + 1 == line_of(note, "lateral extracavitary")
    line = " ".join(text.split("\n")[ev["line"] - 1].split())
    ctx = ev["context"]
    assert ctx["before"] + ev["text"] + ctx["after"] in line
    assert ctx["before"].endswith("through a left ")


def test_text_report(known: Path) -> None:
    res = run(str(known))
    assert res.exit_code == 0
    out = res.stdout
    assert "Status accuracy: 11/12 (91.7%)" in out
    assert "False documented: 1" in out
    assert "Disagreements (1 in 1 notes)" in out
    assert "Approach status: gold insufficient, tool documented" in out
    n = line_of(known.parent / "notes" / NOTE, "lateral extracavitary")
    assert f'line {n}: "' in out and "lateral extracavitary" in out
    # per-element table row and the value table
    assert any(row.split()[:3] == ["Approach", "1/2", "(50.0%)"] for row in out.splitlines())
    assert any(row.split()[:4] == ["Levels", "(exact", "list)", "2/2"] for row in out.splitlines())


@pytest.mark.parametrize("width", [None, "100", "60"])
def test_text_fits_the_width(known: Path, width: str | None) -> None:
    args = [str(known)] + (["--width", width] if width else [])
    out = run(*args).stdout
    limit = int(width or 80)
    assert max(len(row) for row in out.splitlines()) <= limit
    assert "Status confusion" in out


def test_no_show_disagreements(known: Path) -> None:
    text = run(str(known), "--no-show-disagreements").stdout
    assert "Disagreements (" not in text and "Status accuracy: 11/12" in text
    data = json.loads(run(str(known), "-f", "json", "--no-show-disagreements").stdout)
    assert "disagreements" not in data and data["false_documented"] == 1


def test_no_evidence_leaves_note_text_out(known: Path) -> None:
    n = line_of(known.parent / "notes" / NOTE, "lateral extracavitary")
    text = run(str(known), "--no-evidence").stdout
    assert f"line(s) {n}" in text
    assert "through a left" not in text and f'line {n}: "' not in text    # no quoted note text
    data = json.loads(run(str(known), "-f", "json", "--no-evidence").stdout)
    ev = data["disagreements"][0]["evidence"][0]
    assert ev["text"] is None and "context" not in ev and ev["line"] == n


def test_all_agree(tmp_path: Path) -> None:
    copy_notes(tmp_path / "notes", NOTE)
    gold = write_gold(tmp_path, label(NOTE))
    out = run(str(gold)).stdout
    assert "Status accuracy: 6/6 (100.0%)" in out
    assert "None: every status and value matches the gold labels." in out


def test_output_file(known: Path, tmp_path: Path) -> None:
    target = tmp_path / "eval.json"
    res = run(str(known), "-f", "json", "-o", str(target))
    assert res.exit_code == 0 and res.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8"))["status_correct"] == 11


# ---------------------------------------------------------------- the notes folder

def test_notes_default_to_gold_folder_when_no_notes_subfolder(tmp_path: Path) -> None:
    copy_notes(tmp_path, NOTE)
    gold = write_gold(tmp_path, label(NOTE))
    assert default_notes_dir(gold) == tmp_path
    data = json.loads(run(str(gold), "-f", "json").stdout)
    assert data["notes_dir"] == str(tmp_path) and data["status_correct"] == 6


def test_notes_option_overrides(tmp_path: Path) -> None:
    copy_notes(tmp_path / "elsewhere", NOTE)
    (tmp_path / "notes").mkdir()          # exists, but --notes wins
    gold = write_gold(tmp_path, label(NOTE))
    data = json.loads(run(str(gold), "--notes", str(tmp_path / "elsewhere"), "-f", "json").stdout)
    assert data["notes_dir"] == str(tmp_path / "elsewhere") and data["status_correct"] == 6


def test_evaluate_api_uses_the_given_auditor(tmp_path: Path) -> None:
    copy_notes(tmp_path / "notes", NOTE)
    gold = write_gold(tmp_path, label(NOTE))
    calls = []

    def fake(path: Path, code: str, name: str, mod62: bool) -> dict:
        calls.append((path.name, code, name, mod62))
        els = {e: {"status": v["status"], "value": v["value"], "evidence": [], "reason": ""}
               for e, v in label(NOTE)["elements"].items()}
        els["pathology"]["value"] = [{"category": "tumor", "text": "x"}]
        return {"elements": els, "facts": {"segments": 1}}

    data = evaluate(gold, audit=fake)
    assert calls == [(NOTE, "63102", NOTE, False)]
    assert data["status_accuracy"] == 1.0 and data["values"]["pathology"]["correct"] == 1


# ---------------------------------------------------------------- errors: one line, exit 2

def error(res) -> str:
    assert res.exit_code == 2, (res.exit_code, res.output)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("opnote-audit: error: ")
    return lines[0].removeprefix("opnote-audit: error: ")


def bad_label(tmp_path: Path, edit) -> str:
    copy_notes(tmp_path / "notes", NOTE)
    obj = label(NOTE)
    edit(obj)
    gold = write_gold(tmp_path, obj)
    return error(run(str(gold)))


def test_gold_not_found(tmp_path: Path) -> None:
    assert error(run(str(tmp_path / "nope.jsonl"))) == f"{tmp_path / 'nope.jsonl'}: gold file not found"


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    gold = write_gold(tmp_path, label(NOTE), "{not json")
    assert error(run(str(gold))).startswith(f"{gold}:2: invalid JSON (")


def test_not_an_object(tmp_path: Path) -> None:
    gold = write_gold(tmp_path, "[1, 2]")
    assert error(run(str(gold))) == f"{gold}:1: each line must be a JSON object"


def test_empty_gold(tmp_path: Path) -> None:
    gold = write_gold(tmp_path, "")
    assert error(run(str(gold))) == f"{gold}: gold file has no labels"


@pytest.mark.parametrize("edit, message", [
    (lambda o: o.pop("elements"), "missing key 'elements'"),
    (lambda o: o.pop("file"), "missing key 'file'"),
    (lambda o: o["elements"].pop("extent"), "missing element 'extent' or its 'status'"),
    (lambda o: o["elements"]["level"].pop("status"), "missing element 'level' or its 'status'"),
    (lambda o: o["elements"].update(approach={"status": "present"}),
     "element 'approach' has unknown status 'present' (choose one of documented, insufficient, missing, "
     "conflict, not_applicable)"),
    (lambda o: o["elements"].update(approach={"status": "not_applicable"}),
     "element 'approach' cannot be not_applicable (only co_surgeon)"),
    (lambda o: o["elements"].update(laterality={"status": "missing"}), "unknown element(s) laterality"),
    (lambda o: o["elements"]["level"].update(value=["L2", "lumbar two"]),
     "element 'level' value has a level that is not like 'L2' ('lumbar two')"),
    (lambda o: o["elements"]["level"].update(value="L2"), "element 'level' value must be a list"),
    (lambda o: o["elements"]["extent"].update(value="total"),
     "element 'extent' value must be 'partial', 'complete' or null"),
    (lambda o: o["elements"]["pathology"].update(value=["cancer"]),
     "element 'pathology' value has unknown category 'cancer' (choose one of tumor, fracture, infection, "
     "destructive)"),
    (lambda o: o.update(segments=-1), "'segments' must be a whole number of at least 0"),
    (lambda o: o.update(segments="one"), "'segments' must be a whole number of at least 0"),
    (lambda o: o.update(code="6310"), "'code' must be a five-digit CPT code"),
    (lambda o: o.update(code="63103"), "code 63103 cannot be audited (choose one of 63101, 63102)"),
    (lambda o: o.update(modifier62="yes"), "'modifier62' must be true or false"),
    (lambda o: o.update(elements=[]), "'elements' must be an object"),
])
def test_bad_labels(tmp_path: Path, edit, message: str) -> None:
    assert bad_label(tmp_path, edit) == f"{tmp_path / 'gold.jsonl'}:1: {message}"


def test_duplicate_note(tmp_path: Path) -> None:
    copy_notes(tmp_path / "notes", NOTE)
    gold = write_gold(tmp_path, label(NOTE), "", label(NOTE))
    assert error(run(str(gold))) == f"{gold}:3: note '{NOTE}' is already labelled on line 1"


def test_unknown_note_file(tmp_path: Path) -> None:
    copy_notes(tmp_path / "notes", NOTE)
    other = label(NOTE2)
    gold = write_gold(tmp_path, label(NOTE), other)
    assert error(run(str(gold))) == f"{gold}:2: note file '{NOTE2}' not found in {tmp_path / 'notes'}"


def test_notes_folder_missing(known: Path, tmp_path: Path) -> None:
    assert error(run(str(known), "--notes", str(tmp_path / "absent"))) == \
        f"--notes {tmp_path / 'absent'}: folder not found"


def test_unknown_format_is_a_usage_error(known: Path) -> None:
    res = run(str(known), "--format", "html")
    assert res.exit_code == 2 and "html" in res.stderr


def test_narrow_width_refused(known: Path) -> None:
    assert error(run(str(known), "--width", "20")) == "--width must be at least 40"


def test_load_gold_of_the_project_files() -> None:
    """The shipped gold files are valid and label distinct notes."""
    for path, n in [(ROOT / "tests" / "corpus" / "gold.jsonl", 45), (SAMPLES / "labels.jsonl", 12)]:
        gold = load_gold(path)
        assert len(gold) == n
        assert len({g.file for g in gold}) == n


def test_unreadable_note_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "bad.txt").write_bytes(b"\x00\x01\x02 secret words \x00" * 50)
    obj = label(NOTE)
    obj["file"] = "bad.txt"
    gold = write_gold(tmp_path, obj)
    message = error(run(str(gold)))
    assert "bad.txt" in message and "secret" not in message
