"""Load the data files under ``patterns/``: YAML with line numbers, validated at load.

Every clinical term, header, trigger and rule lives in a data file. This module only
finds, parses and validates them; it knows no vocabulary. A malformed file raises
:class:`PatternError` naming the file and the line, which the CLI turns into exit 2.

Site pattern packs (extra folders) are merged over the built-in files: a list under
the same top-level key is appended, a mapping is updated key by key.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import yaml

from opnote_audit.errors import PatternError

_EXTRA_DIRS: tuple[Path, ...] = ()


class LineDict(dict):
    """A mapping parsed from YAML that remembers the line (1-based) it starts on."""

    line: int = 0
    source: str = ""


# libyaml's C parser when PyYAML was built with it (10x faster start-up), else the pure-Python one
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    mapping = LineDict()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "mapping key must be a scalar", key_node.start_mark
            )
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    mapping.line = node.start_mark.line + 1
    mapping.source = getattr(loader, "_source_name", "")
    return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def builtin_dir() -> Path:
    """The built-in ``patterns/`` folder: packaged in the wheel, or the repo's own."""
    here = Path(__file__).resolve().parent
    packaged = here / "patterns"
    if packaged.is_dir():
        return packaged
    repo = here.parent.parent / "patterns"
    if repo.is_dir():
        return repo
    raise PatternError(f"the built-in patterns folder is missing (looked in {packaged} and {repo})")


def set_extra_dirs(dirs: Iterable[str | Path]) -> None:
    """Register site pattern packs, merged over the built-in files (clears caches)."""
    global _EXTRA_DIRS
    resolved = []
    for d in dirs:
        p = Path(d)
        if not p.is_dir():
            raise PatternError(f"{p}: pattern folder not found")
        resolved.append(p.resolve())
    _EXTRA_DIRS = tuple(resolved)
    clear_caches()


def extra_dirs() -> tuple[Path, ...]:
    return _EXTRA_DIRS


_CACHE_CLEARERS: list[Any] = []


def cached(func):
    """``lru_cache`` that is also cleared when the pattern folders change."""
    wrapped = lru_cache(maxsize=None)(func)
    _CACHE_CLEARERS.append(wrapped)
    return wrapped


def clear_caches() -> None:
    for f in _CACHE_CLEARERS:
        f.cache_clear()


def rel(path: Path) -> str:
    """A short, stable name for a pattern file in messages."""
    try:
        return str(path.relative_to(builtin_dir().parent))
    except ValueError:
        return str(path)


