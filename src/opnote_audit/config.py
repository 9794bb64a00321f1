"""Configuration: find the config file, validate it, merge it with the command line.

Where settings come from, lowest to highest priority:

1. the built-in defaults;
2. one configuration file: ``--config FILE``, else the nearest ``.opnote-audit.toml`` or
   ``pyproject.toml`` holding a ``[tool.opnote-audit]`` table, searched upward from the
   working folder (in each folder ``.opnote-audit.toml`` is looked at first);
3. the command-line options the user actually gave (a value of ``None`` means "not given").

Keys: ``code``, ``fail-on``, ``select``, ``ignore``, ``severity``, ``patterns``, ``format``.
Any unknown key or bad value raises :class:`ConfigError` naming the file, the key and what
is allowed. :func:`resolve` returns an :class:`Effective` configuration that remembers where
each value came from; :func:`apply` filters and re-grades findings with it.

This module must stay importable without spaCy (``opnote-audit config`` and ``rules``).
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Iterable

from opnote_audit import patterns
from opnote_audit.errors import ConfigError, OpnoteError, UsageError
from opnote_audit.models import SEVERITIES, Finding

CONFIG_NAME = ".opnote-audit.toml"
PYPROJECT = "pyproject.toml"
TOOL_TABLE = "opnote-audit"

DEFAULT = "default"
COMMAND_LINE = "command line"

KEYS = ("code", "fail-on", "select", "ignore", "severity", "patterns", "format")
FAIL_ON = ("error", "warning", "never")
# Formats some command renders; ``check`` renders those in report.FORMATS, ``scan`` its own.
STREAM_FORMATS = ("jsonl", "csv", "table")


# ---------------------------------------------------------------- the result


@dataclass(frozen=True)
class PackFile:
    """One pattern file of a site pack and what it adds to the built-in file."""

    name: str                      # e.g. "approach.yml"
    path: Path
    adds: dict[str, str]           # top-level key -> "+3 entries" / "2 keys" / "set"


@dataclass(frozen=True)
class Pack:
    folder: Path
    files: tuple[PackFile, ...]


@dataclass
class Effective:
    """The effective configuration: a value and its source for every key.

    ``sources[key]`` is ``"default"``, the path of the configuration file, or
    ``"command line"``. ``select`` is ``None`` when every rule is reported.
    """

    values: dict[str, Any]
    sources: dict[str, str]
    config_file: Path | None = None
    config_how: str = "none found"    # "--config", "found from <cwd>", "none found"
    packs: list[Pack] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.values["code"]

    @property
    def fail_on(self) -> str:
        return self.values["fail-on"]

    @property
    def select(self) -> list[str] | None:
        return self.values["select"]

    @property
    def ignore(self) -> list[str]:
        return self.values["ignore"]

    @property
    def severity(self) -> dict[str, str]:
        return self.values["severity"]

    @property
    def patterns(self) -> list[Path]:
        return self.values["patterns"]

    @property
    def format(self) -> str:
        return self.values["format"]

    def format_for(self, formats: Iterable[str], default: str) -> str:
        """The output format for a command that renders ``formats`` (its own default otherwise).

        One ``format`` key serves every command: a file's value applies to the commands that
        render it (``jsonl`` to scan, ``json`` to check); the others keep their default. A
        command-line value is returned as given, for the command to validate.
        """
        source = self.sources["format"]
        if source == COMMAND_LINE:
            return self.format
        if source != DEFAULT and self.format in list(formats):
            return self.format
        return default

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view: values, sources, the config file and the packs."""
        vals = dict(self.values)
        vals["patterns"] = [str(p) for p in self.patterns]
        return {
            "config_file": str(self.config_file) if self.config_file else None,
            "config_how": self.config_how,
            "settings": {k: {"value": vals[k], "source": self.sources[k]} for k in KEYS},
            "packs": [
                {"folder": str(p.folder),
                 "files": [{"name": f.name, "path": str(f.path), "adds": f.adds} for f in p.files]}
                for p in self.packs
            ],
        }


