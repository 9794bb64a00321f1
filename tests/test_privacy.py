"""Privacy and safety promises, tested on the real command line.

- No network: ``check`` and ``scan`` work (and never even try a socket) when every socket
  creation fails.
- Error messages and logs never contain note text: notes holding a unique marker that
  cannot be read give one line on stderr without the marker, even with Python logging at
  DEBUG and every warning shown.
- ``--no-evidence`` removes quoted note text from every output format: check text, json and
  html; scan jsonl, csv, table and the ``--html`` pages.
- The notes are never written: content, size, mtime (ns), mode and inode of every input,
  and the folder listing, are unchanged after ``check`` in every format and ``scan`` with
  ``--output`` and ``--html``.
- Determinism: two runs give byte-identical JSON (check) and JSONL and CSV (scan), and
  ``--workers 2`` gives the same JSONL as one worker.

The command runs are independent processes, started concurrently by module fixtures.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GENERIC = REPO / "sample_notes" / "02_generic_approach.txt"

#: A note written for these tests. The co-surgeon names and the histology are markers: they
#: occur nowhere in the tool, its patterns or its messages, so finding one in an output means
#: the output quotes the note.
SURGEONS = ("Quixwort", "Vellamiro")
QUOTES = ("thyroid", "retropulsion")
NOTE = f"""OPERATIVE REPORT

PREOPERATIVE DIAGNOSIS: Pathologic burst fracture of L2 from metastatic thyroid carcinoma with retropulsion.

CO-SURGEONS: Dr. {SURGEONS[0]} and Dr. {SURGEONS[1]}

PROCEDURE: Left lateral extracavitary approach with complete L2 corpectomy and decompression of the cauda equina and the left L2 nerve root.

INDICATIONS: CT and MRI show the L2 lesion compressing the thecal sac. Two surgeons were needed because of the expected blood loss and the need for simultaneous exposure and resection.

DESCRIPTION: Dr. {SURGEONS[0]} performed the lateral extracavitary exposure of the L2 body. Dr. {SURGEONS[1]} performed the complete L2 corpectomy and the decompression of the cauda equina. The entire L2 vertebral body was removed. The left L2 nerve root was decompressed.
"""
#: In the unreadable notes: a marker that must never reach stderr, stdout or a record.
SECRET = "ZQX-SECRET-PATIENT-7731"

#: Every socket creation fails. Name lookups and connections are also logged: the tool must
#: never attempt one. (Creating a socket is not logged: importing spaCy imports requests, and
#: urllib3 probes IPv6 support at import by creating a local AF_INET6 socket.)
BLOCK_SOCKETS = """
import os, socket

def _record(what):
    with open(os.environ["OPNOTE_SOCKET_LOG"], "a") as log:
        log.write(what + "\\n")
    raise OSError("network disabled by the test")

class _NoSocket(socket.socket):
    def __init__(self, *args, **kwargs):
        raise OSError("network disabled by the test")

def _no_connection(*args, **kwargs):
    _record(f"create_connection{args!r}")

def _no_lookup(*args, **kwargs):
    _record(f"getaddrinfo{args!r}")

socket.socket = _NoSocket
socket.create_connection = _no_connection
socket.getaddrinfo = _no_lookup
"""

LOUD_LOGGING = """
import logging, sys, warnings
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="LOG %(name)s %(levelname)s %(message)s")
warnings.simplefilter("always")
"""


def env(**extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k not in ("OPNOTE_AUDIT_DEBUG", "FORCE_COLOR")}
    out.update(NO_COLOR="1", **extra)
    return out


def cli(*args, cwd: Path, stdin: bytes | None = None, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "opnote_audit", *map(str, args)], input=stdin,
                          capture_output=True, cwd=cwd, env=env(**extra_env), timeout=180)


def run_all(jobs: dict[str, dict]) -> dict[str, subprocess.CompletedProcess]:
    """Run ``cli(**job)`` for every job concurrently; name -> process."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(lambda j: cli(*j["args"], **{k: v for k, v in j.items() if k != "args"}), job)
                   for name, job in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


def write_docx(path: Path, text: str) -> None:
    import docx

    document = docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    document.save(str(path))


