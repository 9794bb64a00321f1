"""HTML: one self-contained page per note, and a batch index for ``scan --html DIR``.

A note page shows the verdict, the six elements with status badges, the note text with
every element's evidence highlighted in the element's colour (overlapping spans are split
into segments, each naming all the elements that cover it), the findings with their
advice linked to the line they concern, and the claim review when there is one.

Pages are self-contained: inline CSS (and, on the index, one inline script allowed by
its hash in the Content-Security-Policy), no fonts, images or other requests. Jinja
autoescaping is always on, so a note holding ``<script>`` or markup shows as text.
With ``RenderOptions(with_text=False)`` (``--no-evidence``) no note text is written:
elements and findings carry line numbers only.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from opnote_audit.models import ELEMENTS, STATUSES
from opnote_audit.report import RenderOptions, result_dict
from opnote_audit.report.text import ELEMENT_TITLE, _value_text

# element -> (highlight tint, strong colour); Okabe-Ito based, distinct in print and for
# the common colour-vision deficiencies; statuses are always words as well as colours.
ELEMENT_COLOUR = {
    "approach": ("#ffdf99", "#b37400"),
    "level": ("#c4e6fb", "#1f78b4"),
    "pathology": ("#f5c9e1", "#a8447d"),
    "extent": ("#b6ead6", "#007a58"),
    "neural_elements": ("#ddd2f7", "#6a4fb3"),
    "co_surgeon": ("#e6e3a8", "#77711d"),
}
GAP_STATUSES = ("insufficient", "missing", "conflict")
STATUS_RANK = {"missing": 0, "conflict": 1, "insufficient": 2, "documented": 3, "not_applicable": 4}
CSP = ("default-src 'none'; script-src {script}; style-src 'unsafe-inline'; img-src 'none'; "
       "font-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'")


# ------------------------------------------------------------------ segmentation


@dataclass(frozen=True)
class Span:
    """One evidence span of an element: ``key`` is ``element:index`` into its evidence list."""

    key: str
    element: str
    start: int
    end: int


@dataclass(frozen=True)
class Segment:
    """A run of one line's text covered by the same set of spans (empty: plain text)."""

    text: str
    spans: tuple[Span, ...] = ()

    @property
    def elements(self) -> tuple[str, ...]:
        """The distinct elements covering the segment, in the order of ELEMENTS."""
        seen = {s.element for s in self.spans}
        return tuple(e for e in ELEMENTS if e in seen) + tuple(sorted(seen - set(ELEMENTS)))


def evidence_spans(elements: dict[str, dict], length: int) -> tuple[list[Span], int]:
    """The elements' evidence as spans inside ``[0, length]``; also how many were left out."""
    spans, dropped = [], 0
    for name, el in elements.items():
        for i, ev in enumerate(el.get("evidence") or []):
            start, end = ev.get("start"), ev.get("end")
            if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= length:
                spans.append(Span(f"{name}:{i}", name, start, end))
            else:
                dropped += 1
    return spans, dropped


def segment_lines(text: str, spans: Iterable[Span]) -> list[list[Segment]]:
    """Split ``text`` into lines (at ``\\n``, as the audit numbers them) of segments.

    Every boundary of every span cuts the text, so overlapping or crossing spans become
    consecutive segments each listing all the spans that cover it; a span running over a
    line break is cut there too. Concatenating a line's segments gives the line back.
    """
    spans = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    starts: dict[int, list[Span]] = {}
    ends: dict[int, list[Span]] = {}
    points = {0, len(text)}
    for s in spans:
        starts.setdefault(s.start, []).append(s)
        ends.setdefault(s.end, []).append(s)
        points.update((s.start, s.end))
    for i, ch in enumerate(text):
        if ch == "\n":
            points.update((i, i + 1))
    order = {s: n for n, s in enumerate(spans)}
    active: set[Span] = set()
    lines: list[list[Segment]] = [[]]
    cuts = sorted(points)
    for a, b in zip(cuts, cuts[1:]):
        active.difference_update(ends.get(a, ()))
        active.update(starts.get(a, ()))
        piece = text[a:b]
        if piece == "\n":
            lines.append([])
            continue
        lines[-1].append(Segment(piece, tuple(sorted(active, key=order.__getitem__))))
    if text.endswith("\n"):
        lines.pop()  # the empty "line" after a final line break is no line of the note
    return lines


# ------------------------------------------------------------------ view models


def _title(name: str) -> str:
    return ELEMENT_TITLE.get(name, name.replace("_", " ").capitalize())


