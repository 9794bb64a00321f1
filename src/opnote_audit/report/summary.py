"""The batch summary of ``opnote-audit scan --format table`` (Rich).

:class:`BatchSummary` takes records one at a time (the contract dict of an audited
note, or an error record) and keeps only what the summary prints: one small row per
note and running counts. :meth:`BatchSummary.write` prints, in this order:

1. a header: how many files, how many support the code, have gaps, could not be read;
2. one row per note: file, verdict, errors, warnings, the elements not documented;
3. the rate of each gap over the notes audited ("approach insufficient in 34% of notes");
4. the most frequent rules (by the number of notes they fire in);
5. the notes with the most errors;
6. the files that could not be read, with the reason.

It reads well at 80 columns without colour: verdicts and statuses are words, numbers
are right-aligned, long names fold. The per-note table is printed in blocks of
:data:`BLOCK` rows with fixed column widths, so a large batch never builds one huge table.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from opnote_audit.models import ELEMENTS

#: Rows of the per-note table rendered at a time.
BLOCK = 500
#: How many rules and notes the "most frequent" lists show.
TOP_RULES = 10
TOP_NOTES = 5
#: The narrowest "Not documented" column of the per-note table.
MIN_GAPS_WIDTH = 16
GAP_STATUSES = ("insufficient", "missing", "conflict")
VERDICT_STYLE = {"supports": "green", "gaps": "red", "unreadable": "bold red"}
SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "cyan"}


@dataclass(frozen=True)
class NoteRow:
    """What the summary keeps of one note."""

    file: str
    verdict: str          # supports, gaps, unreadable
    errors: int
    warnings: int
    gaps: tuple[str, ...]  # elements not documented, in element order
    reason: str = ""       # why the file could not be read


class BatchSummary:
    """Running summary of a batch; memory is one :class:`NoteRow` per note."""

    def __init__(self, code: str = "63102"):
        self.code = code
        self.rows: list[NoteRow] = []
        self.audited = 0
        self.gap_counts: Counter[tuple[str, str]] = Counter()
        self.rule_notes: Counter[str] = Counter()
        self.rule_severity: dict[str, str] = {}

    # ------------------------------------------------------------ collect

    def add(self, record: dict) -> None:
        if "error" in record:
            self.rows.append(NoteRow(record["file"], "unreadable", 0, 0, (), record["error"]))
            return
        self.audited += 1
        elements = record["elements"]
        gaps = []
        for name in ELEMENTS:
            status = elements.get(name, {}).get("status")
            if status in GAP_STATUSES:
                gaps.append(name)
                self.gap_counts[(name, status)] += 1
        for finding in record["findings"]:
            self.rule_severity.setdefault(finding["rule"], finding["severity"])
        self.rule_notes.update(set(f["rule"] for f in record["findings"]))
        summary = record["summary"]
        self.rows.append(NoteRow(record["file"], record["verdict"], summary["errors"],
                                 summary["warnings"], tuple(gaps)))

    @property
    def unreadable(self) -> list[NoteRow]:
        return [row for row in self.rows if row.verdict == "unreadable"]

    def gap_rates(self) -> list[tuple[str, str, int]]:
        """(element, status, notes), most frequent first, then element and status order."""
        order = {(e, s): (i, j) for i, e in enumerate(ELEMENTS) for j, s in enumerate(GAP_STATUSES)}
        return sorted(((e, s, n) for (e, s), n in self.gap_counts.items()),
                      key=lambda t: (-t[2], order[(t[0], t[1])]))

    def top_rules(self, limit: int = TOP_RULES) -> list[tuple[str, str, int]]:
        """(rule, severity, notes) by the number of notes the rule fires in, then rule id."""
        ranked = sorted(self.rule_notes.items(), key=lambda kv: (-kv[1], kv[0]))
        return [(rule, self.rule_severity[rule], n) for rule, n in ranked[:limit]]

    def top_errors(self, limit: int = TOP_NOTES) -> list[NoteRow]:
        """The notes with the most errors (then warnings, then batch order); errors > 0 only."""
        ranked = sorted((r for r in self.rows if r.verdict != "unreadable" and r.errors),
                        key=lambda r: (-r.errors, -r.warnings))
        return ranked[:limit]

    # ------------------------------------------------------------ print

    def write(self, stream: TextIO, width: int = 80, color: bool = False) -> None:
        """Print the summary to ``stream``, block by block (no trailing spaces)."""
        out = _Printer(stream, width, color)
        out.print(self._header())
        if not self.rows:
            return
        widths = self._widths(width)
        for start in range(0, len(self.rows), BLOCK):
            out.print(self._notes_table(self.rows[start:start + BLOCK], widths, header=start == 0))
        for part in (self._gaps(), self._rules(), self._errors(), self._unreadable()):
            if part is not None:
                stream.write("\n")
                out.print(part)

    def render(self, width: int = 80, color: bool = False) -> str:
        import io

        buf = io.StringIO()
        self.write(buf, width, color)
        return buf.getvalue()

    def _header(self) -> Text:
        n = len(self.rows)
        supports = sum(1 for r in self.rows if r.verdict == "supports")
        gaps = sum(1 for r in self.rows if r.verdict == "gaps")
        bad = n - supports - gaps
        text = Text()
        text.append(f"Scanned {n} file{'s' if n != 1 else ''} for {self.code}", style="bold")
        text.append(f": {supports} support{'s' if supports == 1 else ''} the code, "
                    f"{gaps} {'has' if gaps == 1 else 'have'} gaps, {bad} unreadable.")
        return text

    def _widths(self, width: int) -> tuple[int, int]:
        """Widths of the file and gaps columns; the three others are fixed."""
        fixed = len("unreadable") + len("Err") + len("Warn")
        avail = max(2 * MIN_GAPS_WIDTH, width - fixed - 4 * 3)  # 3 = padding, rule, padding
        longest_file = max(max(len(r.file) for r in self.rows), len("File"))
        longest_gaps = max(max((len(", ".join(r.gaps)) for r in self.rows), default=1), MIN_GAPS_WIDTH)
        file_w = min(longest_file, max(avail - longest_gaps, avail - MIN_GAPS_WIDTH))
        return file_w, avail - file_w

    def _notes_table(self, rows: list[NoteRow], widths: tuple[int, int], header: bool) -> Table:
        table = Table(box=box.SIMPLE_HEAD, show_header=header, show_edge=False, pad_edge=False)
        table.add_column("File", width=widths[0], overflow="fold")
        table.add_column("Verdict", width=len("unreadable"), no_wrap=True)
        table.add_column("Err", width=len("Err"), justify="right", no_wrap=True)
        table.add_column("Warn", width=len("Warn"), justify="right", no_wrap=True)
        table.add_column("Not documented", width=widths[1], overflow="fold")
        for r in rows:
            if r.verdict == "unreadable":
                table.add_row(r.file, Text(r.verdict, style=VERDICT_STYLE[r.verdict]), "-", "-",
                              "see below")
            else:
                table.add_row(r.file, Text(r.verdict, style=VERDICT_STYLE.get(r.verdict, "")),
                              str(r.errors), str(r.warnings), ", ".join(r.gaps) or "-")
        return table

    def _gaps(self) -> Text | None:
        if not self.audited:
            return None
        n = self.audited
        text = Text(f"Gaps over the {n} note{'s' if n != 1 else ''} audited", style="bold")
        rates = self.gap_rates()
        if not rates:
            text.append("\n  none: every element is documented in every note")
        for element, status, count in rates:
            text.append(f"\n  {element} {status} in {_percent(count, n)} of notes ({count} of {n})")
        return text

    def _rules(self) -> Table | None:
        top = self.top_rules()
        if not top:
            return None
        table = Table(title="Most frequent rules", title_justify="left", title_style="bold",
                      box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("Rule", overflow="fold")
        table.add_column("Severity", no_wrap=True)
        table.add_column("Notes", justify="right", no_wrap=True)
        table.add_column("Share", justify="right", no_wrap=True)
        for rule, severity, count in top:
            table.add_row(rule, Text(severity, style=SEVERITY_STYLE.get(severity, "")), str(count),
                          _percent(count, self.audited))
        return table

    def _errors(self) -> Table | None:
        top = self.top_errors()
        if not top:
            return None
        table = Table(title="Notes with the most errors", title_justify="left", title_style="bold",
                      box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("File", overflow="fold", min_width=min(40, max(len(r.file) for r in top)))
        table.add_column("Errors", justify="right", no_wrap=True)
        table.add_column("Warnings", justify="right", no_wrap=True)
        table.add_column("Not documented", overflow="fold")
        for r in top:
            table.add_row(r.file, str(r.errors), str(r.warnings), ", ".join(r.gaps) or "-")
        return table

    def _unreadable(self) -> Table | None:
        bad = self.unreadable
        if not bad:
            return None
        table = Table(title=f"Could not be read ({len(bad)})", title_justify="left", title_style="bold",
                      box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("File", overflow="fold", ratio=1)
        table.add_column("Reason", overflow="fold", ratio=2)
        for r in bad:
            table.add_row(r.file, r.reason)
        return table


class _Printer:
    """Renders each part with Rich, then writes it with trailing spaces removed."""

    def __init__(self, stream: TextIO, width: int, color: bool):
        import io

        self._stream = stream
        self._buf = io.StringIO()
        self._console = Console(file=self._buf, width=width, force_terminal=color, no_color=not color,
                                color_system="standard" if color else None, highlight=False,
                                soft_wrap=False, emoji=False, markup=False)

    def print(self, renderable) -> None:
        self._console.print(renderable)
        text = self._buf.getvalue()
        self._buf.seek(0)
        self._buf.truncate()
        self._stream.write("\n".join(line.rstrip(" ") for line in text.split("\n")))


def _percent(part: int, whole: int) -> str:
    """Whole percent, half rounded up (``1 of 3`` -> ``33%``, ``1 of 8`` -> ``13%``)."""
    return f"{(200 * part + whole) // (2 * whole)}%" if whole else "-"