def load_yaml(path: Path) -> Any:
    """Parse one YAML file; every mapping becomes a :class:`LineDict`."""
    name = rel(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PatternError(f"{name}: pattern file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PatternError(f"{name}: cannot read pattern file ({type(exc).__name__})") from None
    loader = _LineLoader(text)
    loader._source_name = name  # type: ignore[attr-defined]
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = exc.problem or exc.context or "invalid YAML"
        raise PatternError(f"{name}:{line}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:  # pragma: no cover - defensive
        raise PatternError(f"{name}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def _merge(base: Any, extra: Any, name: str) -> Any:
    if isinstance(base, dict) and isinstance(extra, dict):
        out = LineDict(base)
        out.line, out.source = getattr(base, "line", 0), getattr(base, "source", "")
        for k, v in extra.items():
            if k in out and isinstance(out[k], list) and isinstance(v, list):
                out[k] = out[k] + v
            elif k in out and isinstance(out[k], dict) and isinstance(v, dict):
                out[k] = _merge(out[k], v, name)
            else:
                out[k] = v
        return out
    raise PatternError(f"{name}: a site pack file must be a mapping like the built-in one")


@cached
def load(name: str) -> Any:
    """Load ``patterns/<name>`` (e.g. ``"approach.yml"``) merged with site packs."""
    data = load_yaml(builtin_dir() / name)
    if data is None:
        raise PatternError(f"{rel(builtin_dir() / name)}: pattern file is empty")
    for d in _EXTRA_DIRS:
        extra_file = d / name
        if extra_file.is_file():
            extra = load_yaml(extra_file)
            if extra is not None:
                data = _merge(data, extra, str(extra_file))
    return data


# ---------------------------------------------------------------- validation helpers

def where(obj: Any, default: str = "") -> str:
    """``file:line`` of a parsed mapping, for messages."""
    src = getattr(obj, "source", "") or default
    line = getattr(obj, "line", 0)
    return f"{src}:{line}" if line else src


def require(obj: Any, key: str, kind: type | tuple[type, ...], ctx: str = "") -> Any:
    """Return ``obj[key]`` or raise a PatternError naming the file and line."""
    if not isinstance(obj, dict):
        raise PatternError(f"{where(obj, ctx)}: expected a mapping, got {type(obj).__name__}")
    if key not in obj:
        raise PatternError(f"{where(obj, ctx)}: missing key '{key}'")
    val = obj[key]
    if not isinstance(val, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise PatternError(f"{where(obj, ctx)}: '{key}' must be {names}")
    return val


def check_keys(obj: Any, allowed: Iterable[str], ctx: str = "") -> None:
    if not isinstance(obj, dict):
        raise PatternError(f"{where(obj, ctx)}: expected a mapping, got {type(obj).__name__}")
    extra = set(obj) - set(allowed)
    if extra:
        raise PatternError(
            f"{where(obj, ctx)}: unknown key(s) {', '.join(sorted(map(str, extra)))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


# A regex from data must not backtrack catastrophically. Two checks:
# - structure (every regex): no unbounded repeat (+, *, {n,}) inside another unbounded repeat,
#   as in (a+)+, ((a+))+ or (a{1,})+;
# - a timed probe (regexes from site packs, which are not tested with the tool): the regex runs
#   on a few adversarial strings and must finish quickly; this catches overlapping alternatives
#   such as (a|aa)+$ that no simple inspection can (in a forked child, killed when too slow).
MAX_REGEX_LEN = 1000
PROBE_SECONDS = 0.5


def trie_regex(literals: Iterable[str]) -> str:
    """One regex source for many literals, factored as a trie: Python's engine scans it several
    times faster than a flat alternation. A space matches any run of white space; a literal
    that starts (ends) with a word character must start (end) on a word edge. At any position
    the longest literal that matches wins, as in a longest-first alternation. Literals are
    matched as written: lower-case them and match lower-cased text, or compile with
    IGNORECASE."""
    trie: dict = {}
    for lit in literals:
        node = trie
        for ch in lit:
            node = node.setdefault(ch, {})
        node[""] = True

    def build(node: dict, prev: str) -> str:
        alts = []
        for ch in sorted(k for k in node if k):
            piece = r"\s+" if ch == " " else re.escape(ch)
            alts.append(piece + build(node[ch], ch))
        if "" in node:
            alts.append(r"(?!\w)" if (prev.isalnum() or prev == "_") else "")
        if len(alts) == 1:
            return alts[0]
        return "(?:" + "|".join(alts) + ")"

    word = {k: v for k, v in trie.items() if k.isalnum() or k == "_"}
    other = {k: v for k, v in trie.items() if not (k.isalnum() or k == "_")}
    parts = []
    if word:
        parts.append(r"(?<!\w)" + build(word, ""))
    if other:
        parts.append(build(other, ""))
    return "|".join(f"(?:{p})" for p in parts)


def _nested_unbounded(items, inside: bool = False) -> bool:
    from re import _constants as c  # type: ignore[attr-defined]

    for op, av in items:
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            _lo, hi, sub = av
            unbounded = hi == c.MAXREPEAT
            if unbounded and inside:
                return True
            if _nested_unbounded(sub, inside or unbounded):
                return True
        elif op is c.SUBPATTERN:
            if _nested_unbounded(av[-1], inside):
                return True
        elif op is c.BRANCH:
            if any(_nested_unbounded(b, inside) for b in av[1]):
                return True
        elif op in (c.ASSERT, c.ASSERT_NOT):
            if _nested_unbounded(av[1], inside):
                return True
        elif op is getattr(c, "ATOMIC_GROUP", None):
            if _nested_unbounded(av, inside):
                return True
    return False


def _probe(rx: re.Pattern[str], ctx: Any) -> None:
    """Run the regex on adversarial texts in a forked child that is killed after
    PROBE_SECONDS (Python's regex engine holds the interpreter lock, so a thread cannot)."""
    import os
    import signal
    import time

    if not hasattr(os, "fork"):  # pragma: no cover - no fork (Windows): the structural check only
        return
    chars = sorted(set(re.findall(r"[A-Za-z0-9]", rx.pattern)))[:6] or ["a"]
    probes = [ch * 40 + "!" for ch in chars] + [" " * 40 + "!", "ab" * 20 + "!"]
    pid = os.fork()
    if pid == 0:  # the child: run the probes and leave without cleanup
        try:
            for text in probes:
                rx.search(text)
                rx.search(text.upper())
        finally:
            os._exit(0)
    deadline = time.monotonic() + PROBE_SECONDS
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.005)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise PatternError(
        f"{where(ctx)}: regex is too slow on a short test text (catastrophic backtracking risk)"
    )


def _from_site_pack(ctx: Any) -> bool:
    src = getattr(ctx, "source", "") or ""
    return bool(src) and not src.startswith("patterns/")


_CHECKED: dict[tuple[str, int, bool], re.Pattern[str]] = {}  # regexes already checked and compiled


def compile_regex(pattern: Any, ctx: Any, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """Compile a regex from data, rejecting ones that could backtrack catastrophically.
    Checked regexes are remembered, so calling this on every note costs a dictionary look-up."""
    key = (pattern, flags, _from_site_pack(ctx)) if isinstance(pattern, str) else None
    if key is not None and key in _CHECKED:
        return _CHECKED[key]
    if not isinstance(pattern, str) or not pattern:
        raise PatternError(f"{where(ctx)}: regex must be a non-empty string")
    if len(pattern) > MAX_REGEX_LEN:
        raise PatternError(f"{where(ctx)}: regex longer than {MAX_REGEX_LEN} characters")
    try:
        from re import _parser  # type: ignore[attr-defined]

        tree = _parser.parse(pattern, flags)
        compiled = re.compile(pattern, flags)
    except re.error as exc:
        raise PatternError(f"{where(ctx)}: invalid regex: {exc}") from None
    if _nested_unbounded(tree):
        raise PatternError(
            f"{where(ctx)}: regex has a nested unbounded quantifier (catastrophic backtracking risk)"
        )
    if _from_site_pack(ctx):
        _probe(compiled, ctx)
    _CHECKED[key] = compiled
    return compiled