def make_notes(folder: Path) -> Path:
    """A folder of notes: the marker note as .txt, .docx and .rtf, a generic one and an unreadable one."""
    folder.mkdir(parents=True)
    (folder / "a_note.txt").write_text(NOTE, encoding="utf-8")
    write_docx(folder / "b_note.docx", NOTE)
    rtf = "{\\rtf1\\ansi\\deff0 " + NOTE.replace("\n", "\\par\n") + "}"
    (folder / "c_note.rtf").write_text(rtf, encoding="ascii")
    shutil.copy(GENERIC, folder / "d_generic.txt")
    (folder / "e_image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + SECRET.encode())
    return folder


def sitecustomize(base: Path, source: str) -> Path:
    """A folder holding ``sitecustomize.py`` with ``source``: on PYTHONPATH, every child
    interpreter runs it at start-up."""
    site = base / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(source, encoding="utf-8")
    return site


# =============================================================================== no network


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    base = tmp_path_factory.mktemp("offline")
    site = sitecustomize(base, BLOCK_SOCKETS)
    notes = make_notes(base / "notes")
    log = base / "sockets.log"
    extra = {"PYTHONPATH": str(site), "OPNOTE_SOCKET_LOG": str(log)}
    return base, notes, log, extra


def test_sockets_really_are_blocked(offline):
    """Control: the same environment makes socket creation fail in a plain interpreter."""
    base, _, log, extra = offline
    probe = subprocess.run([sys.executable, "-c", "import socket; socket.socket()"], capture_output=True,
                           cwd=base, env=env(**{**extra, "OPNOTE_SOCKET_LOG": str(base / "probe.log")}), timeout=60)
    assert probe.returncode == 1
    assert b"OSError: network disabled by the test" in probe.stderr
    lookup = subprocess.run([sys.executable, "-c", "import socket; socket.getaddrinfo('example.org', 443)"],
                            capture_output=True, cwd=base, env=env(**{**extra, "OPNOTE_SOCKET_LOG": str(base / "probe.log")}),
                            timeout=60)
    assert lookup.returncode == 1
    assert (base / "probe.log").read_text() == "getaddrinfo('example.org', 443)\n"


def test_check_and_scan_work_without_network(offline):
    base, notes, log, extra = offline
    runs = run_all({
        "check": {"args": ["check", notes / "a_note.txt", "-f", "json"], "cwd": base, **extra},
        "check-html": {"args": ["check", notes / "b_note.docx", "-f", "html"], "cwd": base, **extra},
        "scan": {"args": ["scan", notes, "-f", "jsonl", "--workers", "2", "--html", base / "html"],
                 "cwd": base, **extra},
    })
    check = runs["check"]
    assert check.returncode == 0, check.stderr
    assert check.stderr == b""
    assert json.loads(check.stdout)["verdict"] == "supports"
    assert runs["check-html"].returncode == 0 and runs["check-html"].stdout.startswith(b"<!DOCTYPE html>")
    scan = runs["scan"]
    assert scan.returncode == 2  # e_image.txt cannot be read; the others are audited
    records = [json.loads(line) for line in scan.stdout.decode().splitlines()]
    assert [r.get("verdict", "unreadable") for r in records] == [
        "supports", "supports", "supports", "gaps", "unreadable"]
    assert (base / "html" / "index.html").is_file()
    assert not log.exists(), f"the tool tried the network: {log.read_text()}"  # no lookup, no connection


# ========================================================= no note text in errors and logs


def _unreadable_inputs(folder: Path) -> dict[str, str]:
    """Files holding the secret that cannot be read; name -> expected reason."""
    import zipfile

    secret = SECRET.encode()
    folder.mkdir(parents=True)
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + secret)
    (folder / "nul.txt").write_bytes(secret + b"\x00\x00" + secret)
    (folder / "undefined.txt").write_bytes(secret + b" \x81 " + secret)
    (folder / "utf16.txt").write_bytes(f"{SECRET} lateral extracavitary".encode("utf-16-le"))
    (folder / "controls.txt").write_bytes(secret + b"\x01\x02\x03\x04\x05\x06" + secret)
    with open(folder / "huge.txt", "wb") as f:
        f.write(secret * 100)
        f.truncate(21 * 1024 * 1024)
    (folder / "broken.docx").write_bytes(b"PK\x03\x04" + secret * 10)
    with zipfile.ZipFile(folder / "badxml.docx", "w") as z:  # a ZIP whose Word part is not XML
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="xml" ContentType="application/vnd.openxmlformats-officedocument.'
                   'wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
                   '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml", f"<w:document>{SECRET} <unclosed {SECRET}")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Title (" + secret + b") /Type /Catalog\n%%EOF")
    return {
        "image.png": "binary file (PNG image)",
        "nul.txt": "binary file (contains NUL bytes)",
        "undefined.txt": "cannot decode text: not UTF-8, and byte 0x81 at offset 24 is undefined in cp1252",
        "utf16.txt": "binary file (contains NUL bytes; looks like UTF-16 without a byte-order mark, save it as UTF-8)",
        "controls.txt": "binary file (too many control characters)",
        "huge.txt": "file is too large (22,020,096 bytes; the limit is 20 MB)",
        "broken.docx": "could not be parsed as DOCX (damaged ZIP package)",
        "badxml.docx": "could not be parsed as DOCX (malformed XML)",
        "broken.pdf": "could not be parsed as PDF (damaged or truncated: PdfReadError)",
    }


