"""scan: a folder of mixed notes -> one record per file, in order, the same for any --workers.

Fixture notes are written here (invented text) in every supported format, next to
files that cannot be read, so each record, error reason and exit code is exact.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opnote_audit.cli import _register, app

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "mtsamples-spine"

SUPPORTS = """PREOPERATIVE DIAGNOSIS: Metastatic lung adenocarcinoma destroying the L3 vertebral body.
PROCEDURE: Complete L3 corpectomy through a right lateral extracavitary approach, with decompression of the cauda equina and the right L3 nerve root.
INDICATIONS: MRI showed a destructive mass in the L3 body compressing the thecal sac. Pain score “8/10”, résumé of care reviewed.
DESCRIPTION: The patient was positioned prone. The right lateral extracavitary exposure was developed. The entire L3 vertebral body was removed. The cauda equina was decompressed and the right L3 nerve root was freed along its course.
"""

GENERIC_CP1252 = (
    "PREOPERATIVE DIAGNOSIS: L2 burst fracture with retropulsion seen on CT.\r\n"
    "PROCEDURE: Partial L2 corpectomy through a \u201cposterolateral approach\u201d \u2013 decompression of the thecal sac.\r\n"
    "DESCRIPTION: About half of the L2 vertebral body was removed and the thecal sac was decompressed.\r\n"
)

EXTENT_DOCX = [
    "PREOPERATIVE DIAGNOSIS: Pathologic fracture of L1 from multiple myeloma, seen on MRI.",
    "PROCEDURE: L1 corpectomy through a left lateral extracavitary approach.",
    "DESCRIPTION: A corpectomy was performed at L1 and the conus medullaris was decompressed.",
]

PDF_LINES = [
    "PREOPERATIVE DIAGNOSIS: Vertebral osteomyelitis of L4 on MRI.",
    "PROCEDURE: Complete L4 corpectomy via lateral extracavitary approach.",
    "The entire L4 vertebral body was removed and the thecal sac was decompressed.",
]

THORACIC_RTF = (
    r"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0"
    r"\par PREOPERATIVE DIAGNOSIS: Chordoma of the T11 vertebral body on CT."
    r"\par PROCEDURE: Complete T11 corpectomy through a lateral extracavitary approach."
    r"\par The entire T11 vertebral body was removed and the spinal cord was decompressed.}"
)


def make_folder(root: Path) -> Path:
    """The mixed folder: five readable notes, four broken files, a hidden file."""
    from docx import Document
    from fpdf import FPDF

    root.mkdir(parents=True, exist_ok=True)
    (root / "a_supports.txt").write_text(SUPPORTS, encoding="utf-8")
    (root / "b_generic.txt").write_bytes(GENERIC_CP1252.encode("cp1252"))
    document = Document()
    for line in EXTENT_DOCX:
        document.add_paragraph(line)
    (root / "sub").mkdir(exist_ok=True)
    document.save(str(root / "sub" / "c_extent.docx"))
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    for line in PDF_LINES:
        pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(root / "d_osteomyelitis.pdf"))
    (root / "e_thoracic.rtf").write_text(THORACIC_RTF, encoding="ascii")
    (root / "f_photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (root / "g_empty.txt").write_bytes(b"")
    scan = FPDF()
    scan.add_page()
    scan.rect(20, 20, 80, 120, style="F")
    scan.output(str(root / "h_scanned.pdf"))
    (root / ".hidden_note.txt").write_text(SUPPORTS, encoding="utf-8")
    (root / "i_image.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # not a note suffix: not picked up
    return root


# ------------------------------------------------------------------ helpers

EXPECTED = [
    ("a_supports.txt", "supports"),
    ("b_generic.txt", "gaps"),
    ("d_osteomyelitis.pdf", "supports"),
    ("e_thoracic.rtf", "gaps"),
    ("f_photo.txt", "error: binary file (PNG image)"),
    ("g_empty.txt", "error: empty file (0 bytes)"),
    ("h_scanned.pdf", "error: PDF has no text layer (a scanned image?); OCR it first"),
    ("sub/c_extent.docx", "gaps"),
]

_register()
runner = CliRunner()


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    return make_folder(tmp_path_factory.mktemp("scan") / "notes")


def scan(*args: str):
    return runner.invoke(app, ["scan", *map(str, args)], catch_exceptions=False)


def records_of(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def outcome(record: dict) -> tuple[str, str]:
    if "error" in record:
        return record["file"], f"error: {record['error']}"
    return record["file"], record["verdict"]


def write_notes(folder: Path, notes: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in notes.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


# ------------------------------------------------------------------ records


def test_mixed_folder_gives_one_record_per_file_in_order(mixed):
    result = scan(mixed, "--format", "jsonl")
    assert result.exit_code == 2
    records = records_of(result.stdout)
    assert [outcome(r) for r in records] == EXPECTED
    assert result.stderr == "opnote-audit: 3 files could not be read\n"
    by_file = {r["file"]: r for r in records}
    assert {name: by_file[name]["source"]["encoding"] for name in
            ("a_supports.txt", "b_generic.txt", "d_osteomyelitis.pdf", "e_thoracic.rtf", "sub/c_extent.docx")} == {
        "a_supports.txt": "utf-8", "b_generic.txt": "cp1252", "d_osteomyelitis.pdf": "pdf",
        "e_thoracic.rtf": "rtf", "sub/c_extent.docx": "docx"}
    assert by_file["f_photo.txt"] == {"schema_version": 1, "file": "f_photo.txt", "error": "binary file (PNG image)"}
    assert [by_file[n]["elements"]["approach"]["status"] for n in ("a_supports.txt", "b_generic.txt")] == [
        "documented", "insufficient"]
    assert by_file["e_thoracic.rtf"]["elements"]["level"]["status"] == "conflict"
    assert by_file["sub/c_extent.docx"]["elements"]["extent"]["status"] == "insufficient"


def test_jsonl_lines_are_the_check_contract_in_key_order(mixed):
    """Same audit as check (one code path): the record is check's JSON with the relative name."""
    lines = scan(mixed, "--format", "jsonl").stdout.splitlines()
    checked = runner.invoke(app, ["check", str(mixed / "b_generic.txt"), "--format", "json"])
    expected = json.loads(checked.stdout)
    expected["file"] = "b_generic.txt"
    assert lines[1] == json.dumps(expected, ensure_ascii=False)
    assert list(json.loads(lines[1])) == ["schema_version", "file", "code", "verdict", "elements", "findings",
                                          "suggested_codes", "summary", "facts", "source"]


