"""Read one operative note from disk into text: the first stage of the pipeline.

``read_note(path)`` returns a :class:`NoteText` whose ``text`` is what every later
stage works on; the line numbers and character offsets in findings refer to it.

Formats, chosen by file suffix (case-insensitive):

- ``.docx``: paragraphs and tables in document order, one paragraph a line, as Word
  shows them with tracked changes accepted (insertions read, deletions not), content
  controls, fields and hyperlinks included; a text box's lines follow its paragraph; a
  table row is one line with its cells joined by ``" | "`` (a cell holding several
  paragraphs keeps them on separate lines). Headers, footers, footnotes and comments
  are not read (they hold page furniture, not the operation).
- ``.pdf``: the text layer of each page, pages joined by ``"\\n"``. A PDF without a
  text layer (a scan) is refused: OCR it first.
- ``.rtf``: RTF control words stripped (``striprtf``); a ``\\'xx`` escape that is
  undefined in the font's code page becomes U+FFFD instead of failing the note.
- anything else is read as plain text if it decodes as text: UTF-32/UTF-16/UTF-8
  with a byte-order mark, then UTF-8, then cp1252. The decoded text is returned
  unchanged (``\\r\\n`` is kept; only a BOM is dropped by decoding). A text file
  that is really RTF (starts with ``{\\rtf``) is read as RTF.

Every failure raises :class:`~opnote_audit.errors.InputError` with one line
``<file>: <reason>``; the reason never quotes note text. The input file is opened
read-only and never written, locked or touched. Files above ``max_bytes``
(default :data:`MAX_BYTES`, 20 MB) are refused after a ``stat``, before reading.
python-docx, pypdf and striprtf are imported only when a file of their kind is read.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from opnote_audit.errors import InputError

__all__ = [
    "MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "NoteText",
    "decode_bytes",
    "note_from_bytes",
    "read_note",
]

#: Suffixes ``scan`` picks up by default. Any other suffix given explicitly is read
#: as plain text if it decodes as text (and refused as binary otherwise).
SUPPORTED_SUFFIXES: tuple[str, ...] = (".txt", ".text", ".note", ".docx", ".pdf", ".rtf")

_MIB = 1024 * 1024
#: Largest note file read, in bytes (20 MB); ``read_note(..., max_bytes=)`` overrides it.
MAX_BYTES = 20 * _MIB
#: A DOCX whose parts would decompress to more than this many times ``max_bytes``
#: is refused (zip bomb guard).
DOCX_EXPANSION_FACTOR = 10
MAX_PDF_PAGE_CONTENT = 1 * _MIB  # decoded drawing instructions of one PDF page
#: Decoded text with more than this share of control characters is binary.
CONTROL_SHARE_LIMIT = 0.05

_FORMAT_BY_SUFFIX = {".docx": "docx", ".pdf": "pdf", ".rtf": "rtf"}

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, .xls, encrypted .docx

# Magic numbers of common non-text files: (prefix, description).
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"\x7fELF", "ELF executable"),
    (b"\xfe\xed\xfa\xce", "Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"%PDF-", "PDF document; name it .pdf"),
    (b"PK\x03\x04", "ZIP archive or Office document; a Word note must be named .docx"),
    (_OLE2_MAGIC, "legacy Office document (.doc); save it as .docx"),
    (b"\x1f\x8b", "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\x00asm", "WebAssembly module"),
)

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 before UTF-16: the UTF-32-LE BOM starts with the UTF-16-LE BOM.
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)

# Control characters that mark binary data: C0 except \t \n \v \f \r and the DOS
# end-of-file mark \x1a, plus DEL and the C1 range.
_CONTROL_CHARS = (
    [c for c in range(0x00, 0x20) if c not in (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1A)]
    + [0x7F]
    + list(range(0x80, 0xA0))
)
_DELETE_CONTROLS = dict.fromkeys(_CONTROL_CHARS)
_DELETE_CONTROL_BYTES = bytes(c for c in _CONTROL_CHARS if c < 0x80)


@dataclass(frozen=True)
class NoteText:
    """A note as text. Offsets and line numbers of the audit refer to ``text``.

    ``encoding`` is the codec used for plain text (``"utf-8"``, ``"utf-8-sig"``,
    ``"utf-16"``, ``"utf-32"``, ``"cp1252"``) or the extractor (``"docx"``, ``"pdf"``,
    ``"rtf"``); ``format`` is ``"txt"``, ``"docx"``, ``"pdf"`` or ``"rtf"``.
    """

    text: str
    encoding: str
    format: str


class _Refused(Exception):
    """Internal: why a note cannot be read (the reason only, without the file name)."""


# --------------------------------------------------------------------------- API


def read_note(path: str | Path, max_bytes: int = MAX_BYTES) -> NoteText:
    """Read the note at ``path``; raise :class:`InputError` naming the file and reason."""
    label = display_path(path)
    try:
        data = _read_bytes(os.fspath(path), max_bytes)
        fmt = _FORMAT_BY_SUFFIX.get(Path(path).suffix.lower(), "txt")
        return _note_from_bytes(data, fmt, max_bytes)
    except _Refused as refused:
        raise InputError(f"{label}: {refused}") from None


def note_from_bytes(
    data: bytes, name: str = "<stdin>", format: str = "txt", max_bytes: int = MAX_BYTES
) -> NoteText:
    """Turn bytes already in memory (e.g. standard input) into a :class:`NoteText`.

    ``format`` is ``"txt"``, ``"docx"``, ``"pdf"`` or ``"rtf"``; ``name`` is the label
    used in error messages.
    """
    if format not in ("txt", "docx", "pdf", "rtf"):
        raise ValueError(f"unknown note format {format!r}")
    try:
        if len(data) > max_bytes:
            raise _Refused(_too_large(len(data), max_bytes))
        return _note_from_bytes(data, format, max_bytes)
    except _Refused as refused:
        raise InputError(f"{display_path(name)}: {refused}") from None


def decode_bytes(data: bytes, source: str = "<input>") -> tuple[str, str]:
    """Decode plain-text bytes; return ``(text, encoding)``.

    Order: a BOM (UTF-32, UTF-8, UTF-16), then UTF-8, then cp1252. Binary data
    (known magic numbers, NUL bytes, many control characters) and bytes no
    candidate can decode raise :class:`InputError` labelled with ``source``.
    The text is not otherwise changed: newlines are kept as they are.
    """
    try:
        return _decode(data)
    except _Refused as refused:
        raise InputError(f"{display_path(source)}: {refused}") from None


def display_path(path: str | os.PathLike[str]) -> str:
    """The path as one printable line: control characters and undecodable bytes escaped as
    ``\\xNN`` / ``\\uNNNN``, and a backslash that could be read as the start of such an escape
    (before x, u or another backslash) doubled, so two different names never look the same."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    out = []
    for i, ch in enumerate(text):
        code = ord(ch)
        if ch == "\\" and text[i + 1:i + 2] in ("x", "u", "\\"):
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        elif 0xD800 <= code <= 0xDFFF:  # surrogate-escaped byte from a non-UTF-8 name
            out.append(f"\\x{code - 0xDC00:02x}" if code >= 0xDC80 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


# ------------------------------------------------------------------ file access


def _read_bytes(path: str, max_bytes: int) -> bytes:
    """Stat, check and read the file read-only; at most ``max_bytes`` are accepted."""
    info = _stat(path)
    if stat.S_ISDIR(info.st_mode):
        raise _Refused("is a directory, not a note file")
    if not stat.S_ISREG(info.st_mode):
        raise _Refused("not a regular file (device, FIFO or socket)")
    if info.st_size > max_bytes:
        raise _Refused(_too_large(info.st_size, max_bytes))
    if info.st_size == 0:
        raise _Refused("empty file (0 bytes)")
    try:
        with open(path, "rb", buffering=0) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise _Refused(_os_reason(exc)) from None
    if len(data) > max_bytes:  # grew after the stat
        raise _Refused(_too_large(len(data), max_bytes))
    if not data:
        raise _Refused("empty file (0 bytes)")
    return data


def _stat(path: str) -> os.stat_result:
    try:
        return os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise _Refused("broken symbolic link (its target does not exist)") from None
        raise _Refused("no such file") from None
    except OSError as exc:
        raise _Refused(_os_reason(exc)) from None


def os_error_reason(exc: OSError, path: str | os.PathLike | None = None) -> str:
    """The one-line reason for an OS error on a note path (shared by ``check`` and ``scan``)."""
    if isinstance(exc, FileNotFoundError) and path is not None and os.path.islink(path):
        return "broken symbolic link (its target does not exist)"
    return _os_reason(exc)


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (too many levels of symbolic links)"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, NotADirectoryError):
        return "no such file (a parent in the path is not a directory)"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a note file"
    reason = exc.strerror or type(exc).__name__
    return f"cannot read file: {reason[:1].lower()}{reason[1:]}"


def _too_large(size: int, max_bytes: int) -> str:
    limit = f"{max_bytes:,} bytes" if max_bytes < _MIB // 1000 else f"{_mb(max_bytes)} MB"
    return f"file is too large ({size:,} bytes; the limit is {limit})"


def _check_pdf_page_size(page, number: int) -> None:
    """pypdf's text extraction takes time in the square of a page's drawing instructions
    (80,000 text operators: 7 s; 200,000: minutes); a typed page has a few KB of them."""
    contents = page.get_contents()
    size = len(contents.get_data()) if contents is not None else 0
    if size > MAX_PDF_PAGE_CONTENT:
        raise _Refused(f"could not be parsed as PDF (page {number} holds {_mb(size)} MB of drawing "
                       f"instructions, more than the {_mb(MAX_PDF_PAGE_CONTENT)} MB a text page needs)")


def _mb(n: int) -> str:
    """``n`` bytes in MB (MiB), up to 3 decimals: ``20``, ``0.5``, ``0.001``."""
    value = n / _MIB
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text != "0" else f"{value:.2g}"


# -------------------------------------------------------------- dispatch


def _note_from_bytes(data: bytes, fmt: str, max_bytes: int) -> NoteText:
    if not data:
        raise _Refused("empty file (0 bytes)")
    if fmt == "docx":
        note = NoteText(_docx_text(data, max_bytes), "docx", "docx")
    elif fmt == "pdf":
        note = NoteText(_pdf_text(data), "pdf", "pdf")
    elif fmt == "rtf" or data.lstrip(b" \t\r\n").startswith(b"{\\rtf"):  # RTF, whatever its name
        note = NoteText(_rtf_text(data), "rtf", "rtf")
    else:
        text, encoding = _decode(data)
        if text.lstrip(" \t\r\n").startswith("{\\rtf"):
            note = NoteText(_rtf_from_str(text), "rtf", "rtf")
        else:
            note = NoteText(text, encoding, "txt")
    _check_not_empty(note.text)
    return note


def _check_not_empty(text: str) -> None:
    if not text:
        raise _Refused("note contains no text")
    if not text.strip():
        raise _Refused("note contains only whitespace")


# -------------------------------------------------------------- plain text


def _decode(data: bytes) -> tuple[str, str]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise _Refused(
                    f"cannot decode text: invalid {encoding.upper()} at byte {exc.start}"
                ) from None
            _check_text_is_not_binary(text)
            return text, encoding
    _check_bytes_are_not_binary(data)
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as exc:
            raise _Refused(
                "cannot decode text: not UTF-8, and byte "
                f"0x{data[exc.start]:02X} at offset {exc.start} is undefined in cp1252"
            ) from None
    _check_text_is_not_binary(text)
    return text, encoding


def _check_bytes_are_not_binary(data: bytes) -> None:
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise _Refused(f"binary file ({what})")
    if b"\x00" in data:
        raise _Refused(f"binary file (contains NUL bytes{_utf16_hint(data)})")
    controls = len(data) - len(data.translate(None, _DELETE_CONTROL_BYTES))
    if controls > CONTROL_SHARE_LIMIT * len(data):
        raise _Refused("binary file (too many control characters)")


def _utf16_hint(data: bytes) -> str:
    head = data[:512]
    if len(head) >= 4 and (head[1::2].count(0) == len(head) // 2 or head[0::2].count(0) == (len(head) + 1) // 2):
        return "; looks like UTF-16 without a byte-order mark, save it as UTF-8"
    return ""


def _check_text_is_not_binary(text: str) -> None:
    if "\x00" in text:
        raise _Refused("binary file (contains NUL characters)")
    controls = len(text) - len(text.translate(_DELETE_CONTROLS))
    if controls > CONTROL_SHARE_LIMIT * len(text):
        raise _Refused("binary file (too many control characters)")


# -------------------------------------------------------------- DOCX


def _docx_text(data: bytes, max_bytes: int) -> str:
    if data.startswith(_OLE2_MAGIC):  # what Word writes for a password-protected file
        raise _Refused(
            "could not be parsed as DOCX (an encrypted or legacy Word file; save an unprotected .docx)"
        )
    if not data.startswith(b"PK"):
        raise _Refused("could not be parsed as DOCX (not a ZIP package)")
    import zipfile
    import zlib

    _check_zip_expansion(data, max_bytes)
    import docx  # lazy: python-docx pulls in lxml
    from docx.opc.exceptions import OpcError

    try:
        from lxml.etree import LxmlError
    except ImportError:  # pragma: no cover - lxml is a python-docx dependency
        LxmlError = ValueError  # type: ignore[assignment,misc]

    try:
        document = docx.Document(io.BytesIO(data))
        body = getattr(document.element, "body", None)
        if body is None:  # Strict Open XML: python-docx reads only the transitional schema
            raise _Refused("could not be parsed as DOCX (Strict Open XML; save it as a standard Word document)")
        lines = _docx_block_lines(body, document)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError):
        # NotImplementedError: zipfile meets an unsupported compression method.
        raise _Refused("could not be parsed as DOCX (damaged ZIP package)") from None
    except (OpcError, KeyError):
        raise _Refused("could not be parsed as DOCX (not a Word document package)") from None
    except LxmlError:
        raise _Refused("could not be parsed as DOCX (malformed XML)") from None
    except ValueError as exc:
        raise _Refused(f"could not be parsed as DOCX ({_exc_name(exc)})") from None
    return "\n".join(lines)


def _check_zip_expansion(data: bytes, max_bytes: int) -> None:
    import zipfile

    limit = DOCX_EXPANSION_FACTOR * max_bytes
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            members = package.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotImplementedError):
        raise _Refused("could not be parsed as DOCX (damaged ZIP package)") from None
    if any(info.flag_bits & 0x1 for info in members):
        raise _Refused("could not be parsed as DOCX (encrypted ZIP members)")
    expanded = sum(info.file_size for info in members)
    if expanded > limit:
        raise _Refused(f"DOCX expands to more than {_mb(limit)} MB (zip bomb guard)")