def _status_word(status: str) -> str:
    return status.replace("_", " ")


def _mark(seg: Segment, statuses: dict[str, str]) -> dict[str, Any]:
    """What the template needs to draw one segment."""
    text = seg.text.replace("\r", "")
    if not seg.spans:
        return {"text": text, "mark": False}
    els = seg.elements
    title = "\n".join(f"{_title(e)}: {_status_word(statuses.get(e, ''))}" for e in els)
    style = ""
    if len(els) > 1:  # equal horizontal bands, one per element
        step = 100 / len(els)
        stops = ", ".join(f"{ELEMENT_COLOUR.get(e, ('#eee', '#777'))[0]} {i * step:.0f}% {(i + 1) * step:.0f}%"
                          for i, e in enumerate(els))
        style = f"background: linear-gradient(to bottom, {stops});"
    return {"text": text, "mark": True, "els": " ".join(els), "first": els[0],
            "ev": " ".join(s.key for s in seg.spans), "title": title, "style": style}


def _lines_view(text: str, data: dict) -> tuple[list[dict], int]:
    spans, dropped = evidence_spans(data["elements"], len(text))
    statuses = {n: el["status"] for n, el in data["elements"].items()}
    lines = segment_lines(text, spans)
    return [{"n": n, "segs": [_mark(s, statuses) for s in segs]} for n, segs in enumerate(lines, 1)], dropped


def _lines(evidence: list[dict]) -> list[int]:
    return sorted({e["line"] for e in evidence if isinstance(e.get("line"), int)})


def _snippet(text: str | None, limit: int = 90) -> str | None:
    if text is None:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _verdict(data: dict) -> dict[str, Any]:
    gaps = data["summary"]["gaps"]
    if data["verdict"] == "supports":
        return {"ok": True, "text": f"Supports {data['code']}"}
    n = len(gaps)
    return {"ok": False, "text": f"{n} gap{'s' if n != 1 else ''}: does not yet support {data['code']}"}


def _elements_view(data: dict) -> list[dict[str, Any]]:
    """The six element rows, each with the advice of the findings about it."""
    findings = data.get("findings") or []
    rows = []
    for name, el in data["elements"].items():
        advice = [f["advice"] for f in findings if f.get("element") == name and f.get("advice")]
        evidence = el.get("evidence") or []
        rows.append({
            "name": name, "title": _title(name), "status": el["status"], "status_word": _status_word(el["status"]),
            "value": _value_text(name, el.get("value")), "reason": el.get("reason") or "",
            "lines": _lines(evidence), "count": len(evidence), "advice": list(dict.fromkeys(advice)),
        })
    return rows


def _findings_view(data: dict, with_text: bool) -> list[dict[str, Any]]:
    """The findings with their element title, lines and (with text) up to three quotes."""
    out = []
    for f in data.get("findings") or []:
        evidence = f.get("evidence") or []
        element = f.get("element", "")
        quotes = [_snippet(e.get("text")) for e in evidence[:3]] if with_text else []
        out.append({**f, "element_title": _title(element) if element in ELEMENTS else element,
                    "lines": _lines(evidence), "quotes": [q for q in quotes if q]})
    return out


def _page_context(data: dict, note_text: str | None, with_text: bool, notices: list[str]) -> dict[str, Any]:
    lines: list[dict] = []
    has_text = with_text and note_text is not None
    if has_text:
        lines, dropped = _lines_view(note_text, data)
        if dropped:
            notices.append(f"{dropped} evidence span(s) fall outside the note text and are not highlighted.")
    return {
        "data": data, "verdict": _verdict(data), "elements": _elements_view(data),
        "findings": _findings_view(data, with_text), "with_text": with_text, "lines": lines,
        "has_text": has_text, "notices": notices, "suggested": data.get("suggested_codes") or [],
        "claim": data.get("claim"), "summary": data["summary"],
    }


