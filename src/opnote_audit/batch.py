"""The batch runner behind ``opnote-audit scan``: discovery -> read -> audit -> records.

A batch is a loop (or a process pool) over the same function ``check`` uses:
:func:`opnote_audit.audit.audit_file`. Each note becomes one *record*, a plain dict:

- a note that was audited: the JSON contract of the spec
  (``report.result_dict(result, RenderOptions(with_text=...))``);
- a file that could not be read or was skipped by discovery:
  ``{"schema_version": 1, "file": ..., "error": "<one-line reason>"}``.

Records come out in discovery order whatever the number of workers (``Pool.imap``
keeps order), so the output is byte-identical for any ``--workers``. At most a
bounded window of results is in flight at any time (:data:`WINDOW_PER_WORKER`),
so memory does not grow with the size of the batch.

``file`` is the path relative to the scanned folder when exactly one folder is
scanned; otherwise the path as given on the command line (joined with the part
found under it). :attr:`Plan.notes_root` joined with ``file`` locates the note.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from opnote_audit.models import SCHEMA_VERSION

__all__ = [
    "CHUNKSIZE",
    "Item",
    "Plan",
    "ScanOptions",
    "audit_item",
    "error_record",
    "find_file",
    "plan",
    "prepare",
    "run",
]

#: Notes sent to a worker at a time (``Pool.imap`` chunk size).
CHUNKSIZE = 8
#: Results allowed in flight per worker, in chunks: bounds memory whatever the batch size.
WINDOW_PER_WORKER = 4

#: Record kinds returned with each record by :func:`run`.
OK, UNREADABLE, INTERNAL = "ok", "unreadable", "internal"


@dataclass(frozen=True)
class ScanOptions:
    """What every worker needs to audit a note the same way."""

    code: str = "63102"
    with_text: bool = True
    patterns_dirs: tuple[str, ...] = ()
    select: tuple[str, ...] | None = None      # configuration: rules reported (None: all)
    ignore: tuple[str, ...] = ()
    severity: tuple[tuple[str, str], ...] = ()  # (rule id, severity) overrides
    claims: dict | None = None                  # claims CSV rows: file -> ClaimInput


@dataclass(frozen=True)
class Item:
    """One unit of work: a file to audit, or a path discovery could not use."""

    file: str                 # the name reported in the record
    path: str | None = None   # the file to read (None when ``skipped``)
    skipped: str | None = None  # discovery's reason, when the path is not audited


@dataclass
class Plan:
    """The files of a batch in order, and the folder their names are relative to."""

    items: list[Item]
    notes_root: Path

    def __len__(self) -> int:
        return len(self.items)


# ------------------------------------------------------------------ discovery


def plan(
    paths: Iterable[str],
    glob: list[str] | None = None,
    exclude: list[str] | None = None,
    follow_symlinks: bool = False,
) -> Plan:
    """Discover the notes under ``paths`` (see :mod:`opnote_audit.discover`).

    Only names and paths are kept, so a plan for 10,000 notes takes a few megabytes.
    """
    from opnote_audit.discover import Skipped, iter_note_files
    from opnote_audit.readers import display_path

    paths = [str(p) for p in paths]
    root: Path | None = None
    if len(paths) == 1 and os.path.isdir(paths[0]):
        root = Path(paths[0])
    items: list[Item] = []
    for found in iter_note_files(paths, glob=glob, exclude=exclude, follow_symlinks=follow_symlinks):
        if isinstance(found, Skipped):
            items.append(Item(file=_name(Path(found.path), root, display_path), skipped=found.reason))
            continue
        items.append(Item(file=_name(found, root, display_path), path=os.fspath(found)))
    return Plan(items, root if root is not None else Path("."))


def _name(path: Path, root: Path | None, display) -> str:
    """Relative to the single scanned folder when possible, else as given; one printable line."""
    if root is not None:
        try:
            rel = path.relative_to(root)
            if rel.parts:
                return display(rel.as_posix())
        except ValueError:
            pass
    return display(path.as_posix())


def find_file(plan: Plan, target: str | Path) -> str | None:
    """The name of the planned note that is ``target`` (same device and inode), if any."""
    try:
        info = os.stat(target)
    except OSError:
        return None
    key = (info.st_dev, info.st_ino)
    for item in plan.items:
        if item.path is None:
            continue
        try:
            other = os.stat(item.path)
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == key:
            return item.file
    return None


# ------------------------------------------------------------------ one note


def audit_item(item: Item, options: ScanOptions) -> tuple[str, dict]:
    """The record of one item and its kind (:data:`OK`, :data:`UNREADABLE`, :data:`INTERNAL`)."""
    if item.path is None:
        return UNREADABLE, error_record(item.file, item.skipped or "not audited")
    from opnote_audit.audit import audit_file
    from opnote_audit.errors import InputError
    from opnote_audit.readers import display_path
    from opnote_audit.report import RenderOptions, result_dict

    claim = None
    if options.claims:
        from opnote_audit.claim import find_claim

        claim = find_claim(options.claims, item.path)
    try:
        result = audit_file(item.path, code=options.code, display_name=item.file, claim=claim)
    except InputError as exc:
        return UNREADABLE, error_record(item.file, _reason(str(exc), display_path(item.path)))
    except RecursionError:
        return INTERNAL, error_record(item.file, "internal error while auditing (RecursionError)")
    except Exception as exc:  # one bad note must not cost the batch; no note text in the reason
        from opnote_audit.errors import OpnoteError

        if isinstance(exc, OpnoteError):  # pattern data or usage: the same for every note
            raise
        return INTERNAL, error_record(item.file, f"internal error while auditing ({type(exc).__name__})")
    if options.select is not None or options.ignore or options.severity:
        from opnote_audit.config import apply_rules

        result.findings = apply_rules(result.findings, options.select, options.ignore, dict(options.severity))
    return OK, result_dict(result, RenderOptions(with_text=options.with_text))


def error_record(file: str, reason: str) -> dict:
    """The record of a file that was not audited."""
    return {"schema_version": SCHEMA_VERSION, "file": file, "error": reason}


def _reason(message: str, label: str) -> str:
    """``"<file>: <reason>"`` from readers -> ``"<reason>"`` (the record names the file)."""
    prefix = f"{label}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def prepare(options: ScanOptions) -> None:
    """Load site patterns and build the pipeline once (errors in pattern data surface here)."""
    from opnote_audit import patterns
    from opnote_audit.audit import warm_up

    if options.patterns_dirs and tuple(Path(d).resolve() for d in options.patterns_dirs) != patterns.extra_dirs():
        patterns.set_extra_dirs(options.patterns_dirs)
    warm_up(options.code)


# ------------------------------------------------------------------ the loop


def run(items: Iterable[Item], options: ScanOptions, workers: int = 1) -> Iterator[tuple[str, dict]]:
    """Yield ``(kind, record)`` for each item, in order, with ``workers`` processes.

    The caller should call :func:`prepare` first in this process: with the ``fork``
    start method the workers inherit the pipeline already built.
    """
    if workers <= 1:
        for item in items:
            yield audit_item(item, options)
        return
    yield from _run_pool(items, options, workers)


_WORKER_OPTIONS: ScanOptions | None = None


def _init_worker(options: ScanOptions, inherited: bool) -> None:
    import signal

    global _WORKER_OPTIONS
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent stops the pool
    _WORKER_OPTIONS = options
    if not inherited:
        prepare(options)


def _work(item: Item) -> tuple[str, dict]:
    assert _WORKER_OPTIONS is not None
    return audit_item(item, _WORKER_OPTIONS)


def _context() -> tuple[multiprocessing.context.BaseContext, bool]:
    """``fork`` where available (workers inherit the built pipeline), else ``spawn``."""
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork"), True
    return multiprocessing.get_context("spawn"), False


def _run_pool(items: Iterable[Item], options: ScanOptions, workers: int) -> Iterator[tuple[str, dict]]:
    ctx, inherited = _context()
    window = _Window(workers * CHUNKSIZE * WINDOW_PER_WORKER)
    pool = ctx.Pool(workers, initializer=_init_worker, initargs=(options, inherited))
    finished = False
    restore = _exit_on_sigterm()
    try:
        for kind_record in pool.imap(_work, window.feed(items), chunksize=CHUNKSIZE):
            window.release()
            yield kind_record
        finished = True
    finally:
        window.close()
        if finished:
            pool.close()
        else:
            pool.terminate()
        pool.join()
        restore()


def _exit_on_sigterm():
    """While the pool runs, SIGTERM exits through ``finally`` (so the workers are stopped).

    Returns the function that puts the previous handler back.
    """
    import signal

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        return lambda: None

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    return lambda: signal.signal(signal.SIGTERM, previous)


class _Window:
    """Lets the pool's feeder thread run at most ``size`` items ahead of the consumer."""

    def __init__(self, size: int):
        self._slots = threading.Semaphore(size)
        self._closed = threading.Event()

    def feed(self, items: Iterable[Item]) -> Iterator[Item]:
        for item in items:
            while not self._slots.acquire(timeout=0.2):
                if self._closed.is_set():
                    return
            if self._closed.is_set():
                return
            yield item

    def release(self) -> None:
        self._slots.release()

    def close(self) -> None:
        self._closed.set()