def _docx_block_lines(container, parent) -> list[str]:
    """Lines of a body or table cell: paragraphs, tables, content controls in order."""
    from docx.oxml.ns import qn
    from docx.table import Table

    lines: list[str] = []
    for child in container.iterchildren():
        if child.tag == qn("w:p"):
            lines.extend(_docx_paragraph_lines(child, parent))
        elif child.tag == qn("w:tbl"):
            lines.extend(_docx_table_lines(Table(child, parent)))
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                lines.extend(_docx_block_lines(content, parent))
        elif child.tag == qn("w:customXml"):
            lines.extend(_docx_block_lines(child, parent))
    return lines


_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _docx_paragraph_lines(p, parent) -> list[str]:
    """A paragraph's text as Word shows it with tracked changes accepted, then the lines of
    any text box anchored in it.

    python-docx's ``Paragraph.text`` reads only the runs that are direct children of the
    paragraph, so it drops tracked insertions (an amended note!), inline content controls
    (template drop-downs), field results and smart tags. Here every ``w:t`` under the
    paragraph counts, except deleted and moved-away text, field codes and the duplicate
    ``mc:Fallback`` copy of a text box; breaks and tabs read as python-docx reads them."""
    from docx.oxml.ns import qn

    skip = {qn("w:del"), qn("w:moveFrom"), qn("w:instrText"), qn("w:delInstrText"), qn("w:pPr"),
            qn("w:rPr"), qn("w:sdtPr"), qn("w:sdtEndPr"), _MC_FALLBACK}
    t, tab, ptab, cr, br, hyphen = (qn("w:t"), qn("w:tab"), qn("w:ptab"), qn("w:cr"), qn("w:br"),
                                    qn("w:noBreakHyphen"))
    box, br_type = qn("w:txbxContent"), qn("w:type")
    parts: list[str] = []
    boxes: list[str] = []

    def walk(element) -> None:
        for child in element.iterchildren():
            tag = child.tag
            if tag in skip or not isinstance(tag, str):  # comments and processing instructions
                continue
            if tag == t:
                parts.append(child.text or "")
            elif tag in (tab, ptab):
                parts.append("\t")
            elif tag == cr or (tag == br and child.get(br_type) in (None, "textWrapping")):
                parts.append("\n")
            elif tag == hyphen:
                parts.append("-")
            elif tag == box:
                boxes.extend(_docx_block_lines(child, parent))
            else:
                walk(child)

    walk(p)
    return ["".join(parts), *boxes]


