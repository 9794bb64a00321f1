"""One module per command; each registers itself on ``opnote_audit.cli.app``."""

from __future__ import annotations

import functools
import os
import sys
from enum import Enum

import typer


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    never = "never"


SEVERITY_RANK = {"error": 2, "warning": 1, "info": 0}


def fails(findings, fail_on: str) -> bool:
    """Does any finding reach the --fail-on level?"""
    if fail_on == "never":
        return False
    floor = SEVERITY_RANK[fail_on]
    return any(SEVERITY_RANK.get(f.severity, 0) >= floor for f in findings)


def die(message: str, code: int = 2) -> None:
    """One line on stderr and the exit code; never a traceback."""
    sys.stderr.write(f"opnote-audit: error: {message}\n")
    raise typer.Exit(code)


def user_errors(func):
    """Turn the tool's own errors into one line on stderr and exit 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from opnote_audit.errors import OpnoteError

        try:
            return func(*args, **kwargs)
        except OpnoteError as exc:
            die(str(exc), exc.exit_code)
        except BrokenPipeError:
            try:
                sys.stdout = open(os.devnull, "w")
            except OSError:
                pass
            raise typer.Exit(1)

    return wrapper


def use_color(stream) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


def write_output(text: str, output: str | None) -> None:
    """Write to --output (never over an input note) or to stdout."""
    if output in (None, "-"):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from pathlib import Path

    from opnote_audit.errors import UsageError

    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{output}: cannot write output ({exc.strerror or type(exc).__name__})") from None