def test_jsonl_keeps_non_ascii_as_written(tmp_path):
    notes = write_notes(tmp_path / "n", {"résumé_note.txt": SUPPORTS})
    line = scan(notes, "-f", "jsonl").stdout
    assert line.startswith('{"schema_version": 1, "file": "résumé_note.txt", "code": "63102", ')
    assert line.endswith("}\n") and line.count("\n") == 1


def test_no_evidence_leaves_out_all_note_text(mixed):
    records = [r for r in records_of(scan(mixed, "-f", "jsonl", "--no-evidence").stdout) if "error" not in r]
    assert len(records) == 5
    quoted = [e["text"] for r in records for el in r["elements"].values() for e in el["evidence"]]
    quoted += [e["text"] for r in records for f in r["findings"] for e in f["evidence"]]
    quoted += [v["text"] for r in records for v in r["elements"]["pathology"]["value"]]
    assert quoted and set(quoted) == {None}


def test_hidden_and_non_note_files_are_not_scanned(mixed):
    files = [r["file"] for r in records_of(scan(mixed, "-f", "jsonl").stdout)]
    assert ".hidden_note.txt" not in files and "i_image.png" not in files


def test_names_are_as_given_when_several_paths(mixed, tmp_path):
    other = write_notes(tmp_path / "more", {"z.txt": SUPPORTS})
    result = scan(mixed / "a_supports.txt", other, tmp_path / "missing", "-f", "jsonl")
    assert [outcome(r) for r in records_of(result.stdout)] == [
        (f"{mixed.as_posix()}/a_supports.txt", "supports"),
        (f"{other.as_posix()}/z.txt", "supports"),
        (f"{(tmp_path / 'missing').as_posix()}", "error: no such file"),
    ]
    assert result.exit_code == 2


def test_glob_and_exclude(mixed):
    only_txt = scan(mixed, "-f", "jsonl", "--glob", "*.txt", "--exclude", "f_*")
    assert [r["file"] for r in records_of(only_txt.stdout)] == ["a_supports.txt", "b_generic.txt", "g_empty.txt"]


# ------------------------------------------------------------------ csv


CSV_HEADER = ("file,verdict,error,errors,warnings,infos,approach_status,level_status,pathology_status,"
              "extent_status,neural_elements_status,co_surgeon_status,level_value,segments,extent_value,"
              "suggested_codes,rules")