def _docx_table_lines(table) -> list[str]:
    """One line per row, cells joined by " | " (an empty row is an empty line).

    Rows and cells are read from the table's XML, so a row or a cell wrapped in a content
    control (a template's repeating section) is read too, and a merged cell counts once.
    """
    from docx.oxml.ns import qn

    tr, tc, sdt, content = qn("w:tr"), qn("w:tc"), qn("w:sdt"), qn("w:sdtContent")

    def unwrap(element, tag: str):
        """The ``tag`` children of ``element``, looking inside content controls."""
        for child in element.iterchildren():
            if child.tag == tag:
                yield child
            elif child.tag == sdt:
                inner = child.find(content)
                if inner is not None:
                    yield from unwrap(inner, tag)

    lines: list[str] = []
    for row in unwrap(table._tbl, tr):
        cells = ["\n".join(_docx_block_lines(cell, table)) for cell in unwrap(row, tc)]
        lines.append(" | ".join(cells) if any(cell.strip() for cell in cells) else "")
    return lines


# -------------------------------------------------------------- PDF


def _pdf_text(data: bytes) -> str:
    if b"%PDF-" not in data[:1024]:
        raise _Refused("could not be parsed as PDF (no %PDF header)")
    import zlib

    import pypdf  # lazy
    from pypdf.errors import PyPdfError

    failures = (PyPdfError, ValueError, TypeError, KeyError, IndexError, AttributeError,
                OSError, zlib.error, RecursionError, EOFError, AssertionError,
                NotImplementedError)  # NotImplementedError: unknown stream filter
    with _quiet_pypdf():
        try:
            reader = pypdf.PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not _pdf_decrypt(reader):
                raise _Refused("PDF is password-protected; save an unprotected copy")
            pages = []
            for number, page in enumerate(reader.pages, 1):
                _check_pdf_page_size(page, number)
                pages.append(page.extract_text() or "")
        except _Refused:
            raise
        except pypdf.errors.DependencyError:
            raise _Refused("PDF is encrypted with a cipher that needs the 'cryptography' package") from None
        except failures as exc:
            raise _Refused(
                f"could not be parsed as PDF (damaged or truncated: {_exc_name(exc)})"
            ) from None
    text = "\n".join(pages)
    if not text.strip():
        raise _Refused("PDF has no text layer (a scanned image?); OCR it first")
    return text


