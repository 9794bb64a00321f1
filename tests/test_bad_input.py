"""The bad-input matrix: every input the tool cannot audit gets one exact line and exit 2.

Each case builds its input in a temporary folder, runs the real command line
(``python -m opnote_audit ...``, ``NO_COLOR=1``) in a subprocess and asserts

- the exit code: 2 for an input or usage error, 0/1 for an input that must be audited;
- for an error: stderr is exactly one line, ``opnote-audit: error: <exact message>``,
  nothing on stdout, and never a traceback;
- for an input that must be audited: a JSON result on stdout, nothing on stderr, and
  the facts that show it was read right (encoding, the evidence quoted).

The cases run concurrently in one module fixture (each is a separate process), so the
whole matrix takes about as long as its slowest case. Cases that show a bug are marked
``xfail(strict=True)`` with the bug in the reason; the fix removes the mark.

The built-in pattern folder is broken in-process (``patterns.builtin_dir`` monkeypatched
to a copy) with Typer's ``CliRunner``; scan's "keep going" is a separate subprocess test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_notes" / "01_exemplary_63102.txt"
PREFIX = "opnote-audit: error: "
MIB = 1024 * 1024

#: Runs one command and, at exit, writes the process's peak RSS (KiB) to $OPNOTE_MAXRSS_FILE.
MEASURE = (
    "import atexit, os, resource, runpy, sys\n"
    "atexit.register(lambda: open(os.environ['OPNOTE_MAXRSS_FILE'], 'w').write(\n"
    "    str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))\n"
    "sys.argv = ['opnote-audit', *sys.argv[1:]]\n"
    "runpy.run_module('opnote_audit', run_name='__main__', alter_sys=True)\n"
)


def env(**extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k not in ("OPNOTE_AUDIT_DEBUG", "FORCE_COLOR")}
    out.update(NO_COLOR="1", **extra)
    return out


def drop_read_override() -> list[str] | None:
    """A command prefix under which root cannot read a mode-000 file, or None if there is none.

    As root, CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH bypass file permissions; setpriv drops them
    (uid stays 0, so the venv stays readable, unlike ``runuser -u nobody``).
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if not setpriv:
        return None
    prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search",
              "--inh-caps=-dac_override,-dac_read_search"]
    try:
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return prefix if probe.returncode == 0 else None


# ------------------------------------------------------------------------------ the matrix


@dataclass
class Case:
    """One row of the matrix.

    ``make(dir)`` builds the input in ``dir`` (the working directory of the run) and returns
    the command-line arguments. ``message`` is the exact text after ``opnote-audit: error: ``
    (``{dir}`` is replaced by the resolved working directory), or a compiled regex for cases
    whose fixed wording is not settled yet; ``None`` means the note must be audited.
    """

    id: str
    make: Callable[[Path], list[str]]
    message: str | re.Pattern[str] | None
    xfail: str | None = None
    timeout: float = 120
    max_seconds: float | None = None     # audited within this wall time
    max_rss_mib: float | None = None     # and this peak memory
    prefix: Callable[[], list[str] | None] = field(default=lambda: [])
    expect: Callable[[dict, Path], None] | None = None  # more checks on the JSON result


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def note_file(name: str, data: bytes | str, *extra: str) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        write(d / name, data)
        return ["check", name, *extra]
    return make


def sample_with(*extra: str, setup: Callable[[Path], None] | None = None) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        shutil.copy(SAMPLE, d / "note.txt")
        if setup is not None:
            setup(d)
        return ["check", "note.txt", *extra]
    return make


def scan_with(*extra: str, setup: Callable[[Path], None] | None = None) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        shutil.copy(SAMPLE, write(d / "notes" / "note.txt", b""))
        if setup is not None:
            setup(d)
        return ["scan", "notes", *extra]
    return make


def site_pack(approach_yml: str) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        write(d / "pack" / "approach.yml", approach_yml)
    return setup


#: A flow list that never closes: PyYAML reports it where the next item starts (line 6).
MALFORMED_YAML = "terms:\n  - label: named\n    value: x\n    phrases: [a, b\n  - c\n"


def catastrophic(regex: str) -> str:
    return ("terms:\n"
            "  - label: named\n"
            "    value: lateral extracavitary\n"
            f"    regex: [{json.dumps(regex)}]\n")


