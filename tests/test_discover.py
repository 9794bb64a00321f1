"""discover: which files `opnote-audit scan PATH...` audits, in which order, and what it skips."""

from __future__ import annotations

import inspect
import os
import sys
import time
from pathlib import Path

import pytest

from opnote_audit.discover import Skipped, iter_note_files


def make_tree(root: Path, files: list[str]) -> None:
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"L2 corpectomy\n")


def found(paths, root: Path, **kwargs) -> list[str]:
    """Results as strings relative to ``root`` (Skipped shown as 'SKIP path: reason')."""
    out = []
    for item in iter_note_files(paths, **kwargs):
        if isinstance(item, Skipped):
            out.append(f"SKIP {os.path.relpath(item.path, root)}: {item.reason}")
        else:
            out.append(item.relative_to(root).as_posix())
    return out


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    make_tree(
        tmp_path,
        [
            "notes/b.txt",
            "notes/a.TXT",
            "notes/a/z.docx",
            "notes/a/y.pdf",
            "notes/a.b/c.rtf",
            "notes/2026/03/op1.docx",
            "notes/2026/op2.docx",
            "notes/2026/op3.txt",
            "notes/old/2026/op4.docx",
            "notes/drafts/d1.txt",
            "notes/image.png",
            "notes/readme.md",
            "notes/dict.note",
            "notes/misc.text",
            "notes/.hidden.txt",
            "notes/.git/HEAD.txt",
            "notes/~$lock.docx",
        ],
    )
    return tmp_path


ALL_DEFAULT = [
    "notes/2026/03/op1.docx",
    "notes/2026/op2.docx",
    "notes/2026/op3.txt",
    "notes/a/y.pdf",
    "notes/a/z.docx",
    "notes/a.TXT",
    "notes/a.b/c.rtf",
    "notes/b.txt",
    "notes/dict.note",
    "notes/drafts/d1.txt",
    "notes/misc.text",
    "notes/old/2026/op4.docx",
]


def test_default_selection_order_and_hidden(tree):
    assert found([tree / "notes"], tree) == ALL_DEFAULT


def test_order_is_path_order(tree):
    paths = [p for p in iter_note_files([tree / "notes"]) if isinstance(p, Path)]
    assert paths == sorted(paths)


def test_is_a_lazy_generator(tree):
    result = iter_note_files([tree / "notes"])
    assert inspect.isgenerator(result)
    assert next(result) == tree / "notes/2026/03/op1.docx"


def test_relative_paths_keep_their_form(tree, monkeypatch):
    monkeypatch.chdir(tree)
    assert [str(p) for p in iter_note_files(["notes/a"])] == ["notes/a/y.pdf", "notes/a/z.docx"]


def test_glob_on_name(tree):
    assert found([tree / "notes"], tree, glob=["*.docx"]) == [
        "notes/2026/03/op1.docx",
        "notes/2026/op2.docx",
        "notes/a/z.docx",
        "notes/old/2026/op4.docx",
    ]


def test_glob_on_relative_path_with_double_star(tree):
    # "**/" spans zero or more folders; the pattern is anchored at the given folder.
    assert found([tree / "notes"], tree, glob=["2026/**/*.docx"]) == [
        "notes/2026/03/op1.docx",
        "notes/2026/op2.docx",
    ]


def test_glob_star_stays_within_one_folder(tree):
    assert found([tree / "notes"], tree, glob=["2026/*.docx"]) == ["notes/2026/op2.docx"]


def test_glob_is_case_insensitive_and_can_select_any_suffix(tree):
    assert found([tree / "notes"], tree, glob=["A.txt", "*.MD", "op[!34].*"]) == [
        "notes/2026/03/op1.docx",
        "notes/2026/op2.docx",
        "notes/a.TXT",
        "notes/readme.md",
    ]


def test_exclude_prunes_folders_and_drops_files(tree):
    # "2026/" has no inner slash: like .gitignore it matches a folder of that name anywhere.
    assert found([tree / "notes"], tree, exclude=["drafts", "2026/", "*.pdf", "a.b/c.rtf"]) == [
        "notes/a/z.docx",
        "notes/a.TXT",
        "notes/b.txt",
        "notes/dict.note",
        "notes/misc.text",
    ]


