"""The command line: parse options, call the stages, pick a renderer. Nothing else.

Each command lives in ``opnote_audit/commands/<name>.py`` and registers itself on ``app``.
Command modules import only Typer at load time, so ``--help``, ``--version`` and ``rules``
start without loading spaCy.

Exit codes: 0 no finding reaches --fail-on; 1 a finding does; 2 usage or input error
(one line on stderr); 3 internal error (one line on stderr, never a traceback).
"""

from __future__ import annotations

import gc
import os
import sys

import typer

from opnote_audit import __version__

app = typer.Typer(
    name="opnote-audit",
    help="Audit operative notes for CPT 63101/63102/63103 documentation gaps before the claim goes out.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"opnote-audit {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """Audit operative notes for CPT 63101/63102/63103 documentation gaps."""


def _register() -> None:
    from opnote_audit.commands import check  # noqa: F401

    for optional in ("scan", "rules", "config", "eval"):
        try:
            __import__(f"opnote_audit.commands.{optional}")
        except ModuleNotFoundError as exc:
            if exc.name != f"opnote_audit.commands.{optional}":
                raise


def _click_exceptions():
    """Typer 0.29 vendors its own copy of Click (``typer._click``); older ones use Click."""
    try:
        from typer._click import exceptions  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - depends on the installed Typer
        from click import exceptions  # type: ignore[no-redef]
    return exceptions


def main() -> None:
    # Start-up builds about a million long-lived objects (spaCy, the compiled patterns), and
    # the garbage collector's full scans of them cost ~0.08 s of a one-note check while
    # finding nothing to free. It stays off for ``check`` (one note, then exit); commands
    # that audit many notes switch it back on after freezing the start-up objects
    # (``audit.warm_up``).
    gc.disable()
    click_exc = _click_exceptions()
    usage_error = getattr(click_exc, "UsageError", ())
    click_error = getattr(click_exc, "ClickException", ())
    abort = getattr(click_exc, "Abort", ())
    _register()
    try:
        code = app(standalone_mode=False)
    except SystemExit:
        raise
    except usage_error as exc:  # a bad option value or a missing argument: one line
        message = " ".join(exc.format_message().split())
        if message:  # an empty message is "no arguments": the help was shown
            path = exc.ctx.command_path if exc.ctx else "opnote-audit"
            sys.stderr.write(f"opnote-audit: error: {message} (see '{path} --help')\n")
        sys.exit(2)
    except click_error as exc:
        sys.stderr.write(f"opnote-audit: error: {' '.join(exc.format_message().split())}\n")
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, *((abort,) if isinstance(abort, type) else ())):
        sys.stderr.write("opnote-audit: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # never a traceback for the user
        if os.environ.get("OPNOTE_AUDIT_DEBUG"):
            raise
        sys.stderr.write(f"opnote-audit: internal error ({type(exc).__name__}); "
                         "set OPNOTE_AUDIT_DEBUG=1 to see the details\n")
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)
