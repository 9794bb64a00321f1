"""CSV: one row per note, for a spreadsheet. Written with the ``csv`` module (RFC 4180,
``\\r\\n`` line ends; the output file is opened with ``newline=""``).

Columns (:data:`COLUMNS`): ``file``, ``verdict``, ``error`` (the reason when the file
could not be read; the other columns are then empty), the finding counts, one
``<element>_status`` column per element, ``level_value`` (``L1;L2``), ``segments``,
``extent_value``, ``suggested_codes`` (``63102x1;63103x1``) and ``rules`` (the rule
ids that fired, ``;``-joined, each once, in finding order).
"""

from __future__ import annotations

import csv
import io
from typing import TextIO

from opnote_audit.models import ELEMENTS
from opnote_audit.report import RenderOptions, result_dict

COLUMNS: tuple[str, ...] = (
    "file", "verdict", "error", "errors", "warnings", "infos",
    *(f"{name}_status" for name in ELEMENTS),
    "level_value", "segments", "extent_value", "suggested_codes", "rules",
)


def row(record: dict) -> list[str]:
    """The CSV cells of one record, in :data:`COLUMNS` order."""
    if "error" in record:
        return [record["file"], "", record["error"]] + [""] * (len(COLUMNS) - 3)
    summary = record["summary"]
    elements = record["elements"]
    levels = elements.get("level", {}).get("value") or []
    extent = elements.get("extent", {}).get("value")
    rules = list(dict.fromkeys(f["rule"] for f in record["findings"]))
    return [
        record["file"],
        record["verdict"],
        "",
        str(summary["errors"]),
        str(summary["warnings"]),
        str(summary["info"]),
        *(elements.get(name, {}).get("status", "") for name in ELEMENTS),
        ";".join(str(level) for level in levels) if isinstance(levels, list) else str(levels),
        str(record.get("facts", {}).get("segments", "")),
        "" if extent is None else str(extent),
        ";".join(f"{c['code']}x{c['units']}" for c in record["suggested_codes"]),
        ";".join(rules),
    ]


class CsvWriter:
    """Write the header, then one row per record as records come."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self._writer = csv.writer(stream)
        self._writer.writerow(COLUMNS)

    def write(self, record: dict) -> None:
        self._writer.writerow(row(record))

    def close(self) -> None:
        self._stream.flush()


def render(result, options: RenderOptions) -> str:
    """The renderer interface of ``report``: header and the row of one audited result."""
    buf = io.StringIO(newline="")
    writer = CsvWriter(buf)
    writer.write(result_dict(result, options))
    return buf.getvalue()