# ------------------------------------------------------------------ templates


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=PackageLoader("opnote_audit.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["words"] = lambda key: str(key).replace("_", " ")
    env.tests["scalar"] = lambda v: v is None or isinstance(v, (str, int, float, bool))
    env.tests["table"] = _is_table
    return env


def _is_table(value: Any) -> bool:
    """A non-empty list of mappings sharing their keys: shown as a table."""
    return (isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
            and all(v.keys() == value[0].keys() for v in value))


def _csp(script: str | None) -> str:
    if script is None:
        return CSP.format(script="'none'")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return CSP.format(script=f"'sha256-{digest}'")


def _page_from_dict(data: dict, note_text: str | None, with_text: bool, notices: list[str] | None = None,
                    index_href: str | None = None) -> str:
    ctx = _page_context(data, note_text, with_text, list(notices or []))
    return _env().get_template("note.html.j2").render(
        **ctx, csp=_csp(None), index_href=index_href, colours=ELEMENT_COLOUR,
        element_names=list(ELEMENTS), titles={e: _title(e) for e in ELEMENTS})


# ------------------------------------------------------------------ note page API


def render_page(result, note_text: str | None, options: RenderOptions = RenderOptions(), *,
                notices: list[str] | None = None) -> str:
    """The page of one audited note; ``note_text`` is the decoded text the offsets refer to.

    With ``note_text=None`` the page says the note text is not available; with
    ``options.with_text`` False the note text is never written whatever is passed.
    """
    notes = list(notices or [])
    if options.with_text and note_text is not None:
        mismatch = _text_mismatch(note_text, result.source)
        if mismatch:
            notes, note_text = notes + mismatch, None
    elif options.with_text:
        notes = notes or ["The note text is not available: evidence is shown by line number only."]
    return _page_from_dict(result_dict(result, options), note_text, options.with_text, notes)


def render(result, options: RenderOptions) -> str:
    """``check --format html``: re-read the note from ``result.file`` for the highlights."""
    text, notices = None, []
    if options.with_text:
        text, notices = _reread(Path(result.file))
    return render_page(result, text, options, notices=notices)


def _reread(path: Path) -> tuple[str | None, list[str]]:
    """The note text again, or None with a notice saying why highlights are left out."""
    from opnote_audit.errors import InputError
    from opnote_audit.readers import read_note

    if not path.is_file():
        return None, ["The note file cannot be read again (e.g. it came from standard input): "
                      "evidence is shown by line number only, without highlights."]
    try:
        return read_note(path).text, []
    except InputError as exc:
        return None, [f"The note cannot be read again ({exc}): highlights are left out."]


def _text_mismatch(text: str, source: dict | None) -> list[str]:
    chars = (source or {}).get("chars")
    if isinstance(chars, int) and chars != len(text):
        return ["The note file changed after it was audited (its length differs): highlights are left out."]
    return []


# ------------------------------------------------------------------ batch


def page_name(file: str, taken: set[str] | None = None) -> str:
    """A safe, unique page file name: slug of the note path plus a short hash of it."""
    slug = re.sub(r"[^a-z0-9]+", "-", file.lower()).strip("-")[:60].strip("-") or "note"
    digest = hashlib.sha256(file.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    name = f"{slug}-{digest}.html"
    n = 2
    while taken is not None and name in taken:
        name = f"{slug}-{digest}-{n}.html"
        n += 1
    if taken is not None:
        taken.add(name)
    return name


def _evidence_texts(record: dict) -> list[str | None]:
    texts = [e.get("text") for el in record.get("elements", {}).values() for e in el.get("evidence") or []]
    return texts + [e.get("text") for f in record.get("findings") or [] for e in f.get("evidence") or []]


def _batch_has_text(records: list[dict]) -> bool:
    """Were the records made with evidence text? False after --no-evidence, and when unsure.

    A record made without evidence text has ``None`` for every quote; a batch holding no
    quote at all cannot tell, and then the pages leave the note text out (the safe side).
    """
    return any(t is not None for r in records if "error" not in r for t in _evidence_texts(r))


def batch_summary(records: list[dict]) -> dict[str, Any]:
    """Counts over the readable notes: verdicts, statuses per element, gap rates, rules."""
    ok = [r for r in records if "error" not in r]
    statuses = {e: Counter(r["elements"][e]["status"] for r in ok if e in r["elements"]) for e in ELEMENTS}
    rules: dict[str, dict[str, Any]] = {}
    for r in ok:
        for f in r.get("findings") or []:
            entry = rules.setdefault(f["rule"], {"rule": f["rule"], "severity": f.get("severity", ""),
                                                 "element": f.get("element", ""), "notes": set()})
            entry["notes"].add(id(r))
    n = len(ok)
    gap_rates = {}
    for e in ELEMENTS:
        gaps = sum(statuses[e][s] for s in GAP_STATUSES)
        gap_rates[e] = {"counts": {s: statuses[e][s] for s in STATUSES}, "gaps": gaps,
                        "rate": (gaps / n) if n else 0.0}
    rule_rows = sorted(({**v, "notes": len(v["notes"]), "rate": len(v["notes"]) / n if n else 0.0}
                        for v in rules.values()), key=lambda v: (-v["notes"], v["rule"]))
    return {"notes": len(records), "readable": n, "unreadable": len(records) - n,
            "supports": sum(1 for r in ok if r.get("verdict") == "supports"),
            "gaps": sum(1 for r in ok if r.get("verdict") != "supports"),
            "elements": gap_rates, "rules": rule_rows}


def _index_row(record: dict, page: str) -> dict[str, Any]:
    findings = record.get("findings") or []
    return {
        "file": record["file"], "page": page, "code": record.get("code", ""), "verdict": record.get("verdict", ""),
        "statuses": {e: record["elements"].get(e, {}).get("status", "") for e in ELEMENTS},
        "errors": record.get("summary", {}).get("errors", 0), "warnings": record.get("summary", {}).get("warnings", 0),
        "rules": sorted({f["rule"] for f in findings}),
    }


def render_index(records: list[dict], pages: list[str | None]) -> str:
    """The batch index: one row per readable note, gap rates, and the unreadable files."""
    script = _env().get_template("index_script.html.j2").render()
    rows = [_index_row(r, p) for r, p in zip(records, pages) if "error" not in r and p]
    errors = [{"file": r.get("file", ""), "error": r["error"]} for r in records if "error" in r]
    summary = batch_summary(records)
    return _env().get_template("index.html.j2").render(
        rows=rows, errors=errors, summary=summary, script=Markup(script), csp=_csp(script),
        element_names=list(ELEMENTS), titles={e: _title(e) for e in ELEMENTS}, statuses=list(STATUSES),
        short={**{e: _title(e) for e in ELEMENTS}, "neural_elements": "Neural"}, status_rank=STATUS_RANK,
        rules=sorted({rule for row in rows for rule in row["rules"]}), colours=ELEMENT_COLOUR)


def write_batch(records: list[dict], out_dir: Path, notes_root: Path | None = None,
                options: RenderOptions | None = None) -> Path:
    """Write ``index.html`` and one page per readable note into ``out_dir``; return the index path.

    ``records`` are the JSON-contract dicts in order (error records carry ``error``);
    ``file`` is relative to ``notes_root`` when it is given. Each note is read again to
    draw its highlights; when it cannot be (or it changed), its page says so. With
    ``options.with_text`` False no note text is written at all; without ``options`` the
    records decide (made with ``--no-evidence``, or holding no quote at all: no note text).
    """
    from opnote_audit.errors import UsageError

    with_text = options.with_text if options is not None else _batch_has_text(records)
    out_dir = Path(out_dir)
    taken: set[str] = {"index.html"}
    pages: list[str | None] = []
    outputs: dict[Path, str] = {}
    note_paths = set()
    for record in records:
        if "error" in record:
            pages.append(None)
            continue
        name = page_name(str(record["file"]), taken)
        pages.append(name)
        path = Path(notes_root) / record["file"] if notes_root is not None else Path(record["file"])
        note_paths.add(_resolved(path))
        use_text = with_text and all(t is not None for t in _evidence_texts(record))
        text, notices = (None, [])
        if use_text:
            text, notices = _reread(path)
            mismatch = _text_mismatch(text, record.get("source")) if text is not None else []
            if mismatch:
                text, notices = None, mismatch
        data = record if use_text else _strip_text(record)
        outputs[out_dir / name] = _page_from_dict(data, text, use_text, notices, index_href="index.html")
    outputs[out_dir / "index.html"] = render_index(records, pages)
    if any(_resolved(p) in note_paths for p in outputs):
        raise UsageError(f"{out_dir}: the HTML report would overwrite a note; choose another folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for path, html in outputs.items():
            path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{out_dir}: cannot write the HTML report ({exc.strerror or type(exc).__name__})") from None
    return out_dir / "index.html"


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _strip_text(record: dict) -> dict:
    """A copy of a record without note text (evidence text and pathology wording)."""
    out = dict(record)
    out["elements"] = {}
    for name, el in record.get("elements", {}).items():
        el = {**el, "evidence": [{**e, "text": None} for e in el.get("evidence") or []]}
        if name == "pathology" and isinstance(el.get("value"), list):
            el["value"] = [{"category": v.get("category"), "text": None} for v in el["value"] if isinstance(v, dict)]
        out["elements"][name] = el
    out["findings"] = [{**f, "evidence": [{**e, "text": None} for e in f.get("evidence") or []]}
                       for f in record.get("findings") or []]
    return out
