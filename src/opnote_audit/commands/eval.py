"""``opnote-audit eval GOLD.jsonl``: measure the auditor against gold labels."""

from __future__ import annotations

import sys
from enum import Enum
from typing import List, Optional

import typer

from opnote_audit.cli import app
from opnote_audit.commands import use_color, user_errors, write_output


class EvalFormat(str, Enum):
    text = "text"
    json = "json"


@app.command("eval")
@user_errors
def eval_command(
    gold: str = typer.Argument(..., help="Gold labels: JSONL, one object per note (file, code, elements, segments)."),
    notes: Optional[str] = typer.Option(None, "--notes", "-n",
                                        help="Folder of the notes; default: GOLD's folder/notes if it exists, else GOLD's folder."),
    fmt: EvalFormat = typer.Option(EvalFormat.text, "--format", "-f", help="Output format: text or json."),
    show_disagreements: bool = typer.Option(True, "--show-disagreements/--no-show-disagreements",
                                            help="List every disagreement with the note's evidence."),
    no_evidence: bool = typer.Option(False, "--no-evidence", help="Give line numbers only, no quoted note text."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report to this file instead of stdout."),
    patterns_dir: List[str] = typer.Option([], "--patterns", help="A site pattern pack folder merged over the built-in patterns (repeatable)."),
    width: Optional[int] = typer.Option(None, "--width", help="Width of the text report (default 80)."),
) -> None:
    """Compare the audit of every labelled note with its gold labels: confusion, P/R/F1, values."""
    import json
    from pathlib import Path

    from opnote_audit import patterns
    from opnote_audit.errors import UsageError
    from opnote_audit.evaluate import evaluate
    from opnote_audit.report.eval_text import EvalRenderOptions, render, strip_text

    if width is not None and width < 40:
        raise UsageError("--width must be at least 40")
    if patterns_dir:
        patterns.set_extra_dirs(patterns_dir)
    gold_path = Path(gold)
    if notes is not None and not Path(notes).is_dir():
        raise UsageError(f"--notes {notes}: folder not found")
    if output and Path(output).resolve() == gold_path.resolve():
        raise UsageError("--output must not be the gold file itself")
    from opnote_audit.audit import warm_up

    warm_up()
    data = evaluate(gold_path, Path(notes) if notes is not None else None)
    if fmt is EvalFormat.json:
        shown = strip_text(data) if no_evidence else data
        if not show_disagreements:
            shown = {k: v for k, v in shown.items() if k != "disagreements"}
        text = json.dumps(shown, indent=2, ensure_ascii=False) + "\n"
    else:
        color = use_color(sys.stdout) if output in (None, "-") else False
        text = render(data, EvalRenderOptions(show_disagreements=show_disagreements,
                                              with_text=not no_evidence, color=color, width=width))
    write_output(text, output)