def test_exclude_with_slash_is_relative_to_the_given_folder(tree):
    assert found([tree / "notes"], tree, exclude=["old/2026"], glob=["*.docx"]) == [
        "notes/2026/03/op1.docx",
        "notes/2026/op2.docx",
        "notes/a/z.docx",
    ]


def test_trailing_slash_matches_folders_only(tree):
    make_tree(tree, ["notes/x/a.txt"])
    (tree / "notes/a.txt").write_bytes(b"L2")
    assert "notes/a.txt" not in found([tree / "notes"], tree, exclude=["a.txt"])
    result = found([tree / "notes"], tree, exclude=["a.txt/"])
    assert "notes/a.txt" in result and "notes/x/a.txt" in result


def test_explicit_file_yielded_even_if_hidden_or_unsupported(tree):
    notes = tree / "notes"
    assert found([notes / ".hidden.txt", notes / "image.png"], tree) == [
        "notes/.hidden.txt",
        "notes/image.png",
    ]


def test_explicit_hidden_folder_is_walked(tree):
    assert found([tree / "notes/.git"], tree) == ["notes/.git/HEAD.txt"]


def test_explicit_file_is_subject_to_glob_and_exclude(tree):
    notes = tree / "notes"
    assert found([notes / "b.txt", notes / "a/z.docx"], tree, glob=["*.docx"]) == ["notes/a/z.docx"]
    assert found([notes / "b.txt", notes / "a/z.docx"], tree, exclude=["*.docx"]) == ["notes/b.txt"]


def test_missing_path(tree):
    assert found([tree / "nope", tree / "notes/b.txt"], tree) == [
        "SKIP nope: no such file",
        "notes/b.txt",
    ]


def test_arguments_keep_their_order_and_files_come_once(tree):
    notes = tree / "notes"
    assert found([notes / "b.txt", notes / "a", notes / "a/z.docx", notes / "a"], tree) == [
        "notes/b.txt",
        "notes/a/y.pdf",
        "notes/a/z.docx",
    ]
    # a folder inside a folder already walked is not walked again
    assert found([notes, notes / "2026"], tree) == ALL_DEFAULT


def test_symlinks_not_followed_by_default(tmp_path):
    make_tree(tmp_path, ["outside/secret.txt", "notes/real.txt"])
    (tmp_path / "notes/linked_dir").symlink_to(tmp_path / "outside")
    (tmp_path / "notes/linked.txt").symlink_to(tmp_path / "outside/secret.txt")
    (tmp_path / "notes/broken.txt").symlink_to(tmp_path / "gone.txt")
    assert found([tmp_path / "notes"], tmp_path) == ["notes/real.txt"]


def test_symlinks_followed_on_request(tmp_path):
    make_tree(tmp_path, ["outside/secret.txt", "notes/real.txt"])
    (tmp_path / "notes/linked_dir").symlink_to(tmp_path / "outside")
    (tmp_path / "notes/linked.txt").symlink_to(tmp_path / "outside/secret.txt")
    (tmp_path / "notes/broken.txt").symlink_to(tmp_path / "gone.txt")
    assert found([tmp_path / "notes"], tmp_path, follow_symlinks=True) == [
        "SKIP notes/broken.txt: broken symbolic link (its target does not exist)",
        "notes/linked.txt",
        "notes/real.txt",
    ]  # linked_dir/secret.txt is the same file as linked.txt: yielded once


def test_explicit_symlinks_are_followed(tmp_path):
    make_tree(tmp_path, ["outside/secret.txt"])
    (tmp_path / "dir_link").symlink_to(tmp_path / "outside")
    (tmp_path / "file_link.txt").symlink_to(tmp_path / "outside/secret.txt")
    (tmp_path / "broken.txt").symlink_to(tmp_path / "gone.txt")
    assert found([tmp_path / "dir_link", tmp_path / "broken.txt"], tmp_path) == [
        "dir_link/secret.txt",
        "SKIP broken.txt: broken symbolic link (its target does not exist)",
    ]
    assert found([tmp_path / "file_link.txt"], tmp_path) == ["file_link.txt"]


