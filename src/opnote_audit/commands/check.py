"""``opnote-audit check NOTE``: audit one operative note."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from opnote_audit.cli import app
from opnote_audit.commands import FailOn, fails, use_color, user_errors, write_output


@app.command()
@user_errors
def check(
    note: str = typer.Argument(..., help="The operative note: .txt, .docx, .pdf or .rtf; '-' reads standard input."),
    code: Optional[str] = typer.Option(None, "--code", "-c", help="The code audited: 63102 (lumbar, the default) or 63101 (thoracic)."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="Output format: text (default), json or html."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report to this file instead of stdout."),
    fail_on: Optional[FailOn] = typer.Option(None, "--fail-on", help="Exit 1 when a finding reaches this severity (default: error)."),
    no_evidence: bool = typer.Option(False, "--no-evidence", help="Leave quoted note text out of the output."),
    patterns_dir: List[str] = typer.Option([], "--patterns", help="A site pattern pack folder merged over the built-in patterns (repeatable)."),
    width: Optional[int] = typer.Option(None, "--width", help="Width of the text report (default 80, or the terminal's)."),
    config_file: Optional[str] = typer.Option(None, "--config", help="Configuration file (default: the nearest .opnote-audit.toml or pyproject.toml [tool.opnote-audit])."),
    cpt: List[str] = typer.Option([], "--cpt", help="A billed CPT code: CODE[-MOD...][xUNITS], e.g. 63103x2, 22558-51, 63102-62 (repeatable); reviews the claim."),
    icd: List[str] = typer.Option([], "--icd", help="A billed ICD-10-CM diagnosis, e.g. C79.51 (repeatable); checked against the official tabular."),
) -> None:
    """Audit one operative note and report the documentation gaps."""
    from opnote_audit import config
    from opnote_audit.audit import audit_file, audit_text
    from opnote_audit.errors import UsageError
    from opnote_audit.report import FORMATS, RenderOptions, render
    from opnote_audit.readers import note_from_bytes

    eff = config.resolve({"code": code, "format": fmt, "fail-on": fail_on, "patterns": patterns_dir},
                         config_file, Path.cwd())
    code, fmt = eff.code, eff.format_for(FORMATS, "text")
    if output and note != "-" and Path(output).resolve() == Path(note).resolve():
        raise UsageError("--output must not be the note itself (the tool never writes a note)")
    claim = None
    if cpt or icd:
        from opnote_audit.claim import ClaimInput

        claim = ClaimInput.parse(cpt, icd)
    if note == "-":
        src = note_from_bytes(sys.stdin.buffer.read(), name="<stdin>")
        result = audit_text(src.text, code=code, file="<stdin>",
                            source={"format": src.format, "encoding": src.encoding, "chars": len(src.text)},
                            claim=claim)
    else:
        result = audit_file(note, code=code, claim=claim)
    result.findings = config.apply(result.findings, eff)
    color = use_color(sys.stdout) if output in (None, "-") else False
    options = RenderOptions(with_text=not no_evidence, color=color, width=width)
    if fmt == "html" and note == "-":
        from opnote_audit.report.html import render_page

        text = render_page(result, src.text, options)  # the note has no file to read back
    else:
        text = render(result, fmt, options)
    write_output(text, output)
    if fails(result.findings, eff.fail_on):
        raise typer.Exit(1)