@pytest.fixture(scope="module")
def loud(tmp_path_factory):
    """Runs with Python logging at DEBUG on stderr and every warning shown."""
    base = tmp_path_factory.mktemp("loud")
    site = sitecustomize(base, LOUD_LOGGING)
    bad = base / "bad"
    reasons = _unreadable_inputs(bad)
    good = make_notes(base / "good")
    extra = {"PYTHONPATH": str(site), "PYTHONWARNINGS": "always"}
    jobs = {name: {"args": ["check", f"bad/{name}"], "cwd": base, **extra} for name in reasons}
    jobs["<stdin>"] = {"args": ["check", "-"], "cwd": base, "stdin": b"\x7fELF" + SECRET.encode(), **extra}
    jobs["scan bad"] = {"args": ["scan", "bad", "-f", "jsonl"], "cwd": base, **extra}
    jobs["good note"] = {"args": ["check", "good/a_note.txt", "-f", "json"], "cwd": base, **extra}
    jobs["scan good"] = {"args": ["scan", "good", "-f", "csv", "--html", "html"], "cwd": base, **extra}
    return reasons, run_all(jobs)


def test_logging_really_is_loud(tmp_path):
    """Control: the sitecustomize does turn DEBUG logging on."""
    (tmp_path / "sitecustomize.py").write_text(LOUD_LOGGING, encoding="utf-8")
    probe = subprocess.run([sys.executable, "-c", "import logging; logging.getLogger('x').debug('hello')"],
                           capture_output=True, env=env(PYTHONPATH=str(tmp_path)), timeout=60)
    assert probe.stderr == b"LOG x DEBUG hello\n"


@pytest.mark.parametrize("name", [
    "image.png", "nul.txt", "undefined.txt", "utf16.txt", "controls.txt", "huge.txt", "broken.docx",
    "badxml.docx", "broken.pdf",
])
def test_unreadable_note_error_has_no_note_text(loud, name):
    reasons, runs = loud
    proc = runs[name]
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert proc.stderr.decode() == f"opnote-audit: error: bad/{name}: {reasons[name]}\n"
    assert SECRET.encode() not in proc.stderr


def test_stdin_error_has_no_note_text(loud):
    _, runs = loud
    proc = runs["<stdin>"]
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert proc.stderr == b"opnote-audit: error: <stdin>: binary file (ELF executable)\n"


def test_scan_error_records_have_no_note_text(loud):
    reasons, runs = loud
    proc = runs["scan bad"]
    assert proc.returncode == 2
    expected = {name: reason for name, reason in reasons.items() if name != "image.png"}  # .png: not a note suffix
    assert proc.stderr == f"opnote-audit: {len(expected)} files could not be read\n".encode()
    records = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert {r["file"]: r["error"] for r in records} == expected
    assert SECRET.encode() not in proc.stdout


def test_audits_log_nothing(loud):
    """An audited note, and a scan with CSV and HTML, write nothing to stderr even at DEBUG."""
    _, runs = loud
    assert runs["good note"].returncode == 0 and runs["good note"].stderr == b""
    assert runs["scan good"].returncode == 2  # the unreadable image in the folder
    assert runs["scan good"].stderr == b"opnote-audit: 1 file could not be read\n"


# ============================================================================ --no-evidence