# ---------------------------------------------------------------- discovery


def _mentions_tool(path: Path) -> bool:
    try:
        return TOOL_TABLE.encode() in path.read_bytes()
    except OSError:
        return False


def discover(cwd: Path) -> Path | None:
    """The nearest config file from ``cwd`` upward, or None.

    In each folder ``.opnote-audit.toml`` wins over ``pyproject.toml``; a ``pyproject.toml``
    counts only when it has a ``[tool.opnote-audit]`` table.
    """
    here = Path(cwd).resolve()
    for folder in (here, *here.parents):
        own = folder / CONFIG_NAME
        if own.is_file():
            return own
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and _mentions_tool(pyproject):
            table = _read_toml(pyproject).get("tool", {})
            if isinstance(table, dict) and TOOL_TABLE in table:
                return pyproject
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a configuration file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration file ({exc.strerror or type(exc).__name__})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def read_file(path: Path) -> tuple[dict[str, Any], str]:
    """The settings table of a config file and the prefix naming its keys in messages."""
    data = _read_toml(path)
    if path.name == PYPROJECT:
        tool = data.get("tool", {})
        table = tool.get(TOOL_TABLE) if isinstance(tool, dict) else None
        if table is None:
            raise ConfigError(f"{path}: no [tool.{TOOL_TABLE}] table")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: 'tool.{TOOL_TABLE}' must be a table")
        return table, f"tool.{TOOL_TABLE}."
    return data, ""


# ---------------------------------------------------------------- validation


def _rule_ids() -> list[str]:
    from opnote_audit.rules import catalogue

    return list(catalogue())


def _formats() -> list[str]:
    from opnote_audit.report import FORMATS

    return list(dict.fromkeys([*FORMATS, *STREAM_FORMATS]))


def _codes() -> list[str]:
    return [str(c) for c in patterns.load("codes.yml").get("auditable", [])]


def _default_code() -> str:
    return str(patterns.load("codes.yml").get("default_code", "63102"))