def _pdf_decrypt(reader) -> bool:
    """Try the empty user password (common for 'protected' exports)."""
    from pypdf import PasswordType

    return reader.decrypt("") != PasswordType.NOT_DECRYPTED


class _quiet_pypdf:
    """Silence pypdf's log warnings about repaired PDFs while parsing (restored after)."""

    def __enter__(self) -> None:
        import logging
        import warnings

        self._logger = logging.getLogger("pypdf")
        self._level = self._logger.level
        self._logger.setLevel(logging.CRITICAL)
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc_info) -> None:
        self._warnings.__exit__(*exc_info)
        self._logger.setLevel(self._level)


# -------------------------------------------------------------- RTF


_RTF_BIN = re.compile(rb"\\bin(\d{1,9}) ?")


def _without_rtf_binary(data: bytes) -> bytes:
    """RTF bytes without the raw payloads of ``\\binN`` (an embedded picture's N bytes, NULs
    included), which are not text and would make the file look binary."""
    if b"\\bin" not in data:
        return data
    parts, pos = [], 0
    for m in _RTF_BIN.finditer(data):
        if m.start() < pos:
            continue  # inside a payload already skipped
        parts.append(data[pos:m.start()])
        pos = m.end() + int(m.group(1))
    parts.append(data[pos:])
    return b"".join(parts)