def make_folder(d: Path) -> list[str]:
    (d / "folder").mkdir()
    write(d / "folder" / "inside.txt", "Lateral extracavitary approach.")
    return ["check", "folder"]


def make_huge(d: Path) -> list[str]:
    with open(d / "huge.txt", "wb") as f:  # sparse: instant, no disk used
        f.write(b"Lateral extracavitary approach. ")
        f.truncate(50 * MIB)
    return ["check", "huge.txt"]


def make_loop(d: Path) -> list[str]:
    os.symlink("loop_b.txt", d / "loop_a.txt")
    os.symlink("loop_a.txt", d / "loop_b.txt")
    return ["check", "loop_a.txt"]


def make_broken_link(d: Path) -> list[str]:
    os.symlink("gone.txt", d / "dangling.txt")
    return ["check", "dangling.txt"]


def make_unreadable(d: Path) -> list[str]:
    write(d / "secret.txt", SAMPLE.read_bytes())
    os.chmod(d / "secret.txt", 0)
    return ["check", "secret.txt"]


PROSE = " ".join(SAMPLE.read_text(encoding="utf-8").split()) + " "
#: A note's sentences with their punctuation, on one 1 MiB line.
LONG_PROSE = (PROSE * (MIB // len(PROSE) + 1))[:MIB]
#: One 1 MiB line with no sentence punctuation (a template export that lost its line breaks).
UNPUNCTUATED = "corpectomy of L2 and L3 with decompression of the L2 nerve root "
LONG_UNPUNCTUATED = (UNPUNCTUATED * (MIB // len(UNPUNCTUATED) + 1))[:MIB]


def audited(encoding: str, approach_text: str) -> Callable[[dict, Path], None]:
    def expect(data: dict, d: Path) -> None:
        assert data["source"]["encoding"] == encoding
        assert data["elements"]["approach"]["status"] == "documented"
        assert approach_text in [e["text"] for e in data["elements"]["approach"]["evidence"]]
    return expect


def long_line_audited(data: dict, d: Path) -> None:
    assert data["source"] == {"format": "txt", "encoding": "utf-8", "chars": MIB}
    assert data["elements"]["level"]["value"][:1] == ["L2"]


CASES: list[Case] = [
    Case("missing path", lambda d: ["check", "absent.txt"], "absent.txt: no such file"),
    Case("missing parent folder", lambda d: ["check", "nowhere/absent.txt"], "nowhere/absent.txt: no such file"),
    Case("folder given to check", make_folder, "folder: is a directory, not a note file"),
    Case("empty file", note_file("empty.txt", b""), "empty.txt: empty file (0 bytes)"),
    Case("whitespace-only file", note_file("blank.txt", " \n\t\r\n   \n"), "blank.txt: note contains only whitespace"),
    Case("PNG image", note_file("scan.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))),
         "scan.png: binary file (PNG image)"),
    Case("PNG image named .txt", note_file("scan.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
         "scan.txt: binary file (PNG image)"),
    Case("ELF executable header", note_file("a.out", b"\x7fELF\x02\x01\x01\x00" + bytes(56)),
         "a.out: binary file (ELF executable)"),
    Case("NUL bytes in text", note_file("nul.txt", b"Lateral extracavitary approach.\x00\x00 L2 corpectomy."),
         "nul.txt: binary file (contains NUL bytes)"),
    Case("UTF-16 without a BOM", note_file("u16.txt", "Lateral extracavitary approach.\n".encode("utf-16-le")),
         "u16.txt: binary file (contains NUL bytes; looks like UTF-16 without a byte-order mark, save it as UTF-8)"),
    Case("many control characters", note_file("ctrl.txt", b"Lateral\x01\x02\x03\x04\x05 approach"),
         "ctrl.txt: binary file (too many control characters)"),
    Case("invalid UTF-8 falls back to cp1252",
         note_file("latin.txt", b"Pr\xe9op: lateral extracavitary approach, caf\xe9 \xb1 2 cm.\n", "-f", "json"),
         None, expect=audited("cp1252", "lateral extracavitary approach")),
    Case("byte undefined in cp1252", note_file("undef.txt", b"Lateral extracavitary \x81 approach.\n"),
         "undef.txt: cannot decode text: not UTF-8, and byte 0x81 at offset 22 is undefined in cp1252"),
    Case("UTF-8 BOM then invalid UTF-8", note_file("badbom.txt", b"\xef\xbb\xbfLateral \xff approach"),
         "badbom.txt: cannot decode text: invalid UTF-8-SIG at byte 8"),
    Case("UTF-16 with BOM",
         note_file("u16bom.txt", "Lateral extracavitary approach; complete L2 corpectomy.\r\n".encode("utf-16"),
                   "-f", "json"),
         None, expect=audited("utf-16", "Lateral extracavitary approach")),
    Case("cp1252 smart quotes",
         note_file("quotes.txt", b"The \x93lateral extracavitary approach\x94 was used \x96 L2.\n", "-f", "json"),
         None, expect=audited("cp1252", "lateral extracavitary approach")),
    Case("50 MB text file (limit 20 MB)", make_huge,
         "huge.txt: file is too large (52,428,800 bytes; the limit is 20 MB)", timeout=60),
    Case("1 MiB line with sentences", note_file("oneline.txt", LONG_PROSE, "-f", "json"), None,
         timeout=60, max_seconds=20, max_rss_mib=800, expect=long_line_audited),
    Case("1 MiB line without sentence punctuation", note_file("template.txt", LONG_UNPUNCTUATED, "-f", "json"), None,
         timeout=20, max_seconds=20, max_rss_mib=800, expect=long_line_audited,
),
    Case("symlink loop", make_loop, "loop_a.txt: symbolic link loop (too many levels of symbolic links)"),
    Case("broken symlink", make_broken_link, "dangling.txt: broken symbolic link (its target does not exist)"),
    Case("file without read permission", make_unreadable, "secret.txt: permission denied",
         prefix=drop_read_override),
    Case("device file", lambda d: ["check", "/dev/null"], "/dev/null: not a regular file (device, FIFO or socket)"),
    Case("damaged DOCX", note_file("note.docx", b"PK\x03\x04 not really a zip"),
         "note.docx: could not be parsed as DOCX (damaged ZIP package)"),
    Case("text named .docx", note_file("plain.docx", b"Lateral extracavitary approach."),
         "plain.docx: could not be parsed as DOCX (not a ZIP package)"),
    Case("damaged PDF", note_file("note.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog\n%%EOF"),
         "note.pdf: could not be parsed as PDF (damaged or truncated: PdfReadError)"),
    Case("--output is the note", sample_with("--output", "note.txt"),
         "--output must not be the note itself (the tool never writes a note)"),
    Case("malformed site pattern file", sample_with("--patterns", "pack", setup=site_pack(MALFORMED_YAML)),
        "{dir}/pack/approach.yml:6: invalid YAML: did not find expected ',' or ']'"),
    Case("site pattern term with an unknown key", sample_with(
        "--patterns", "pack", setup=site_pack("terms:\n  - label: named\n    value: x\n    phrases: [lxc]\n    weight: 2\n")),
        "{dir}/pack/approach.yml:2: unknown key(s) weight; allowed: alone_conflict, excludes_near, label, "
        "needs_body, needs_resection_verb, patterns, phrases, regex, requires_near, technique, value, weak"),
    Case("missing --patterns folder", sample_with("--patterns", "no_such_pack"),
         "no_such_pack: pattern folder not found (given with --patterns)"),
    Case("catastrophic regex (a+)+$", sample_with("--patterns", "pack", setup=site_pack(catastrophic("(a+)+$"))),
         "{dir}/pack/approach.yml:2: regex has a nested unbounded quantifier (catastrophic backtracking risk)"),
    Case("catastrophic regex ((a+))+$", sample_with("--patterns", "pack", setup=site_pack(catastrophic("((a+))+$"))),
         re.compile(r"\{dir\}/pack/approach\.yml:2: regex .*backtracking.*"),
),
    Case("catastrophic regex (a{1,})+$", sample_with("--patterns", "pack", setup=site_pack(catastrophic("(a{1,})+$"))),
         re.compile(r"\{dir\}/pack/approach\.yml:2: regex .*backtracking.*"),
),
    Case("catastrophic regex (a|aa)+$", sample_with("--patterns", "pack", setup=site_pack(catastrophic("(a|aa)+$"))),
         re.compile(r"\{dir\}/pack/approach\.yml:2: regex .*backtracking.*"),
),
    Case("malformed config file (invalid TOML)", sample_with(
        "--config", "bad.toml", setup=lambda d: write(d / "bad.toml", "code = \n[unclosed")),
        "{dir}/bad.toml: invalid TOML: Invalid value (at line 1, column 8)"),
    Case("missing config file", sample_with("--config", "absent.toml"),
         "absent.toml: configuration file not found (given with --config)"),
    Case("unknown --code", sample_with("--code", "63999"), "unknown --code 63999: choose one of 63101, 63102"),
    Case("unknown --format", sample_with("--format", "xml"), "unknown format 'xml': choose one of text, json, html"),
    Case("malformed --cpt", sample_with("--cpt", "6310"),
         "malformed --cpt '6310': expected CODE[-MOD...][xUNITS], e.g. 63103x2, 22558-51, 63102-62"),
    Case("--cpt with 0 units", sample_with("--cpt", "63102x0"), "malformed --cpt '63102x0': units must be 1 to 99"),
    Case("malformed --icd", sample_with("--icd", "XYZ"),
         "malformed --icd 'XYZ': expected an ICD-10-CM code such as M84.58XA or C79.51"),
    Case("bad value for a choice option", sample_with("--fail-on", "sometimes"),
         re.compile(r".*--fail-on.*sometimes.*"),
),
    Case("scan: unknown --code", scan_with("--code", "1"), "unknown --code 1: choose one of 63101, 63102"),
    Case("scan: malformed site pattern file", scan_with("--patterns", "pack", setup=site_pack("terms: [\n")),
         "{dir}/pack/approach.yml:2: invalid YAML: did not find expected node content"),
]


def run_case(case: Case, d: Path) -> tuple[subprocess.CompletedProcess | None, float, int | None]:
    """Run one case in ``d``; returns (process or None on timeout, seconds, peak RSS in KiB)."""
    d.mkdir(parents=True)
    args = case.make(d)
    prefix = case.prefix()
    if prefix is None:
        return None, 0.0, None
    rss_file = d.parent / f"{d.name}.maxrss"
    cmd = [*prefix, sys.executable, "-c", MEASURE, *args]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, cwd=d, timeout=case.timeout,
                              env=env(OPNOTE_MAXRSS_FILE=str(rss_file)))
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - t0, None
    rss = int(rss_file.read_text()) if rss_file.exists() else None
    return proc, time.monotonic() - t0, rss


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every case of the matrix, run concurrently; id -> (process, seconds, rss KiB, dir)."""
    base = tmp_path_factory.mktemp("bad")
    dirs = {case.id: base / f"case{i}" for i, case in enumerate(CASES)}
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = {c.id: pool.submit(run_case, c, dirs[c.id]) for c in CASES}
            done = {cid: (*f.result(), dirs[cid]) for cid, f in futures.items()}
    finally:
        for d in dirs.values():  # let pytest clean up mode-000 files
            for p in d.rglob("*") if d.exists() else ():
                if p.is_file() and not p.is_symlink():
                    os.chmod(p, 0o644)
    return done


def _params():
    for case in CASES:
        marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_bad_input(case: Case, outcomes):
    proc, seconds, rss, d = outcomes[case.id]
    if proc is None and case.prefix() is None:
        pytest.skip("running as root and setpriv cannot drop CAP_DAC_OVERRIDE: every file is readable")
    assert proc is not None, f"no answer within {case.timeout} s"
    stderr = proc.stderr.decode("utf-8", "replace")
    stdout = proc.stdout.decode("utf-8", "replace")
    assert "Traceback" not in stderr and "Traceback" not in stdout
    if case.message is None:  # must be audited
        assert proc.returncode in (0, 1), stderr
        assert stderr == ""
        data = json.loads(stdout)
        assert data["schema_version"] == 1
        print(f"{case.id}: {seconds:.1f} s, peak RSS {rss / 1024 if rss else 0:.0f} MiB")
        if case.max_seconds is not None:
            assert seconds < case.max_seconds
        if case.max_rss_mib is not None:
            assert rss is not None and rss / 1024 < case.max_rss_mib
        if case.expect is not None:
            case.expect(data, d)
        return
    assert proc.returncode == 2, stderr
    assert stdout == ""
    lines = stderr.split("\n")
    assert len(lines) == 2 and lines[1] == "", f"not exactly one line: {stderr!r}"
    resolved = str(d.resolve())
    if isinstance(case.message, str):
        assert stderr == PREFIX + case.message.replace("{dir}", resolved) + "\n"
    else:
        pattern = case.message.pattern.replace(r"\{dir\}", re.escape(resolved))
        assert lines[0].startswith(PREFIX) and re.fullmatch(pattern, lines[0][len(PREFIX):]), lines[0]


# ---------------------------------------------------------------- the built-in patterns


@pytest.fixture
def builtin_copy(tmp_path, monkeypatch):
    """A copy of the built-in ``patterns/`` folder that ``patterns.builtin_dir`` returns."""
    from opnote_audit import patterns

    copy = tmp_path / "pkg" / "patterns"
    shutil.copytree(patterns.builtin_dir(), copy)
    monkeypatch.setattr(patterns, "builtin_dir", lambda: copy)
    monkeypatch.chdir(tmp_path)
    patterns.set_extra_dirs([])
    yield copy
    monkeypatch.undo()
    patterns.set_extra_dirs([])


def invoke_check(*args: str):
    from typer.testing import CliRunner

    from opnote_audit.cli import _register, app

    _register()
    return CliRunner().invoke(app, ["check", str(SAMPLE), *args], env={"NO_COLOR": "1"})


def test_builtin_pattern_file_missing(builtin_copy):
    (builtin_copy / "approach.yml").unlink()
    result = invoke_check()
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == PREFIX + "patterns/approach.yml: pattern file not found\n"


def test_builtin_pattern_file_malformed(builtin_copy):
    (builtin_copy / "approach.yml").write_text(MALFORMED_YAML, encoding="utf-8")
    result = invoke_check()
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == PREFIX + "patterns/approach.yml:6: invalid YAML: did not find expected ',' or ']'\n"


def test_builtin_pattern_file_with_a_bad_term(builtin_copy):
    path = builtin_copy / "approach.yml"
    text = path.read_text(encoding="utf-8")
    # the first term loses its label: the message names the file and the term's line
    first = text.index("  - label: named")
    line = text.count("\n", 0, first) + 1
    path.write_text(text.replace("  - label: named\n", "  - labels: named\n", 1), encoding="utf-8")
    result = invoke_check()
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{PREFIX}patterns/approach.yml:{line}: ")
    assert result.stderr.count("\n") == 1


def test_builtin_patterns_restored_after_breaking_them():
    """The monkeypatched cases above leave the real patterns in place for later tests."""
    result = invoke_check("--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "supports"


# ---------------------------------------------------------------- scan keeps going


def test_scan_keeps_going_and_reports_the_bad_files(tmp_path):
    notes = tmp_path / "notes"
    shutil.copy(SAMPLE, write(notes / "a_good.txt", b""))
    write(notes / "b_empty.txt", b"")
    write(notes / "c_image.txt", b"\x89PNG\r\n\x1a\n")
    write(notes / "d_latin.txt", b"caf\xe9: lateral extracavitary approach, complete L2 corpectomy\n")
    write(notes / "e_undefined.txt", b"approach \x81")
    write(notes / "f_broken.docx", b"PK\x03\x04 broken")
    write(notes / "g_nul.txt", b"abc\x00def")
    shutil.copy(SAMPLE, write(notes / "h_good.txt", b""))
    proc = subprocess.run([sys.executable, "-m", "opnote_audit", "scan", "notes", "-f", "jsonl"],
                          capture_output=True, cwd=tmp_path, env=env(), timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.decode() == "opnote-audit: 5 files could not be read\n"
    records = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [r["file"] for r in records] == ["a_good.txt", "b_empty.txt", "c_image.txt", "d_latin.txt",
                                            "e_undefined.txt", "f_broken.docx", "g_nul.txt", "h_good.txt"]
    errors = {r["file"]: r["error"] for r in records if "error" in r}
    assert errors == {
        "b_empty.txt": "empty file (0 bytes)",
        "c_image.txt": "binary file (PNG image)",
        "e_undefined.txt": "cannot decode text: not UTF-8, and byte 0x81 at offset 9 is undefined in cp1252",
        "f_broken.docx": "could not be parsed as DOCX (damaged ZIP package)",
        "g_nul.txt": "binary file (contains NUL bytes)",
    }
    audited = {r["file"]: r for r in records if "error" not in r}
    assert audited["a_good.txt"]["verdict"] == audited["h_good.txt"]["verdict"] == "supports"
    assert audited["d_latin.txt"]["source"]["encoding"] == "cp1252"