def test_csv_one_row_per_note(mixed, tmp_path):
    out = tmp_path / "report.csv"
    result = scan(mixed, "--format", "csv", "--output", out)
    assert result.exit_code == 2 and result.stdout == ""
    data = out.read_bytes()
    assert data.count(b"\r\n") == 9 and data.count(b"\n") == 9  # header + 8 rows, RFC 4180 line ends
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert ",".join(rows[0]) == CSV_HEADER
    table = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert [row[0] for row in rows[1:]] == [name for name, _ in EXPECTED]
    assert rows[1] == ["a_supports.txt", "supports", "", "0", "0", "0", "documented", "documented",
                       "documented", "documented", "documented", "not_applicable", "L3", "1", "complete",
                       "63102x1", ""]
    assert table["b_generic.txt"]["rules"] == "approach-generic"
    assert table["b_generic.txt"]["suggested_codes"] == ""
    assert table["e_thoracic.rtf"]["level_status"] == "conflict"
    assert table["e_thoracic.rtf"]["suggested_codes"] == "63101x1"
    assert table["sub/c_extent.docx"]["extent_value"] == ""
    assert table["sub/c_extent.docx"]["rules"] == "extent-unstated"
    assert rows[5] == ["f_photo.txt", "", "binary file (PNG image)"] + [""] * 14


def test_csv_multi_level_values_are_semicolon_joined(tmp_path):
    notes = write_notes(tmp_path / "n", {"two.txt": (REPO / "sample_notes" / "04_multilevel_63103.txt").read_text()})
    rows = list(csv.DictReader(io.StringIO(scan(notes, "-f", "csv").stdout, newline="")))
    assert (rows[0]["level_value"], rows[0]["segments"], rows[0]["suggested_codes"], rows[0]["rules"]) == (
        "L1;L2", "2", "63102x1;63103x1", "level-additional-segments")


# ------------------------------------------------------------------ table summary


SUMMARY = """\
Scanned 8 files for 63102: 2 support the code, 3 have gaps, 3 unreadable.
File                  Verdict      Err   Warn   Not documented
────────────────────────────────────────────────────────────────────────────────
a_supports.txt        supports       0      0   -
b_generic.txt         gaps           1      0   approach
d_osteomyelitis.pdf   supports       0      0   -
e_thoracic.rtf        gaps           1      0   level
f_photo.txt           unreadable     -      -   see below
g_empty.txt           unreadable     -      -   see below
h_scanned.pdf         unreadable     -      -   see below
sub/c_extent.docx     gaps           1      0   extent

Gaps over the 5 notes audited
  approach insufficient in 20% of notes (1 of 5)
  level conflict in 20% of notes (1 of 5)
  extent insufficient in 20% of notes (1 of 5)

Most frequent rules
Rule                    Severity   Notes   Share
────────────────────────────────────────────────
approach-generic        error          1     20%
extent-unstated         error          1     20%
level-region-conflict   error          1     20%

Notes with the most errors
File                Errors   Warnings   Not documented
──────────────────────────────────────────────────────
b_generic.txt            1          0   approach
e_thoracic.rtf           1          0   level
sub/c_extent.docx        1          0   extent

Could not be read (3)
File            Reason
──────────────────────────────────────────────────────────────────────
f_photo.txt     binary file (PNG image)
g_empty.txt     empty file (0 bytes)
h_scanned.pdf   PDF has no text layer (a scanned image?); OCR it first
"""


def test_table_summary_is_exact_and_fits_80_columns(mixed):
    result = scan(mixed)
    assert result.exit_code == 2
    assert result.stdout == SUMMARY
    assert "\x1b[" not in result.stdout


def test_summary_of_many_notes_fits_80_columns(tmp_path):
    long_name = "a_very_long_folder_name_for_notes/" + "x" * 50 + ".txt"
    (tmp_path / "n" / "a_very_long_folder_name_for_notes").mkdir(parents=True)
    (tmp_path / "n" / long_name).write_text(SUPPORTS, encoding="utf-8")
    write_notes(tmp_path / "n", {f"s{i:02d}.txt": p.read_text() for i, p in
                                 enumerate(sorted((REPO / "sample_notes").glob("*.txt")))})
    result = scan(tmp_path / "n")
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "Scanned 13 files for 63102: 4 support the code, 9 have gaps, 0 unreadable." in result.stdout
    assert "  pathology insufficient in 23% of notes (3 of 13)" in result.stdout
    assert result.stdout.replace("\n", "").count("x" * 25) == 1  # a long name folds, it is not cut


