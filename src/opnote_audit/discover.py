"""Find the note files under the paths given to ``opnote-audit scan``.

:func:`iter_note_files` streams :class:`~pathlib.Path` objects for the files to
audit and :class:`Skipped` records for paths it could not use (missing path,
folder without read permission, broken symbolic link, link loop). Rules:

- Folders are walked recursively with ``os.scandir``, entries in sorted name order,
  so the output is sorted by path (``Path`` ordering) within each given path; the
  given paths are handled in the order given. Each file is yielded once, even when
  reachable twice (overlapping arguments, links).
- Names starting with ``.`` (hidden) and ``~$`` (Office lock files) are skipped
  while walking. A path given explicitly is used even if hidden.
- Symbolic links found while walking are skipped silently unless
  ``follow_symlinks``; then every folder is entered at most once (tracked by device
  and inode), and a link back to an enclosing folder is reported as a loop.
  Paths given explicitly are followed when they are links (like ``find -H``).
- ``glob`` selects files (default: a suffix in ``SUPPORTED_SUFFIXES``); ``exclude``
  drops files and prunes folders. Patterns are case-insensitive and gitignore-like:
  a pattern without ``/`` matches the name (``*.txt``, ``drafts``); a pattern with
  ``/`` matches the path relative to the given folder (``2026/**/*.docx``), where
  ``*`` and ``?`` stay within one folder name and ``**/`` spans any number of
  folders, including none. A trailing ``/`` restricts a pattern to folders. A file
  given explicitly is subject to ``glob``/``exclude`` but not to the default
  suffix selection.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from opnote_audit.readers import SUPPORTED_SUFFIXES, os_error_reason

__all__ = ["Skipped", "iter_note_files"]


@dataclass(frozen=True)
class Skipped:
    """A path given or found that is not audited, and why (one line, no note text)."""

    path: str
    reason: str


def iter_note_files(
    paths: Iterable[str | Path],
    glob: list[str] | None = None,
    exclude: list[str] | None = None,
    follow_symlinks: bool = False,
) -> Iterator[Path | Skipped]:
    """Yield the note files under ``paths`` (and :class:`Skipped` records) lazily."""
    state = _State(
        select=_PatternSet(glob) if glob else None,
        exclude=_PatternSet(exclude) if exclude else None,
        follow=follow_symlinks,
    )
    for raw in paths:
        yield from _explicit(Path(raw), state)


# ------------------------------------------------------------------ internals


@dataclass
class _State:
    select: _PatternSet | None
    exclude: _PatternSet | None
    follow: bool
    seen_files: set[tuple[int, int]] = field(default_factory=set)
    seen_dirs: set[tuple[int, int]] = field(default_factory=set)


def _explicit(path: Path, state: _State) -> Iterator[Path | Skipped]:
    """A path from the command line: links followed, hidden names allowed."""
    try:
        info = os.stat(path)
    except OSError as exc:
        yield Skipped(str(path), _reason(exc, path))
        return
    if stat.S_ISDIR(info.st_mode):
        yield from _walk(path, info, state)
    elif stat.S_ISREG(info.st_mode):
        rel = path.as_posix()
        if state.exclude and state.exclude.matches(rel, path.name, is_dir=False):
            return
        if state.select and not state.select.matches(rel, path.name, is_dir=False):
            return
        if _first_time(state.seen_files, info):
            yield path
    else:
        yield Skipped(str(path), "not a regular file or directory")


def _walk(root: Path, root_info: os.stat_result, state: _State) -> Iterator[Path | Skipped]:
    """Depth-first walk in sorted order with an explicit stack (no recursion limit)."""
    root_key = _key(root_info)
    if root_key in state.seen_dirs:
        return
    state.seen_dirs.add(root_key)
    listing = _list_dir(root)
    if isinstance(listing, Skipped):
        yield listing
        return
    # Each frame: (relative prefix, folder key, remaining entries).
    stack: list[tuple[str, tuple[int, int], Iterator[os.DirEntry[str]]]] = [
        ("", root_key, iter(listing))
    ]
    ancestors = {root_key}
    while stack:
        prefix, dir_key, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            ancestors.discard(dir_key)
            continue
        name = entry.name
        if name.startswith((".", "~$")):
            continue
        rel = prefix + name
        found = _classify(entry, state.follow)
        if found is None:
            continue
        if isinstance(found, Skipped):
            yield found
            continue
        is_dir, info = found
        if state.exclude and state.exclude.matches(rel, name, is_dir=is_dir):
            continue
        if is_dir:
            key = _key(info)
            if key in ancestors:
                yield Skipped(entry.path, "symbolic link loop (points back to an enclosing folder)")
                continue
            if key in state.seen_dirs:
                continue  # already walked through another path
            state.seen_dirs.add(key)
            listing = _list_dir(Path(entry.path))
            if isinstance(listing, Skipped):
                yield listing
                continue
            stack.append((rel + "/", key, iter(listing)))
            ancestors.add(key)
        elif _selected(rel, name, state):
            if not stat.S_ISREG(info.st_mode):
                yield Skipped(entry.path, "not a regular file")
            elif _first_time(state.seen_files, info):
                yield Path(entry.path)


def _classify(entry: os.DirEntry[str], follow: bool) -> tuple[bool, os.stat_result] | Skipped | None:
    """(is_dir, stat) of a folder entry; None to skip it silently; Skipped on error."""
    try:
        if entry.is_symlink():
            if not follow:
                return None
            info = entry.stat(follow_symlinks=True)
        else:
            info = entry.stat(follow_symlinks=False)
    except OSError as exc:
        return Skipped(entry.path, _reason(exc, Path(entry.path)))
    return stat.S_ISDIR(info.st_mode), info


def _selected(rel: str, name: str, state: _State) -> bool:
    if state.select:
        return state.select.matches(rel, name, is_dir=False)
    return os.path.splitext(name)[1].lower() in SUPPORTED_SUFFIXES


def _list_dir(path: Path) -> list[os.DirEntry[str]] | Skipped:
    """The entries of a folder sorted by name, or why they cannot be listed."""
    try:
        with os.scandir(path) as it:
            return sorted(it, key=lambda entry: entry.name)
    except OSError as exc:
        return Skipped(str(path), _reason(exc, path))


def _key(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def _first_time(seen: set[tuple[int, int]], info: os.stat_result) -> bool:
    key = _key(info)
    if key in seen:
        return False
    seen.add(key)
    return True


def _reason(exc: OSError, path: Path) -> str:
    return os_error_reason(exc, path)


class _PatternSet:
    """Glob patterns (see the module docstring), compiled once to regexes."""

    def __init__(self, patterns: Iterable[str]):
        self._rules: list[tuple[re.Pattern[str], bool, bool]] = []
        for pattern in patterns:
            text = pattern.strip()
            dir_only = text.endswith("/")
            text = text.rstrip("/")
            while text.startswith("./"):
                text = text[2:]
            text = text.lstrip("/")
            if not text:
                continue
            self._rules.append((_glob_regex(text), "/" in text, dir_only))

    def matches(self, rel: str, name: str, is_dir: bool) -> bool:
        for regex, on_path, dir_only in self._rules:
            if dir_only and not is_dir:
                continue
            if regex.match(rel if on_path else name):
                return True
        return False


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a glob with ``**`` to an anchored, case-insensitive regex."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        char = pattern[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "^", "]") else i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end]
                negate = body[:1] in ("!", "^")
                body = body[1:] if negate else body
                escaped = "".join(c if c == "-" else re.escape(c) for c in body)
                out.append("[" + ("^/" if negate else "") + escaped + "]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("(?s:" + "".join(out) + r")\Z", re.IGNORECASE)