def _rtf_text(data: bytes) -> str:
    data = _without_rtf_binary(data)
    try:
        text, _ = _decode(data)
    except _Refused as refused:
        raise _Refused(f"could not be parsed as RTF: {refused}") from None
    return _rtf_from_str(text)


def _rtf_from_str(rtf: str) -> str:
    if not rtf.lstrip(" \t\r\n").startswith("{\\rtf"):
        raise _Refused("could not be parsed as RTF (no {\\rtf header)")
    from striprtf.striprtf import rtf_to_text  # lazy

    try:
        # errors="replace": one stray \'xx escape should not cost the whole note.
        text = rtf_to_text(rtf, errors="replace")
    except (UnicodeDecodeError, LookupError, ValueError, IndexError, OverflowError) as exc:
        # OverflowError: a \u escape beyond Unicode ("\u99999999999")
        raise _Refused(f"could not be parsed as RTF ({_exc_name(exc)})") from None
    # RTF writes a character outside the BMP as two \u escapes (a UTF-16 surrogate pair), which
    # striprtf returns as two surrogate code points: join the pairs, replace a lone one by U+FFFD
    # (a surrogate cannot be written as UTF-8, so it would fail the report).
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _exc_name(exc: BaseException) -> str:
    """The exception class only: library messages may quote document content."""
    return type(exc).__name__