def test_summary_rates_and_rankings():
    from opnote_audit.report.summary import BatchSummary

    def record(name, statuses, rules):
        return {"file": name, "verdict": "gaps" if rules else "supports",
                "elements": {k: {"status": v} for k, v in statuses.items()},
                "findings": [{"rule": r, "severity": s} for r, s in rules],
                "summary": {"errors": sum(s == "error" for _, s in rules),
                            "warnings": sum(s == "warning" for _, s in rules), "info": 0}}

    summary = BatchSummary()
    summary.add(record("a", {"approach": "insufficient"}, [("approach-generic", "error"), ("x-warn", "warning")]))
    summary.add(record("b", {"approach": "insufficient", "extent": "missing"},
                       [("approach-generic", "error"), ("extent-missing", "error")]))
    summary.add(record("c", {"approach": "documented"}, []))
    summary.add({"schema_version": 1, "file": "d", "error": "empty file (0 bytes)"})
    assert summary.gap_rates() == [("approach", "insufficient", 2), ("extent", "missing", 1)]
    assert summary.top_rules() == [("approach-generic", "error", 2), ("extent-missing", "error", 1),
                                   ("x-warn", "warning", 1)]
    assert [r.file for r in summary.top_errors()] == ["b", "a"]
    assert [(r.file, r.reason) for r in summary.unreadable] == [("d", "empty file (0 bytes)")]
    assert "  approach insufficient in 67% of notes (2 of 3)" in summary.render()


# ------------------------------------------------------------------ exit codes


def test_exit_codes(tmp_path):
    good = write_notes(tmp_path / "good", {"a.txt": SUPPORTS})
    assert scan(good).exit_code == 0
    gaps = write_notes(tmp_path / "gaps", {"a.txt": SUPPORTS, "b.txt": GENERIC_CP1252})
    assert scan(gaps, "-f", "jsonl").exit_code == 1
    assert scan(gaps, "-f", "jsonl", "--fail-on", "never").exit_code == 0
    warn = write_notes(tmp_path / "warn", {"w.txt": SUPPORTS.replace("MRI showed", "It showed")})
    assert [f["severity"] for r in records_of(scan(warn, "-f", "jsonl").stdout) for f in r["findings"]] == ["warning"]
    assert scan(warn, "--fail-on", "error").exit_code == 0
    assert scan(warn, "--fail-on", "warning").exit_code == 1
    bad = write_notes(tmp_path / "bad", {"a.txt": GENERIC_CP1252, "b.txt": ""})
    assert scan(bad, "--fail-on", "never").exit_code == 2
    assert scan(bad).exit_code == 2  # unreadable wins over findings


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--code", "99999"], "opnote-audit: error: unknown --code 99999: choose one of 63101, 63102\n"),
        (["--workers", "0"], None),
        (["--format", "xml"], None),
        (["--fail-on", "sometimes"], None),
    ],
)
def test_usage_errors_exit_2(mixed, args, message):
    result = scan(mixed, *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    if message:
        assert result.stderr == message


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    result = scan(tmp_path / "empty")
    assert result.exit_code == 0
    assert result.stdout == "Scanned 0 files for 63102: 0 support the code, 0 have gaps, 0 unreadable.\n"
    assert result.stderr == "opnote-audit: warning: no note files found\n"


def test_output_must_not_be_an_input(mixed):
    before = (mixed / "a_supports.txt").read_bytes()
    for target in (mixed / "a_supports.txt", mixed / "sub" / "c_extent.docx"):
        result = scan(mixed, "-f", "jsonl", "--output", target)
        assert result.exit_code == 2
        assert "--output must not be one of the inputs" in result.stderr
        assert result.stderr.count("\n") == 1
    assert (mixed / "a_supports.txt").read_bytes() == before
    assert (mixed / "sub" / "c_extent.docx").stat().st_size > 1000


def test_new_output_inside_the_scanned_folder_is_not_audited(tmp_path):
    notes = write_notes(tmp_path / "n", {"a.txt": SUPPORTS})
    result = scan(notes, "-f", "jsonl", "-o", notes / "report.txt")
    assert result.exit_code == 0
    assert [r["file"] for r in records_of((notes / "report.txt").read_text())] == ["a.txt"]


def test_unreadable_and_non_text_reported_and_rest_audited(tmp_path):
    notes = write_notes(tmp_path / "n", {"a.txt": SUPPORTS, "c.txt": SUPPORTS})
    (notes / "b.txt").write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 64)
    (notes / "d.docx").write_bytes(b"PK\x03\x04 truncated")
    result = scan(notes, "-f", "jsonl")
    assert [outcome(r) for r in records_of(result.stdout)] == [
        ("a.txt", "supports"),
        ("b.txt", "error: binary file (ELF executable)"),
        ("c.txt", "supports"),
        ("d.docx", "error: could not be parsed as DOCX (damaged ZIP package)"),
    ]
    assert result.exit_code == 2
    assert scan(notes, "-f", "jsonl", "-q").stderr == ""