class _Checker:
    """Validates one source of settings; every message names the source, the key, what is allowed."""

    def __init__(self, origin: str, prefix: str = "", base: Path | None = None):
        self.origin = origin          # a file path, or "command line"
        self.prefix = prefix          # "tool.opnote-audit." inside pyproject.toml
        self.base = base              # folder that relative pattern folders start from

    @property
    def cli(self) -> bool:
        return self.origin == COMMAND_LINE

    def fail(self, key: str, problem: str) -> OpnoteError:
        if self.cli:
            return UsageError(f"--{key} {problem}")
        return ConfigError(f"{self.origin}: '{self.prefix}{key}' {problem}")

    def choice(self, key: str, value: Any, allowed: Iterable[str]) -> str:
        allowed = list(allowed)
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.fail(key, f"must be a string, one of: {', '.join(allowed)}")
        if str(value) not in allowed:
            if self.cli:  # the wording every command uses for its own options
                raise UsageError(f"unknown --{key} {value}: choose one of {', '.join(allowed)}")
            raise self.fail(key, f"has unknown value '{value}'; allowed: {', '.join(allowed)}")
        return str(value)

    def str_list(self, key: str, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        return list(value)

    def rule_ids(self, key: str, value: Any) -> list[str]:
        ids = self.str_list(key, value)
        known = _rule_ids()
        for rid in ids:
            if rid not in known:
                raise self.fail(key, _unknown_rule(rid, known))
        return ids

    def severity(self, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise self.fail("severity", f"must be a table of rule id = {' | '.join(SEVERITIES)}")
        known = _rule_ids()
        out: dict[str, str] = {}
        for rid, sev in value.items():
            if rid not in known:
                raise self.fail(f"severity.{rid}", _unknown_rule(rid, known))
            if sev not in SEVERITIES:
                raise self.fail(f"severity.{rid}", f"has unknown severity {sev!r}; allowed: {', '.join(SEVERITIES)}")
            out[rid] = sev
        return out

    def folders(self, key: str, value: Any) -> list[Path]:
        base = self.base or Path.cwd()
        out: list[Path] = []
        for entry in self.str_list(key, value):
            folder = Path(entry).expanduser()
            folder = folder if folder.is_absolute() else base / folder
            if not folder.is_dir() and self.cli:
                raise UsageError(f"{entry}: pattern folder not found (given with --patterns)")
            if not folder.is_dir():
                raise self.fail(key, f"names a pattern folder that does not exist: {folder} "
                                     f"(allowed: existing folders, relative to {base})")
            out.append(folder.resolve())
        return out


def _unknown_rule(rid: str, known: list[str]) -> str:
    close = difflib.get_close_matches(rid, known, n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return f"names unknown rule id '{rid}'{hint}; allowed: the ids listed by `opnote-audit rules`"


def _normalise_cli(cli: dict[str, Any]) -> dict[str, Any]:
    """Keys with underscores become hyphens; None, empty lists and empty tables mean 'not given'."""
    out: dict[str, Any] = {}
    for key, value in cli.items():
        key = key.replace("_", "-")
        if key not in KEYS:
            raise ValueError(f"config.resolve: unknown command-line key {key!r}")
        if isinstance(value, Enum):  # such as commands.FailOn
            value = value.value
        if value is None or (isinstance(value, (list, tuple, dict)) and not value):
            continue
        out[key] = list(value) if isinstance(value, tuple) else value
    return out


# ---------------------------------------------------------------- site packs


def _activate(folders: list[Path]) -> None:
    if tuple(folders) != patterns.extra_dirs():
        patterns.set_extra_dirs(folders)


def inspect_pack(folder: Path) -> Pack:
    """List and check a site pack's files: each must be a built-in file name with known top-level keys."""
    builtin = patterns.builtin_dir()
    known = sorted(p.name for p in builtin.glob("*.yml"))
    files: list[PackFile] = []
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        if path.name not in known:
            close = difflib.get_close_matches(path.name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(f"{path}: site pack file has no built-in counterpart{hint}; "
                              f"allowed names: {', '.join(known)}")
        data = patterns.load_yaml(path)
        if data is None:
            files.append(PackFile(path.name, path, {}))
            continue
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a site pack file must be a mapping like the built-in one")
        base = patterns.load_yaml(builtin / path.name) or {}
        unknown = sorted(str(k) for k in data if k not in base)
        if unknown:
            raise ConfigError(f"{path}: unknown top-level key(s) {', '.join(unknown)}; "
                              f"allowed: {', '.join(sorted(map(str, base)))}")
        adds: dict[str, str] = {}
        for key, value in data.items():
            if isinstance(value, list):
                if not isinstance(base[key], list):
                    raise ConfigError(f"{path}: '{key}' must be a {type(base[key]).__name__} like the built-in one")
                adds[str(key)] = f"+{len(value)} entr{'y' if len(value) == 1 else 'ies'}"
            elif isinstance(value, dict):
                adds[str(key)] = f"{len(value)} key{'' if len(value) == 1 else 's'} merged"
            else:
                adds[str(key)] = "replaced"
        files.append(PackFile(path.name, path, adds))
    if not files:
        raise ConfigError(f"{folder}: pattern folder has no .yml files; allowed names: {', '.join(known)}")
    return Pack(folder, tuple(files))


# ---------------------------------------------------------------- resolve and apply


def _defaults() -> dict[str, Any]:
    return {"code": _default_code(), "fail-on": "error", "select": None, "ignore": [],
            "severity": {}, "patterns": [], "format": "text"}


def _validate(raw: dict[str, Any], check: _Checker, pattern_base: Path | None) -> dict[str, Any]:
    unknown = [k for k in raw if k not in KEYS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], KEYS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise check.fail(unknown[0], f"is not a known key{hint}; allowed: {', '.join(KEYS)}")
    out: dict[str, Any] = {}
    # pattern folders first: a site pack may add rules that select/ignore/severity name
    if "patterns" in raw:
        check.base = pattern_base
        out["patterns"] = check.folders("patterns", raw["patterns"])
    if "code" in raw:
        out["code"] = check.choice("code", raw["code"], _codes())
    if "fail-on" in raw:
        out["fail-on"] = check.choice("fail-on", raw["fail-on"], FAIL_ON)
    if "format" in raw:  # a command validates its own --format against the formats it renders
        out["format"] = raw["format"] if check.cli else check.choice("format", raw["format"], _formats())
    return out


def _validate_rules(raw: dict[str, Any], check: _Checker) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("select", "ignore"):
        if key in raw:
            out[key] = check.rule_ids(key, raw[key])
    if "severity" in raw:
        out["severity"] = check.severity(raw["severity"])
    return out


def resolve(cli: dict[str, Any], config_path: str | Path | None, cwd: Path) -> Effective:
    """The effective configuration for a command run in ``cwd``.

    ``cli`` holds the command-line values, keyed like the config (``"fail-on"`` or
    ``"fail_on"``); ``None`` or an empty list means the option was not given. Relative
    ``--patterns`` folders start from ``cwd``; a file's ``patterns`` from the file's folder.
    Side effect: the effective site packs become the active pattern folders
    (:func:`opnote_audit.patterns.set_extra_dirs`), so rule ids they add are known.
    """
    cwd = Path(cwd)
    if config_path is not None:
        path = Path(config_path)
        path = (path if path.is_absolute() else cwd / path)
        if not path.exists():
            raise ConfigError(f"{config_path}: configuration file not found (given with --config)")
        how = "--config"
    else:
        path = discover(cwd)
        how = f"found from {cwd.resolve()}" if path else "none found"

    values = _defaults()
    sources = {k: DEFAULT for k in KEYS}
    file_raw: dict[str, Any] = {}
    file_check: _Checker | None = None
    if path is not None:
        path = path.resolve()
        file_raw, prefix = read_file(path)
        file_check = _Checker(str(path), prefix)
        file_vals = _validate(file_raw, file_check, path.parent)
        _set(values, sources, file_vals, str(path))

    cli_raw = _normalise_cli(cli)
    cli_check = _Checker(COMMAND_LINE)
    cli_vals = _validate(cli_raw, cli_check, cwd)
    _set(values, sources, cli_vals, COMMAND_LINE)

    try:
        _activate(values["patterns"])
        packs = [inspect_pack(folder) for folder in values["patterns"]]
        if file_check is not None:
            _set(values, sources, _validate_rules(file_raw, file_check), str(path))
        _set(values, sources, _validate_rules(cli_raw, cli_check), COMMAND_LINE)
    except OpnoteError:
        _activate([])
        raise
    return Effective(values, sources, path, how, packs)


def _set(values: dict[str, Any], sources: dict[str, str], new: dict[str, Any], origin: str) -> None:
    for key, value in new.items():
        values[key] = value
        sources[key] = origin


def apply(findings: Iterable[Finding], effective: Effective) -> list[Finding]:
    """Keep the selected, not ignored findings, with the configured severities."""
    return apply_rules(findings, effective.select, effective.ignore, effective.severity)


def apply_rules(findings: Iterable[Finding], select: Iterable[str] | None, ignore: Iterable[str],
                severity: dict[str, str]) -> list[Finding]:
    """:func:`apply` from plain values (what a scan worker process receives)."""
    out: list[Finding] = []
    chosen = set(select) if select is not None else None
    ignored = set(ignore)
    for f in findings:
        if (chosen is not None and f.rule not in chosen) or f.rule in ignored:
            continue
        sev = severity.get(f.rule)
        out.append(dataclasses.replace(f, severity=sev) if sev and sev != f.severity else f)
    return out
