"""readers: every supported encoding and format, and one exact message per failure.

Fixture notes are generated in tmp_path (short invented text, no corpus text).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from opnote_audit.errors import InputError
from opnote_audit.readers import (
    MAX_BYTES,
    SUPPORTED_SUFFIXES,
    NoteText,
    decode_bytes,
    display_path,
    note_from_bytes,
    read_note,
)

NOTE = "PROCEDURE: Partial corpectomy of L2.\nAPPROACH: Lateral extracavitary.\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def error_of(path: Path | str, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        read_note(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------ plain text


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (NOTE.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + NOTE.encode("utf-8"), "utf-8-sig"),
        (b"\xff\xfe" + NOTE.encode("utf-16-le"), "utf-16"),
        (b"\xfe\xff" + NOTE.encode("utf-16-be"), "utf-16"),
        (b"\xff\xfe\x00\x00" + NOTE.encode("utf-32-le"), "utf-32"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "utf-32-le-bom"],
)
def test_plain_text_encodings(tmp_path, data, encoding):
    note = read_note(write(tmp_path, "note.txt", data))
    assert note == NoteText(NOTE, encoding, "txt")


def test_utf8_non_ascii_kept():
    assert decode_bytes("T12–L1, 5 mm résection".encode()) == ("T12–L1, 5 mm résection", "utf-8")


def test_cp1252_smart_quotes_fallback(tmp_path):
    data = b"The \x93lateral extracavitary\x94 approach \x96 L2 caf\xe9\r\n"
    note = read_note(write(tmp_path, "note.txt", data))
    assert note == NoteText(
        "The \u201clateral extracavitary\u201d approach \u2013 L2 caf\u00e9\r\n", "cp1252", "txt"
    )


def test_crlf_and_offsets_preserved(tmp_path):
    text = "HEADER\r\nL2 corpectomy\r\n\r\nEnd\rold mac line\n"
    note = read_note(write(tmp_path, "crlf.note", text.encode()))
    assert note.text == text
    assert note.text.index("L2") == 8
    assert note.text[8:21] == "L2 corpectomy"


def test_bom_is_dropped_and_offsets_count_from_text(tmp_path):
    note = read_note(write(tmp_path, "bom.txt", b"\xef\xbb\xbfL2\r\nL3"))
    assert note.text == "L2\r\nL3"
    assert note.text.index("L3") == 4


def test_unknown_suffix_read_as_text_when_it_decodes(tmp_path):
    assert read_note(write(tmp_path, "note.dictation", NOTE.encode())).format == "txt"


def test_rtf_inside_a_txt_file_is_read_as_rtf(tmp_path):
    note = read_note(write(tmp_path, "export.txt", b"{\\rtf1\\ansi Corpectomy L2\\par Done.}"))
    assert note == NoteText("Corpectomy L2\nDone.", "rtf", "rtf")


def test_decode_bytes_names_the_source():
    with pytest.raises(InputError) as info:
        decode_bytes(b"ab\x00cd", source="<stdin>")
    assert str(info.value) == "<stdin>: binary file (contains NUL bytes)"


def test_note_from_bytes():
    assert note_from_bytes(b"L2 corpectomy\n") == NoteText("L2 corpectomy\n", "utf-8", "txt")
    with pytest.raises(InputError) as info:
        note_from_bytes(b"   \n")
    assert str(info.value) == "<stdin>: note contains only whitespace"
    with pytest.raises(InputError) as info:
        note_from_bytes(b"x" * 11, max_bytes=10)
    assert str(info.value) == "<stdin>: file is too large (11 bytes; the limit is 10 bytes)"


def test_supported_suffixes_and_limit():
    assert SUPPORTED_SUFFIXES == (".txt", ".text", ".note", ".docx", ".pdf", ".rtf")
    assert MAX_BYTES == 20 * 1024 * 1024


# ------------------------------------------------------------------ DOCX


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_paragraph("OPERATIVE REPORT")
    table = document.add_table(rows=2, cols=3)
    for r, row in enumerate([("Procedure", "Corpectomy", "L2"), ("Surgeon", "Dr. Alpha", "")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(1, 2).add_paragraph("co-surgeon Dr. Beta")
    document.add_paragraph("Findings:\tcompressed\tcanal")
    document.save(path)
    return path


def test_docx_paragraphs_and_table_rows(tmp_path):
    note = read_note(make_docx(tmp_path / "note.docx"))
    assert note == NoteText(
        "OPERATIVE REPORT\n"
        "Procedure | Corpectomy | L2\n"
        "Surgeon | Dr. Alpha | \nco-surgeon Dr. Beta\n"
        "Findings:\tcompressed\tcanal",
        "docx",
        "docx",
    )


def test_docx_merged_cell_counted_once(tmp_path):
    import docx

    document = docx.Document()
    table = document.add_table(rows=1, cols=3)
    table.cell(0, 0).text = "Level"
    merged = table.cell(0, 1).merge(table.cell(0, 2))
    merged.text = "L2 and L3"
    document.save(tmp_path / "merged.docx")
    assert read_note(tmp_path / "merged.docx").text == "Level | L2 and L3"


def test_docx_suffix_is_case_insensitive(tmp_path):
    path = make_docx(tmp_path / "NOTE.DOCX")
    assert read_note(path).format == "docx"


def test_docx_without_text_is_empty(tmp_path):
    import docx

    docx.Document().save(tmp_path / "blank.docx")
    assert error_of(tmp_path / "blank.docx") == f"{tmp_path}/blank.docx: note contains no text"
    document = docx.Document()
    document.add_paragraph("   ")
    document.add_table(rows=2, cols=3)
    document.save(tmp_path / "empty-table.docx")
    assert error_of(tmp_path / "empty-table.docx") == (
        f"{tmp_path}/empty-table.docx: note contains only whitespace"
    )


def test_docx_content_control_text_is_read(tmp_path):
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    document.add_paragraph("Before")
    sdt = parse_xml(
        f"<w:sdt {nsdecls('w')}><w:sdtContent><w:p><w:r><w:t>Inside control</w:t></w:r></w:p>"
        "</w:sdtContent></w:sdt>"
    )
    document.element.body.insert(1, sdt)
    document.save(tmp_path / "sdt.docx")
    assert read_note(tmp_path / "sdt.docx").text == "Before\nInside control"


def test_docx_rows_and_cells_inside_content_controls_are_read(tmp_path):
    # a template's repeating section wraps whole rows (or cells) in a content control
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    w = nsdecls("w")
    table = parse_xml(
        f"<w:tbl {w}><w:tr><w:tc><w:p><w:r><w:t>Field</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p><w:r><w:t>Value</w:t></w:r></w:p></w:tc></w:tr>"
        "<w:sdt><w:sdtContent><w:tr><w:tc><w:p><w:r><w:t>Approach</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p><w:r><w:t>lateral extracavitary</w:t></w:r></w:p></w:tc></w:tr></w:sdtContent></w:sdt>"
        "<w:tr><w:tc><w:p><w:r><w:t>Level</w:t></w:r></w:p></w:tc>"
        "<w:sdt><w:sdtContent><w:tc><w:p><w:r><w:t>L2</w:t></w:r></w:p></w:tc></w:sdtContent></w:sdt></w:tr>"
        "</w:tbl>"
    )
    document = docx.Document()
    document.element.body.insert(0, table)
    document.save(tmp_path / "rows.docx")
    assert read_note(tmp_path / "rows.docx").text == "Field | Value\nApproach | lateral extracavitary\nLevel | L2"


def test_docx_reads_the_text_word_shows_with_changes_accepted(tmp_path):
    # python-docx's Paragraph.text reads only direct runs; an amended note keeps its
    # amendment in tracked insertions, and templates keep answers in inline controls
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    w = nsdecls("w")
    mc = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
    wps = 'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
    paragraphs = [
        # tracked changes: the insertion is read, the deletion is not
        f'<w:p {w}><w:r><w:t xml:space="preserve">Approach: </w:t></w:r>'
        '<w:del w:id="1" w:author="A"><w:r><w:delText>posterolateral</w:delText></w:r></w:del>'
        '<w:ins w:id="2" w:author="A"><w:r><w:t>lateral extracavitary</w:t></w:r></w:ins></w:p>',
        # an inline drop-down content control and a hyperlink
        f'<w:p {w}><w:r><w:t xml:space="preserve">Extent: </w:t></w:r><w:sdt><w:sdtPr><w:alias w:val="Extent"/>'
        '</w:sdtPr><w:sdtContent><w:r><w:t>complete</w:t></w:r></w:sdtContent></w:sdt>'
        '<w:hyperlink><w:r><w:t xml:space="preserve"> (see protocol)</w:t></w:r></w:hyperlink></w:p>',
        # a simple field and a complex field: the results are read, the field code is not
        f'<w:p {w}><w:r><w:t xml:space="preserve">Level </w:t></w:r><w:fldSimple w:instr="DOCPROPERTY Level">'
        '<w:r><w:t>L2</w:t></w:r></w:fldSimple><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/>'
        '</w:r><w:r><w:t xml:space="preserve">, page 1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>',
        # moved text is read once, where it was moved to; a page break adds no line
        f'<w:p {w}><w:moveFrom w:id="3" w:author="A"><w:r><w:t>cord </w:t></w:r></w:moveFrom>'
        '<w:r><w:t xml:space="preserve">Decompressed the </w:t></w:r><w:moveTo w:id="4" w:author="A">'
        '<w:r><w:t>cord</w:t></w:r></w:moveTo><w:r><w:br w:type="page"/><w:t>.</w:t><w:br/><w:t>End</w:t>'
        '</w:r></w:p>',
        # a text box: Word writes it twice (DrawingML choice and VML fallback); read once
        f'<w:p {w} {mc} {wps}><w:r><w:t>See box.</w:t></w:r><w:r><mc:AlternateContent><mc:Choice Requires="wps">'
        '<w:drawing><wps:txbx><w:txbxContent><w:p><w:r><w:t>Box: L2 body removed</w:t></w:r></w:p>'
        '</w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r>'
        '<w:t>Box: L2 body removed</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback>'
        '</mc:AlternateContent></w:r></w:p>',
    ]
    document = docx.Document()
    for xml in paragraphs:
        document.element.body.insert(len(document.element.body) - 1, parse_xml(xml))
    document.save(tmp_path / "amended.docx")
    assert read_note(tmp_path / "amended.docx").text == (
        "Approach: lateral extracavitary\n"
        "Extent: complete (see protocol)\n"
        "Level L2, page 1\n"
        "Decompressed the cord.\nEnd\n"
        "See box.\n"
        "Box: L2 body removed"
    )


# ------------------------------------------------------------------ PDF


def make_pdf(path: Path, pages: list[str]) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.cell(text=text)
    pdf.output(str(path))
    return path


def test_pdf_pages_joined_by_newline(tmp_path):
    note = read_note(make_pdf(tmp_path / "note.pdf", ["Corpectomy of L2", "Estimated blood loss 400 mL"]))
    assert note == NoteText("Corpectomy of L2\nEstimated blood loss 400 mL", "pdf", "pdf")


def test_pdf_without_text_layer(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 80, 120, style="F")
    pdf.output(str(tmp_path / "scan.pdf"))
    assert error_of(tmp_path / "scan.pdf") == (
        f"{tmp_path}/scan.pdf: PDF has no text layer (a scanned image?); OCR it first"
    )


def test_pdf_page_with_megabytes_of_drawing_instructions_is_refused_quickly(tmp_path):
    # pypdf's extraction is quadratic in a page's text operators (200,000 took minutes)
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    stream = DecodedStreamObject()
    stream.set_data(b"BT 40 700 Td " + b"(L2 corpectomy ) Tj " * 80_000 + b"ET")
    page[NameObject("/Contents")] = writer._add_object(stream)
    with open(tmp_path / "huge.pdf", "wb") as out:
        writer.write(out)
    assert error_of(tmp_path / "huge.pdf") == (
        f"{tmp_path}/huge.pdf: could not be parsed as PDF (page 1 holds 1.526 MB of drawing instructions, "
        "more than the 1 MB a text page needs)")


def test_pdf_with_user_password(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.cell(text="Corpectomy of L2")
    pdf.set_encryption(owner_password="owner", user_password="user")
    pdf.output(str(tmp_path / "locked.pdf"))
    assert error_of(tmp_path / "locked.pdf") == (
        f"{tmp_path}/locked.pdf: PDF is password-protected; save an unprotected copy"
    )


def test_pdf_with_owner_password_only_is_read(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.cell(text="Corpectomy of L2")
    pdf.set_encryption(owner_password="owner")
    pdf.output(str(tmp_path / "restricted.pdf"))
    assert read_note(tmp_path / "restricted.pdf").text == "Corpectomy of L2"


def test_pdf_logs_nothing_on_corrupt_input(tmp_path, capfd):
    good = make_pdf(tmp_path / "good.pdf", ["L2"]).read_bytes()
    path = write(tmp_path, "cut.pdf", good[: len(good) // 2])
    message = error_of(path)
    assert message.startswith(f"{path}: ")
    assert capfd.readouterr().err == ""


# ------------------------------------------------------------------ RTF


RTF = (
    b"{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Times New Roman;}}\r\n"
    b"\\f0\\fs24 PROCEDURE:\\tab Partial corpectomy, L2\\par\r\n"
    b"The \\ldblquote lateral extracavitary\\rdblquote  approach.\\par\r\n"
    b"Caf\\'e9 \\u8211? done.\\par\r\n}"
)


def test_rtf(tmp_path):
    note = read_note(write(tmp_path, "note.rtf", RTF))
    assert note == NoteText(
        "PROCEDURE:\tPartial corpectomy, L2\n"
        "The \u201clateral extracavitary\u201d approach.\n"
        "Caf\u00e9 \u2013 done.\n",
        "rtf",
        "rtf",
    )


def test_rtf_characters_outside_the_bmp_and_lone_surrogates(tmp_path):
    # RTF writes U+1F600 as a surrogate pair of \u escapes; a lone half becomes U+FFFD, so the
    # report can still be written as UTF-8 (it failed with UnicodeEncodeError before)
    rtf = b"{\\rtf1\\ansi\\uc1 Tumor \\u-10179?\\u-8704? and \\u-10179? L2 corpectomy\\par}"
    note = read_note(write(tmp_path, "note.rtf", rtf))
    assert note.text == "Tumor \U0001f600 and \ufffd L2 corpectomy\n"
    note.text.encode("utf-8")


@pytest.mark.parametrize("name", ["note.rtf", "note.txt"])
def test_rtf_with_an_embedded_binary_picture(tmp_path, name):
    # \\binN is followed by N raw bytes (NULs too): skipped, not taken for a binary file
    rtf = (b"{\\rtf1\\ansi Complete L2 corpectomy.\\par {\\pict\\wmetafile8\\bin4 \x00\x01\x02\x03}"
           b"\\par Done.\\par}")
    assert read_note(write(tmp_path, name, rtf)) == NoteText("Complete L2 corpectomy.\n\nDone.\n", "rtf", "rtf")


def test_strict_open_xml_docx_is_refused_clearly(tmp_path):
    import docx
    import zipfile

    docx.Document().save(tmp_path / "plain.docx")
    strict = tmp_path / "strict.docx"
    with zipfile.ZipFile(tmp_path / "plain.docx") as src, zipfile.ZipFile(strict, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(b"http://schemas.openxmlformats.org/wordprocessingml/2006/main",
                                    b"http://purl.oclc.org/ooxml/wordprocessingml/main")
            dst.writestr(item, data)
    assert error_of(strict) == (f"{strict}: could not be parsed as DOCX (Strict Open XML; save it as a "
                                "standard Word document)")


# ------------------------------------------------------------------ corrupt files


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("bad.docx", b"PK\x03\x04 truncated zip", "could not be parsed as DOCX (damaged ZIP package)"),
        ("text.docx", b"Corpectomy L2", "could not be parsed as DOCX (not a ZIP package)"),
        ("bad.pdf", b"%PDF-1.7\nnot really a pdf", "could not be parsed as PDF (damaged or truncated: PdfStreamError)"),
        ("text.pdf", b"Corpectomy L2", "could not be parsed as PDF (no %PDF header)"),
        ("bad.rtf", b"Corpectomy L2", "could not be parsed as RTF (no {\\rtf header)"),
        ("png.rtf", b"\x89PNG\r\n\x1a\n\x00\x00", "could not be parsed as RTF: binary file (PNG image)"),
        ("huge-escape.rtf", b"{\\rtf1\\uc0 \\u76\\u50 corpectomy \\u99999999999 x}",
         "could not be parsed as RTF (OverflowError)"),
    ],
)
def test_corrupt_documents(tmp_path, name, data, reason):
    path = write(tmp_path, name, data)
    assert error_of(path) == f"{path}: {reason}"


def test_zip_without_word_document(tmp_path):
    import zipfile

    path = tmp_path / "other.docx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("hello.txt", "not a word document")
    assert error_of(path) == f"{path}: could not be parsed as DOCX (not a Word document package)"


def test_docx_zip_bomb_guard(tmp_path):
    import zipfile

    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("word/document.xml", b"0" * 200_000)
    assert error_of(path, max_bytes=10_000) == (
        f"{path}: DOCX expands to more than 0.095 MB (zip bomb guard)"
    )


# ------------------------------------------------------------------ failures


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file (0 bytes)"),
        (b" \r\n\t\n  ", "note contains only whitespace"),
        (b"\xef\xbb\xbf", "note contains no text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (PNG image)"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary file (ELF executable)"),
        (b"%PDF-1.4\n", "binary file (PDF document; name it .pdf)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "binary file (legacy Office document (.doc); save it as .docx)"),
        (b"Corpectomy\x00L2", "binary file (contains NUL bytes)"),
        (
            "Corpectomy".encode("utf-16-le"),
            "binary file (contains NUL bytes; looks like UTF-16 without a byte-order mark, save it as UTF-8)",
        ),
        (b"\xff\xfeC\x00\x00\x00L\x00", "binary file (contains NUL characters)"),
        (b"\xff\xfeC\x00L", "cannot decode text: invalid UTF-16 at byte 4"),
        (b"ab\x01\x02\x03\x04cdefghijklmnop", "binary file (too many control characters)"),
        (
            b"Corpectomy \xe9 L2 \x81 done",
            "cannot decode text: not UTF-8, and byte 0x81 at offset 16 is undefined in cp1252",
        ),
    ],
    ids=[
        "empty", "whitespace", "bom-only", "png", "elf", "pdf-as-txt", "doc-as-txt", "nul",
        "utf16-no-bom", "utf16-nul-char", "utf16-odd-length", "controls", "undefined-cp1252",
    ],
)
def test_unreadable_plain_text(tmp_path, data, reason):
    path = write(tmp_path, "note.txt", data)
    assert error_of(path) == f"{path}: {reason}"


def test_few_control_characters_are_text(tmp_path):
    data = b"Page 1\x0c\nCorpectomy L2 with a form feed and one stray \x1b escape.\x1a"
    assert read_note(write(tmp_path, "note.txt", data)).text == data.decode()


def test_too_large_is_refused_before_reading(tmp_path, monkeypatch):
    path = write(tmp_path, "big.txt", b"L2 " * 200_000)  # 600,000 bytes
    opened: list[str] = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    assert error_of(path, max_bytes=512 * 1024) == (
        f"{path}: file is too large (600,000 bytes; the limit is 0.5 MB)"
    )
    assert opened == []


def test_default_limit_in_message(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:  # sparse file: no 20 MB written
        handle.truncate(MAX_BYTES + 1)
    assert error_of(path) == f"{path}: file is too large (20,971,521 bytes; the limit is 20 MB)"


def test_missing_file(tmp_path):
    assert error_of(tmp_path / "nope.txt") == f"{tmp_path}/nope.txt: no such file"


def test_parent_is_a_file(tmp_path):
    write(tmp_path, "note.txt", b"L2")
    assert error_of(tmp_path / "note.txt" / "x.txt") == (
        f"{tmp_path}/note.txt/x.txt: no such file (a parent in the path is not a directory)"
    )


def test_directory(tmp_path):
    assert error_of(tmp_path) == f"{tmp_path}: is a directory, not a note file"


def test_fifo_is_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    assert error_of(tmp_path / "pipe.txt") == (
        f"{tmp_path}/pipe.txt: not a regular file (device, FIFO or socket)"
    )


def test_broken_symlink(tmp_path):
    (tmp_path / "link.txt").symlink_to(tmp_path / "gone.txt")
    assert error_of(tmp_path / "link.txt") == (
        f"{tmp_path}/link.txt: broken symbolic link (its target does not exist)"
    )


def test_symlink_loop(tmp_path):
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    assert error_of(tmp_path / "a.txt") == (
        f"{tmp_path}/a.txt: symbolic link loop (too many levels of symbolic links)"
    )


def test_symlink_to_a_note_is_followed(tmp_path):
    write(tmp_path, "real.txt", b"L2 corpectomy")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    assert read_note(tmp_path / "link.txt").text == "L2 corpectomy"


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="running as root: root can read a mode-000 file, so permission is never denied",
)
def test_permission_denied_real(tmp_path):
    path = write(tmp_path, "secret.txt", b"L2")
    path.chmod(0)
    try:
        assert error_of(path) == f"{path}: permission denied"
    finally:
        path.chmod(0o600)


def test_permission_denied_message(tmp_path, monkeypatch):
    """Same path as the real test, with open() failing as it does for a non-root user."""
    path = write(tmp_path, "secret.txt", b"L2")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("builtins.open", denied)
    assert error_of(path) == f"{path}: permission denied"


def test_file_is_not_modified(tmp_path):
    path = write(tmp_path, "note.txt", NOTE.encode())
    os.utime(path, (1_000_000_000, 1_000_000_000))
    path.chmod(0o444)
    before = path.stat()
    read_note(path)
    after = path.stat()
    assert (after.st_mtime_ns, after.st_size, after.st_mode) == (
        before.st_mtime_ns, before.st_size, before.st_mode,
    )
    assert path.read_bytes() == NOTE.encode()


def test_messages_never_contain_note_text(tmp_path):
    secret = "PATIENT-SECRET-4711"
    cases = {
        "a.txt": (secret + "\x00").encode(),
        "b.txt": (secret + "\x81").encode("latin-1"),
        "c.docx": b"PK\x03\x04" + secret.encode(),
        "d.pdf": b"%PDF-1.4\n" + secret.encode(),
        "e.rtf": secret.encode(),
    }
    for name, data in cases.items():
        assert secret not in error_of(write(tmp_path, name, data))


def test_path_with_control_characters_stays_one_line(tmp_path):
    assert display_path("bad\nname\x1b.txt") == "bad\\x0aname\\x1b.txt"
    assert display_path(os.fsdecode(b"caf\xe9.txt")) == "caf\\xe9.txt"
    # a name that spells an escape is not shown like the name it spells: the backslash doubles
    assert display_path("a\\x0ab.txt") == "a\\\\x0ab.txt" != display_path("a\nb.txt")
    assert display_path("C:\\notes\\a.txt") == "C:\\notes\\a.txt"  # other backslashes stay
    name = tmp_path / "two\nlines.txt"
    assert error_of(name) == f"{tmp_path}/two\\x0alines.txt: no such file"


def test_heavy_libraries_are_imported_lazily():
    code = (
        "import sys, opnote_audit.readers, opnote_audit.discover;"
        "print(sorted(m for m in ('docx', 'pypdf', 'striprtf', 'lxml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_password_protected_docx(tmp_path):
    path = write(tmp_path, "locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    assert error_of(path) == (
        f"{path}: could not be parsed as DOCX "
        "(an encrypted or legacy Word file; save an unprotected .docx)"
    )


def _mutations(base: bytes, seed: int, count: int):
    import random

    rng = random.Random(seed)
    for _ in range(count):
        data = bytearray(base)
        if rng.random() < 0.3:
            del data[rng.randrange(len(data)):]
        else:
            for _ in range(rng.randrange(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        yield bytes(data)


@pytest.mark.parametrize("fmt", ["docx", "pdf", "rtf", "txt"])
def test_damaged_files_give_input_error_not_traceback(tmp_path, fmt):
    """Truncated and byte-flipped documents: a NoteText or an InputError, nothing else."""
    if fmt == "docx":
        base = make_docx(tmp_path / "base.docx").read_bytes()
    elif fmt == "pdf":
        base = make_pdf(tmp_path / "base.pdf", ["Corpectomy of L2"]).read_bytes()
    else:
        base = RTF
    outcomes = {"note": 0, "error": 0}
    for data in _mutations(base, seed=20260, count=300):
        try:
            note_from_bytes(data, "damaged", fmt)
            outcomes["note"] += 1
        except InputError as exc:
            assert str(exc).startswith("damaged: ")
            outcomes["error"] += 1
    assert outcomes["error"] > 0