# ------------------------------------------------------------------ html


def test_html_is_written_from_the_records(mixed, tmp_path, monkeypatch):
    import types

    calls = []
    fake = types.ModuleType("opnote_audit.report.html")
    fake.write_batch = lambda records, out, root, options=None: calls.append((records, out, root))
    monkeypatch.setitem(sys.modules, "opnote_audit.report.html", fake)
    result = scan(mixed, "-f", "jsonl", "--html", tmp_path / "site")
    records, out, root = calls[0]
    assert records == records_of(result.stdout)
    assert (out, root) == (tmp_path / "site", mixed)


def test_html_unavailable_is_one_line(mixed, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "opnote_audit.report.html", None)
    result = scan(mixed, "--html", tmp_path / "site")
    assert result.exit_code == 2
    assert result.stderr == ("opnote-audit: error: --html is not available in this installation "
                             "(opnote_audit.report.html.write_batch is missing)\n")
    assert result.stdout == ""


# ------------------------------------------------------------------ workers, corpus


def test_workers_give_byte_identical_output(mixed):
    """A real pool (2 forked workers, in a subprocess) against the in-process single worker."""
    args = [str(mixed), str(REPO / "sample_notes")]
    for fmt in ("jsonl", "csv"):
        proc = subprocess.run(
            [sys.executable, "-m", "opnote_audit", "scan", *args, "-f", fmt, "--workers", "2"],
            capture_output=True, timeout=120, env={**os.environ, "NO_COLOR": "1"},
        )
        assert proc.returncode == 2, proc.stderr
        single = scan(*args, "-f", fmt, "--workers", "1")
        assert proc.stdout == single.stdout_bytes
        assert len(proc.stdout.splitlines()) == 8 + 12 + (fmt == "csv")


def test_batch_run_is_lazy_and_ordered(mixed):
    from opnote_audit import batch

    plan = batch.plan([mixed])
    produced = batch.run(iter(plan.items), batch.ScanOptions(), workers=1)
    kind, first = next(produced)
    assert (kind, first["file"]) == (batch.OK, "a_supports.txt")
    assert [k for k, _ in produced] == ["ok", "ok", "ok", "unreadable", "unreadable", "unreadable", "ok"]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_scan_real_corpus_has_no_error_records():
    result = scan(CORPUS, "-f", "jsonl", "-q")
    records = records_of(result.stdout)
    assert len(records) == len(list(CORPUS.glob("*.txt")))
    assert [r["file"] for r in records if "error" in r] == []
    assert result.exit_code in (0, 1)


def test_symlinks_followed_only_when_asked(tmp_path):
    outside = write_notes(tmp_path / "outside", {"linked.txt": SUPPORTS})
    notes = write_notes(tmp_path / "n", {"a.txt": SUPPORTS})
    (notes / "b_link.txt").symlink_to(outside / "linked.txt")
    assert [r["file"] for r in records_of(scan(notes, "-f", "jsonl").stdout)] == ["a.txt"]
    followed = scan(notes, "-f", "jsonl", "--follow-symlinks")
    assert [r["file"] for r in records_of(followed.stdout)] == ["a.txt", "b_link.txt"]


# ---------------------------------------------------------------- garbage collector policy

GC_PROBE = """
import gc, sys
sys.argv = ["opnote-audit", *{args!r}]
import opnote_audit.audit as audit
seen = []
real = audit.audit_file
def spy(*a, **k):
    seen.append(gc.isenabled())
    return real(*a, **k)
audit.audit_file = spy
from opnote_audit.cli import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("GC %s %s\\n" % (seen, gc.get_freeze_count() > 0))
"""


@pytest.mark.parametrize("command, collector_on", [("scan", True), ("check", False)])
def test_the_collector_is_off_for_one_note_and_back_on_for_a_batch(tmp_path, command, collector_on):
    # start-up runs without the garbage collector; a batch turns it back on (start-up objects
    # frozen) so memory stays flat over thousands of notes; a one-note check never needs it
    note = tmp_path / "a.txt"
    note.write_text(SUPPORTS, encoding="utf-8")
    target = str(tmp_path) if command == "scan" else str(note)
    proc = subprocess.run([sys.executable, "-c", GC_PROBE.format(args=[command, target])],
                          capture_output=True, text=True, timeout=120)
    line = [x for x in proc.stderr.splitlines() if x.startswith("GC ")]
    assert line, proc.stderr
    assert line[0] == f"GC [{collector_on}] {collector_on}"
