"""``opnote-audit scan PATH...``: audit every note under one or more folders.

Exit codes: 0 every file was read and no finding reaches --fail-on; 1 a finding
reaches --fail-on; 2 a file could not be read (reported after the whole batch), or a
usage error; 3 an internal error while auditing a note (the batch still finishes).
"""

from __future__ import annotations

import sys
import time
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from opnote_audit.cli import app
from opnote_audit.commands import FailOn, SEVERITY_RANK, die, use_color, user_errors


class ScanFormat(str, Enum):
    table = "table"
    jsonl = "jsonl"
    csv = "csv"


@app.command()
@user_errors
def scan(
    paths: List[str] = typer.Argument(..., metavar="PATH", help="Folders (searched recursively) and note files to audit."),
    code: Optional[str] = typer.Option(None, "--code", "-c", help="The code audited: 63102 (lumbar, the default) or 63101 (thoracic)."),
    glob: List[str] = typer.Option([], "--glob", help="Audit only files matching this pattern (repeatable), e.g. '*.docx' or '2026/**/*.txt'."),
    exclude: List[str] = typer.Option([], "--exclude", help="Skip files and folders matching this pattern (repeatable)."),
    fmt: Optional[ScanFormat] = typer.Option(None, "--format", "-f", help="table (default): a summary for people; jsonl: one JSON record per note; csv: one row per note."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report to this file instead of stdout."),
    workers: int = typer.Option(1, "--workers", "-j", min=1, max=256, help="Audit with this many processes (the output is the same for any number)."),
    fail_on: Optional[FailOn] = typer.Option(None, "--fail-on", help="Exit 1 when a finding in any note reaches this severity (default: error)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no notes on stderr."),
    no_evidence: bool = typer.Option(False, "--no-evidence", help="Leave quoted note text out of the output."),
    follow_symlinks: bool = typer.Option(False, "--follow-symlinks", help="Follow symbolic links found inside the folders."),
    html: Optional[str] = typer.Option(None, "--html", help="Also write an HTML report per note and an index into this folder."),
    patterns_dir: List[str] = typer.Option([], "--patterns", help="A site pattern pack folder merged over the built-in patterns (repeatable)."),
    config_file: Optional[str] = typer.Option(None, "--config", help="Configuration file (default: the nearest .opnote-audit.toml or pyproject.toml [tool.opnote-audit])."),
    claims_csv: Optional[str] = typer.Option(None, "--claims", help="A CSV of billed claims (columns file,cpt,icd; codes ';'-separated) reviewed against each note."),
) -> None:
    """Audit every note under PATH... and summarise the documentation gaps of the batch."""
    from opnote_audit import batch, config
    from opnote_audit.errors import UsageError

    eff = config.resolve({"code": code, "format": fmt.value if fmt else None, "fail-on": fail_on,
                          "patterns": patterns_dir}, config_file, Path.cwd())
    try:
        fmt = ScanFormat(eff.format_for([f.value for f in ScanFormat], ScanFormat.table.value))
    except ValueError:
        raise UsageError(f"unknown --format {eff.format}: choose one of {', '.join(f.value for f in ScanFormat)}") from None
    claims = None
    if claims_csv:
        from opnote_audit.claim import load_claims_csv

        claims = load_claims_csv(claims_csv)
    options = batch.ScanOptions(
        code=eff.code, with_text=not no_evidence, patterns_dirs=tuple(str(p) for p in eff.patterns),
        select=tuple(eff.select) if eff.select is not None else None, ignore=tuple(eff.ignore),
        severity=tuple(sorted(eff.severity.items())), claims=claims,
    )
    fail_on_level = eff.fail_on
    write_batch = _html_writer() if html else None
    to_stdout = output in (None, "-")
    if not to_stdout:
        _check_output_not_input(output, paths)

    plan = batch.plan(paths, glob=glob or None, exclude=exclude or None, follow_symlinks=follow_symlinks)
    if not to_stdout:
        clash = batch.find_file(plan, output)
        if clash is not None:
            raise UsageError(f"--output must not be one of the inputs ({clash}); the tool never writes a note")
    if any(item.path for item in plan.items):
        batch.prepare(options)  # pattern errors surface once, before any output
    elif not plan.items and not quiet:
        sys.stderr.write("opnote-audit: warning: no note files found\n")

    stream = sys.stdout if to_stdout else _open_output(output)
    try:
        outcome = _run(plan, options, fmt, stream, to_stdout, workers, fail_on_level, quiet,
                       keep=write_batch is not None)
    finally:
        if not to_stdout:
            stream.close()
    if write_batch is not None:
        from opnote_audit.report import RenderOptions

        write_batch(outcome.records, Path(html), plan.notes_root, RenderOptions(with_text=not no_evidence))
    if claims and not quiet:
        from opnote_audit.claim import unmatched_claims

        for row in unmatched_claims(claims, [item.path for item in plan.items if item.path]):
            sys.stderr.write(f"opnote-audit: warning: {claims_csv}:{row.line}: no note found for claim row '{row.file}'\n")
    if outcome.unreadable and not quiet:
        n = outcome.unreadable
        sys.stderr.write(f"opnote-audit: {n} file{'s' if n != 1 else ''} could not be read\n")
    if outcome.internal:
        raise typer.Exit(3)
    if outcome.unreadable:
        raise typer.Exit(2)
    if outcome.failed:
        raise typer.Exit(1)


class _Outcome:
    def __init__(self) -> None:
        self.unreadable = 0
        self.internal = 0
        self.failed = False
        self.records: list[dict] = []


def _run(plan, options, fmt: ScanFormat, stream, to_stdout: bool, workers: int, fail_on: str,
         quiet: bool, keep: bool) -> _Outcome:
    """Audit the plan, streaming records to the writer (or the summary), with a progress bar."""
    from contextlib import closing

    from opnote_audit import batch

    writer, summary = _sink(fmt, stream, options.code)
    outcome = _Outcome()
    progress = _progress(len(plan), quiet, fmt, to_stdout)
    workers = min(workers, max(1, len(plan)))  # no idle processes for a small batch
    with closing(batch.run(plan.items, options, workers)) as results:
        if progress is not None:
            progress.start()
        try:
            for kind, record in results:
                if kind == batch.UNREADABLE:
                    outcome.unreadable += 1
                elif kind == batch.INTERNAL:
                    outcome.internal += 1
                elif not outcome.failed:
                    outcome.failed = _fails(record, fail_on)
                if writer is not None:
                    writer.write(record)
                else:
                    summary.add(record)
                if keep:
                    outcome.records.append(record)
                if progress is not None:
                    progress.advance()
        finally:
            if progress is not None:
                progress.stop()
    if writer is not None:
        writer.close()
    else:
        color = use_color(stream) if to_stdout else False
        width = _width(stream) if to_stdout else 80
        summary.write(stream, width=width, color=color)
        stream.flush()
    return outcome


def _sink(fmt: ScanFormat, stream, code: str):
    """(writer, None) for jsonl/csv, (None, summary) for the table."""
    if fmt is ScanFormat.jsonl:
        from opnote_audit.report.jsonl import JsonlWriter

        return JsonlWriter(stream), None
    if fmt is ScanFormat.csv:
        from opnote_audit.report.csv_format import CsvWriter

        return CsvWriter(stream), None
    from opnote_audit.report.summary import BatchSummary

    return None, BatchSummary(code)


def _fails(record: dict, fail_on: str) -> bool:
    if fail_on == "never" or "error" in record:
        return False
    floor = SEVERITY_RANK[fail_on]
    return any(SEVERITY_RANK.get(f["severity"], 0) >= floor for f in record["findings"])


def _html_writer():
    try:
        from opnote_audit.report.html import write_batch
    except ImportError:
        die("--html is not available in this installation (opnote_audit.report.html.write_batch is missing)")
    return write_batch


def _check_output_not_input(output: str, paths: list[str]) -> None:
    from opnote_audit.errors import UsageError

    target = Path(output).resolve()
    for raw in paths:
        if Path(raw).resolve() == target:
            raise UsageError("--output must not be one of the inputs; the tool never writes a note")
    if target.is_dir():
        raise UsageError(f"--output {output}: is a directory, not a file")


def _open_output(output: str):
    from opnote_audit.errors import UsageError

    try:
        # newline="": records end in "\n" and CSV rows in "\r\n", written as they are.
        return open(output, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"{output}: cannot write output ({exc.strerror or type(exc).__name__})") from None


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _width(stream) -> int:
    import shutil

    if _isatty(stream):
        return max(60, min(shutil.get_terminal_size((80, 24)).columns, 160))
    return 80


class _Progress:
    """A Rich progress bar on stderr (count, notes/s, ETA), refreshed by hand.

    No refresh thread: worker processes may be forked while it is shown.
    """

    INTERVAL = 0.1

    def __init__(self, total: int):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeRemainingColumn)

        self._progress = Progress(
            TextColumn("Auditing"), BarColumn(), MofNCompleteColumn(), _rate_column(),
            TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(stderr=True), auto_refresh=False, transient=True,
            redirect_stdout=False, redirect_stderr=False,
        )
        self._task = self._progress.add_task("scan", total=total)
        self._last = 0.0

    def start(self) -> None:
        self._progress.start()
        self._progress.refresh()

    def advance(self) -> None:
        self._progress.advance(self._task)
        now = time.monotonic()
        if now - self._last >= self.INTERVAL:
            self._last = now
            self._progress.refresh()

    def stop(self) -> None:
        self._progress.stop()


def _rate_column():
    """A progress column showing notes per second."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("-- notes/s" if speed is None else f"{speed:.1f} notes/s")

    return RateColumn()


def _progress(total: int, quiet: bool, fmt: ScanFormat, to_stdout: bool) -> _Progress | None:
    """Shown only on a terminal, without --quiet, and never over records printed to that terminal."""
    if quiet or total == 0 or not _isatty(sys.stderr):
        return None
    if to_stdout and fmt is not ScanFormat.table and _isatty(sys.stdout):
        return None
    return _Progress(total)