#: output -> how it is produced, and an xfail reason when that output is known to leak (none now).
NO_EVIDENCE_OUTPUTS = {
    "check text": (["check", "notes/a_note.txt", "-f", "text", "--no-evidence"], None, None),
    "check json": (["check", "notes/a_note.txt", "-f", "json", "--no-evidence"], None, None),
    "check html": (["check", "notes/b_note.docx", "-f", "html", "--no-evidence"], None, None),
    "scan jsonl": (["scan", "notes", "-f", "jsonl", "--no-evidence"], None, None),
    "scan csv": (["scan", "notes", "-f", "csv", "--no-evidence"], None, None),
    "scan table": (["scan", "notes", "-f", "table", "--no-evidence"], None, None),
    "scan html": (["scan", "notes", "-f", "jsonl", "--no-evidence", "--html", "html_noev", "-o", "noev.jsonl"],
                  "html_noev", None),
}
#: The same outputs with evidence, to show the markers are there to be removed.
WITH_EVIDENCE = {
    "check text": ["check", "notes/a_note.txt", "-f", "text", "--width", "200"],
    "check json": ["check", "notes/a_note.txt", "-f", "json"],
    "check html": ["check", "notes/b_note.docx", "-f", "html"],
    "scan jsonl": ["scan", "notes", "-f", "jsonl", "--html", "html_full", "-o", "full.jsonl"],
}


@pytest.fixture(scope="module")
def evidence_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("noev")
    make_notes(base / "notes")
    jobs = {f"-{k}": {"args": a, "cwd": base} for k, (a, _, _) in NO_EVIDENCE_OUTPUTS.items()}
    jobs.update({f"+{k}": {"args": a, "cwd": base} for k, a in WITH_EVIDENCE.items()})
    (base / "negated.txt").write_text(NEGATED, encoding="utf-8")
    for fmt in ("json", "text"):
        jobs[f"negated {fmt}"] = {"args": ["check", "negated.txt", "-f", fmt, "--no-evidence", "--width", "200"],
                                  "cwd": base}
    return base, run_all(jobs)


#: A mention that does not count (negated), written in a spelling of the note's own: the
#: ``mention-not-counted`` finding quotes it in its message.
NEGATED_SPELLING = "LaTeRaL eXtRa-CaViToRy"
NEGATED = (f"A {NEGATED_SPELLING} approach was considered but not used.\n"
           "A posterior approach was used for a complete L2 corpectomy for metastatic carcinoma.\n")


def output_text(base: Path, proc: subprocess.CompletedProcess, args: list[str], html_dir: str | None) -> str:
    parts = [proc.stdout.decode("utf-8")]
    if "-o" in args:
        parts.append((base / args[args.index("-o") + 1]).read_text(encoding="utf-8"))
    if html_dir:
        pages = sorted((base / html_dir).glob("*.html"))
        assert len(pages) == 5  # index + one page per audited note
        parts += [p.read_text(encoding="utf-8") for p in pages]
    return "\n".join(parts)


def test_markers_are_in_the_outputs_with_evidence(evidence_runs):
    """Control: without --no-evidence every marker is quoted, so its absence below means something."""
    base, runs = evidence_runs
    for name, args in WITH_EVIDENCE.items():
        proc = runs[f"+{name}"]
        assert proc.returncode == 2 if args[0] == "scan" else proc.returncode == 0, (name, proc.stderr)
        text = output_text(base, proc, args, "html_full" if "--html" in args else None)
        for marker in SURGEONS + ("thyroid",):
            assert marker in text, (name, marker)
    data = json.loads(runs["+check json"].stdout)
    quoted = [e["text"] for e in data["elements"]["pathology"]["evidence"]]
    assert "metastatic thyroid carcinoma" in quoted and "retropulsion" in quoted


@pytest.mark.parametrize("output", list(NO_EVIDENCE_OUTPUTS))
def test_no_evidence_removes_quoted_text(evidence_runs, output):
    base, runs = evidence_runs
    args, html_dir, _ = NO_EVIDENCE_OUTPUTS[output]
    proc = runs[f"-{output}"]
    assert proc.returncode in ((0, 1) if args[0] == "check" else (2,)), proc.stderr
    text = output_text(base, proc, args, html_dir)
    for marker in QUOTES:
        assert marker not in text, marker
    assert "metastatic" not in text.lower()  # the pathology phrase itself is not quoted either


def _surgeon_params():
    for output, (_, _, leak) in NO_EVIDENCE_OUTPUTS.items():
        marks = [pytest.mark.xfail(reason=leak, strict=True)] if leak else []
        yield pytest.param(output, id=output, marks=marks)


@pytest.mark.parametrize("output", list(_surgeon_params()))
def test_no_evidence_removes_surgeon_names(evidence_runs, output):
    base, runs = evidence_runs
    args, html_dir, _ = NO_EVIDENCE_OUTPUTS[output]
    text = output_text(base, runs[f"-{output}"], args, html_dir)
    for marker in SURGEONS:
        assert marker not in text, marker