def test_symlink_loop_with_follow_terminates(tmp_path):
    make_tree(tmp_path, ["notes/sub/a.txt"])
    (tmp_path / "notes/sub/up").symlink_to(tmp_path / "notes")  # back to an ancestor
    (tmp_path / "notes/self").symlink_to(tmp_path / "notes/self")  # a link to itself
    (tmp_path / "notes/ping").symlink_to(tmp_path / "notes/pong")
    (tmp_path / "notes/pong").symlink_to(tmp_path / "notes/ping")
    assert found([tmp_path / "notes"], tmp_path, follow_symlinks=True) == [
        "SKIP notes/ping: symbolic link loop (too many levels of symbolic links)",
        "SKIP notes/pong: symbolic link loop (too many levels of symbolic links)",
        "SKIP notes/self: symbolic link loop (too many levels of symbolic links)",
        "notes/sub/a.txt",
        "SKIP notes/sub/up: symbolic link loop (points back to an enclosing folder)",
    ]
    # and without follow_symlinks the links are simply ignored
    assert found([tmp_path / "notes"], tmp_path) == ["notes/sub/a.txt"]


def test_explicit_symlink_loop(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert found([tmp_path / "a"], tmp_path) == [
        "SKIP a: symbolic link loop (too many levels of symbolic links)"
    ]


def test_sibling_link_to_walked_folder_is_not_a_loop(tmp_path):
    make_tree(tmp_path, ["notes/a/x.txt"])
    (tmp_path / "notes/b").symlink_to(tmp_path / "notes/a")
    assert found([tmp_path / "notes"], tmp_path, follow_symlinks=True) == ["notes/a/x.txt"]


def test_fifo_matching_the_selection_is_skipped(tmp_path):
    make_tree(tmp_path, ["notes/a.txt"])
    os.mkfifo(tmp_path / "notes/pipe.txt")
    os.mkfifo(tmp_path / "notes/pipe.other")
    assert found([tmp_path / "notes"], tmp_path) == [
        "notes/a.txt",
        "SKIP notes/pipe.txt: not a regular file",
    ]
    assert found([tmp_path / "notes/pipe.txt"], tmp_path) == [
        "SKIP notes/pipe.txt: not a regular file or directory"
    ]


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="running as root: root can list a mode-000 folder, so permission is never denied",
)
def test_permission_denied_folder_real(tmp_path):
    make_tree(tmp_path, ["notes/a.txt", "notes/locked/b.txt", "notes/z.txt"])
    (tmp_path / "notes/locked").chmod(0)
    try:
        assert found([tmp_path / "notes"], tmp_path) == [
            "notes/a.txt",
            "SKIP notes/locked: permission denied",
            "notes/z.txt",
        ]
    finally:
        (tmp_path / "notes/locked").chmod(0o700)


def test_permission_denied_folder(tmp_path, monkeypatch):
    """os.scandir failing on one folder as it does for a non-root user: walk goes on."""
    make_tree(tmp_path, ["notes/a.txt", "notes/locked/b.txt", "notes/z.txt"])
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr("opnote_audit.discover.os.scandir", scandir)
    assert found([tmp_path / "notes"], tmp_path) == [
        "notes/a.txt",
        "SKIP notes/locked: permission denied",
        "notes/z.txt",
    ]


def test_deep_nesting_has_no_recursion_limit(tmp_path):
    """A 200-deep tree walked with only 100 stack frames to spare: the walk must not recurse.

    (A tree deeper than Python's own limit would break pytest's recursive tmp cleanup.)
    """
    deep = tmp_path.joinpath(*["d"] * 200)
    deep.mkdir(parents=True)
    (deep / "n.txt").write_bytes(b"L2")
    walker = iter_note_files([tmp_path])
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 100)
    try:
        result = list(walker)
    finally:
        sys.setrecursionlimit(old_limit)
    assert result == [deep / "n.txt"]


def test_ten_thousand_files(tmp_path):
    for folder in range(20):
        sub = tmp_path / f"f{folder:02d}"
        sub.mkdir()
        for i in range(520):
            (sub / f"n{i:04d}.txt").touch()
    start = time.perf_counter()
    result = list(iter_note_files([tmp_path]))
    elapsed = time.perf_counter() - start
    assert len(result) == 10_400
    assert result[0] == tmp_path / "f00/n0000.txt" and result[-1] == tmp_path / "f19/n0519.txt"
    assert elapsed < 5.0
