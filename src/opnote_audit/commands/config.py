"""``opnote-audit config``: print the effective configuration and where each value came from.

Takes the same overriding options as ``check`` so a user can see what a run would use:
defaults, then the configuration file, then the command line. Also lists the site pattern
packs in use and the pattern files each contributes, after validating them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from opnote_audit.cli import app
from opnote_audit.commands import FailOn, user_errors, write_output


def _toml(value) -> str:
    """A value written as TOML (strings, lists and inline tables are all the config holds)."""
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))


def render_text(eff) -> str:
    """The effective configuration as TOML, each line commented with where its value came from."""
    from opnote_audit.config import KEYS

    lines = [f"# config file: {eff.config_file or '(none)'} [{eff.config_how}]"]
    values = dict(eff.values, patterns=[str(p) for p in eff.patterns])
    body = []
    for key in KEYS:
        if key == "select" and values[key] is None:
            body.append(("# select: every rule", eff.sources[key]))
        elif key == "format" and eff.sources[key] == "default":
            body.append(("# format: each command's own (check: text, scan: table)", eff.sources[key]))
        else:
            body.append((f"{key} = {_toml(values[key])}", eff.sources[key]))
    width = max(len(b) for b, _ in body)
    lines += [f"{b.ljust(width)}  # from: {src}" for b, src in body]
    lines.append("")
    if not eff.packs:
        lines.append("# site pattern packs: none (built-in patterns only)")
    else:
        lines.append("# site pattern packs, merged over the built-in patterns in this order:")
        for pack in eff.packs:
            lines.append(f"#   {pack.folder}")
            for f in pack.files:
                adds = ", ".join(f"{k} {v}" for k, v in f.adds.items()) or "empty"
                lines.append(f"#     {f.name}: {adds}")
    return "\n".join(lines) + "\n"


@app.command("config")
@user_errors
def config_command(
    config_file: Optional[str] = typer.Option(None, "--config", help="Use this configuration file instead of searching for one."),
    code: Optional[str] = typer.Option(None, "--code", "-c", help="Override the code audited."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="Override the output format setting."),
    fail_on: Optional[FailOn] = typer.Option(None, "--fail-on", help="Override the --fail-on level."),
    patterns_dir: List[str] = typer.Option([], "--patterns", help="Override the site pattern pack folders (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the effective configuration as JSON."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Show the effective configuration, where each value came from, and the site packs in use."""
    from opnote_audit import config

    eff = config.resolve({"code": code, "format": fmt, "fail-on": fail_on, "patterns": patterns_dir},
                         config_file, Path.cwd())
    if eff.packs:
        _validate_packs()
    text = json.dumps(eff.to_dict(), indent=2) + "\n" if as_json else render_text(eff)
    write_output(text, output)


def _validate_packs() -> None:
    """Compile every merged term and rule file as an audit would, so pack errors show here."""
    from opnote_audit import nlp
    from opnote_audit.rules import catalogue

    catalogue()
    nlp.get_term_matcher()