# =================================================== notes never written, and determinism


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry under ``folder``: content, size, mtime (ns), mode and inode."""
    out = {}
    for path in sorted(folder.rglob("*")):
        info = os.lstat(path)
        content = path.read_bytes() if path.is_file() else None
        out[path.relative_to(folder).as_posix()] = (content, info.st_size, info.st_mtime_ns, info.st_mode, info.st_ino)
    return out


@pytest.fixture(scope="module")
def repeated_runs(tmp_path_factory):
    """check in every format and scan with --output and --html, some twice; snapshots around them."""
    base = tmp_path_factory.mktemp("rw")
    notes = make_notes(base / "notes")
    os.utime(notes / "a_note.txt", ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    out = base / "out"
    out.mkdir()
    before = snapshot(notes)
    jobs = {}
    for fmt in ("text", "json", "html"):
        for note in ("a_note.txt", "b_note.docx", "c_note.rtf"):
            jobs[f"check {fmt} {note}"] = {"args": ["check", f"notes/{note}", "-f", fmt, "-o", f"out/{note}.{fmt}"],
                                          "cwd": base}
    jobs["check json again"] = {"args": ["check", "notes/a_note.txt", "-f", "json"], "cwd": base}
    jobs["check json stdout"] = {"args": ["check", "notes/a_note.txt", "-f", "json"], "cwd": base}
    for i in (1, 2):
        jobs[f"scan jsonl {i}"] = {"args": ["scan", "notes", "-f", "jsonl", "-o", f"out/scan{i}.jsonl",
                                           "--html", f"out/html{i}"], "cwd": base}
        jobs[f"scan csv {i}"] = {"args": ["scan", "notes", "-f", "csv", "-o", f"out/scan{i}.csv"], "cwd": base}
    jobs["scan jsonl workers"] = {"args": ["scan", "notes", "-f", "jsonl", "--workers", "2"], "cwd": base}
    runs = run_all(jobs)
    return base, before, snapshot(notes), runs


def test_notes_are_never_written(repeated_runs):
    base, before, after, runs = repeated_runs
    assert after == before
    assert set(before) == {"a_note.txt", "b_note.docx", "c_note.rtf", "d_generic.txt", "e_image.txt"}
    for name, proc in runs.items():  # every run did its work
        assert proc.returncode in ((0,) if name.startswith("check") else (2,)), (name, proc.stderr)
    outputs = sorted(p.name for p in (base / "out").iterdir())
    assert len(outputs) == 9 + 4 + 2  # 9 check reports, 2 jsonl + 2 csv, 2 html folders
    assert all((base / "out" / n).stat().st_size > 0 for n in outputs if not n.startswith("html"))
    assert len(list((base / "out" / "html1").glob("*.html"))) == 5


def test_check_json_is_byte_identical(repeated_runs):
    base, _, _, runs = repeated_runs
    first = (base / "out" / "a_note.txt.json").read_bytes()
    assert first == runs["check json again"].stdout == runs["check json stdout"].stdout
    assert json.loads(first)["verdict"] == "supports"


def test_scan_jsonl_and_csv_are_byte_identical(repeated_runs):
    base, _, _, runs = repeated_runs
    jsonl = (base / "out" / "scan1.jsonl").read_bytes()
    assert jsonl == (base / "out" / "scan2.jsonl").read_bytes() == runs["scan jsonl workers"].stdout
    assert len(jsonl.splitlines()) == 5
    csv = (base / "out" / "scan1.csv").read_bytes()
    assert csv == (base / "out" / "scan2.csv").read_bytes()
    assert len(csv.splitlines()) == 6


def test_docx_rtf_and_txt_of_one_note_agree(repeated_runs):
    """The same note read from three formats gives the same verdict and elements (a sanity check
    that the outputs compared above are real audits)."""
    base, _, _, _ = repeated_runs
    results = [json.loads((base / "out" / f"{n}.json").read_text()) for n in ("a_note.txt", "b_note.docx", "c_note.rtf")]
    statuses = [{k: v["status"] for k, v in r["elements"].items()} for r in results]
    assert statuses[0] == statuses[1] == statuses[2]
    assert statuses[0]["co_surgeon"] == "documented"


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_no_evidence_messages_do_not_quote_the_note(evidence_runs, fmt):
    _, runs = evidence_runs
    proc = runs[f"negated {fmt}"]
    assert proc.returncode == 1, proc.stderr
    assert b"mention-not-counted" in proc.stdout  # the finding is there, without the quote
    assert NEGATED_SPELLING.encode() not in proc.stdout
