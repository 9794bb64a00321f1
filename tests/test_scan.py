"""scan: a folder of mixed notes -> one record per file, in order, the same for any --workers.

Fixture notes are written here (invented text) in every supported format, next to
files that cannot be read, so each record, error reason and exit code is exact.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opnote_audit.cli import _register, app

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "mtsamples-spine"

SUPPORTS = """PREOPERATIVE DIAGNOSIS: Metastatic lung adenocarcinoma destroying the L3 vertebral body.
PROCEDURE: Complete L3 corpectomy through a right lateral extracavitary approach, with decompression of the cauda equina and the right L3 nerve root.
INDICATIONS: MRI showed a destructive mass in the L3 body compressing the thecal sac. Pain score “8/10”, résumé of care reviewed.
DESCRIPTION: The patient was positioned prone. The right lateral extracavitary exposure was developed. The entire L3 vertebral body was removed. The cauda equina was decompressed and the right L3 nerve root was freed along its course.
"""

GENERIC_CP1252 = (
    "PREOPERATIVE DIAGNOSIS: L2 burst fracture with retropulsion seen on CT.\r\n"
    "PROCEDURE: Partial L2 corpectomy through a \u201cposterolateral approach\u201d \u2013 decompression of the thecal sac.\r\n"
    "DESCRIPTION: About half of the L2 vertebral body was removed and the thecal sac was decompressed.\r\n"
)

EXTENT_DOCX = [
    "PREOPERATIVE DIAGNOSIS: Pathologic fracture of L1 from multiple myeloma, seen on MRI.",
    "PROCEDURE: L1 corpectomy through a left lateral extracavitary approach.",
    "DESCRIPTION: A corpectomy was performed at L1 and the conus medullaris was decompressed.",
]

PDF_LINES = [
    "PREOPERATIVE DIAGNOSIS: Vertebral osteomyelitis of L4 on MRI.",
    "PROCEDURE: Complete L4 corpectomy via lateral extracavitary approach.",
    "The entire L4 vertebral body was removed and the thecal sac was decompressed.",
]

THORACIC_RTF = (
    r"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0"
    r"\par PREOPERATIVE DIAGNOSIS: Chordoma of the T11 vertebral body on CT."
    r"\par PROCEDURE: Complete T11 corpectomy through a lateral extracavitary approach."
    r"\par The entire T11 vertebral body was removed and the spinal cord was decompressed.}"
)


def make_folder(root: Path) -> Path:
    """The mixed folder: five readable notes, four broken files, a hidden file."""
    from docx import Document
    from fpdf import FPDF

    root.mkdir(parents=True, exist_ok=True)
    (root / "a_supports.txt").write_text(SUPPORTS, encoding="utf-8")
    (root / "b_generic.txt").write_bytes(GENERIC_CP1252.encode("cp1252"))
    document = Document()
    for line in EXTENT_DOCX:
        document.add_paragraph(line)
    (root / "sub").mkdir(exist_ok=True)
    document.save(str(root / "sub" / "c_extent.docx"))
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    for line in PDF_LINES:
        pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(root / "d_osteomyelitis.pdf"))
    (root / "e_thoracic.rtf").write_text(THORACIC_RTF, encoding="ascii")
    (root / "f_photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (root / "g_empty.txt").write_bytes(b"")
    scan = FPDF()
    scan.add_page()
    scan.rect(20, 20, 80, 120, style="F")
    scan.output(str(root / "h_scanned.pdf"))
    (root / ".hidden_note.txt").write_text(SUPPORTS, encoding="utf-8")
    (root / "i_image.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # not a note suffix: not picked up
    return root
