"""JSON Lines: one record per line, the JSON contract's key order, no indent.

A record is an audited note's contract dict or an error record
(``{"schema_version": 1, "file": ..., "error": ...}``). Lines are written as
they are produced, so a batch of any size streams.
"""

from __future__ import annotations

import json
from typing import TextIO

from opnote_audit.report import RenderOptions, result_dict


def line(record: dict) -> str:
    """One record as one line (with its ``\\n``); non-ASCII kept as is."""
    return json.dumps(record, ensure_ascii=False) + "\n"


class JsonlWriter:
    """Write records to ``stream`` one line each, as they come."""

    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, record: dict) -> None:
        self._stream.write(line(record))

    def close(self) -> None:
        self._stream.flush()


def render(result, options: RenderOptions) -> str:
    """The renderer interface of ``report``: one audited result as one line."""
    return line(result_dict(result, options))
