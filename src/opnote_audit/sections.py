"""Document structure: section headers and sentence boundaries of an operative note.

Headers come from ``patterns/sections.yml``; a header counts at the start of a (normalised)
line, or anywhere when written in capitals and followed by a colon ("... EBL: 50 mL. FINDINGS:").
Sentences end at line breaks, at section headers and at ., ? or ! followed by a capital,
except after the abbreviations listed in the data.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass

from opnote_audit import patterns
from opnote_audit.document import strip_span
from opnote_audit.errors import PatternError

KINDS = {"diagnosis", "procedure", "description", "findings", "indications", "history", "plan",
         "personnel", "other"}
MENTION_MODES = {"counts", "hypothetical", "historical"}


@dataclass(frozen=True)
class Section:
    id: str
    kind: str
    procedure_mentions: str
    header_start: int
    start: int  # first character of the section's content
    end: int


_NEWLINE = re.compile(r"\n")
PREAMBLE = Section("preamble", "other", "counts", 0, 0, 0)


_KEY_SPACES = re.compile(r"[\s_-]+")


def _key(header_text: str) -> str:
    """Normalised header name: lower case, "(s)" dropped, runs of spaces/hyphens as one space."""
    return _KEY_SPACES.sub(" ", header_text.lower().replace("(s)", "")).strip()


# Header candidates (layout, not vocabulary): text up to the first colon at a line start, and a
# run of capitals before a colon inside a line. Candidates are looked up in the header table.
_HEADER_WORD = re.compile(r"[^ _-]+")
_LINE_CANDIDATE = re.compile(r"[ \t]*(?:\d{1,2}[.)][ \t]*)?(?P<h>[A-Za-z][^:\n]{0,60}?)[ \t]*:")
_LINE_ALONE = re.compile(r"[ \t]*(?:\d{1,2}[.)][ \t]*)?(?P<h>[A-Za-z][A-Za-z0-9 ()/&'_-]{0,60}?)[ \t]*(?=\n|$)")
# A title set off by decoration on both sides: "--- NARRATIVE ---", "=== APPROACH ===",
# "*** OPERATIVE NOTE ***" (the title is lazy and bounded; the decoration cannot start a title)
_DECORATED = re.compile(r"[ \t]*[-=*#~]{2,}[ \t]*(?P<h>[A-Za-z][^\n]{0,60}?)[ \t]*[-=*#~]{2,}[ \t]*(?=\n|$)")
_DECORATION_START = frozenset("-=*#~ \t")  # a line that can start a decorated title
_PARENTHETICAL = re.compile(r"\s*\([^()]*\)\s*$")
# An all-caps dictation with no colons: "PROCEDURE L3 CORPECTOMY ...", "INDICATIONS 66 YEAR OLD ...".
_CAPS_WORDS = re.compile(r"[ \t]*(?:\d{1,2}[.)][ \t]*)?(?P<h>[A-Z][A-Z()/&'-]*(?:[ \t]+[A-Z][A-Z()/&'-]*){0,3})")
# (hyphens are separators, never part of a word: "CO-SURGEON" is two words, so "A-A-A-..." or a
# run of dashes cannot be split between words and separators in exponentially many ways)
_INLINE_CANDIDATE = re.compile(r"(?<=[\s.;])(?P<h>[A-Z][A-Z()/&']*(?:[ _-]+[A-Z()/&'][A-Z()/&']*){0,6})[ \t]*:")


@patterns.cached
def _compiled():
    data = patterns.load("sections.yml")
    entries = patterns.require(data, "sections", list, "patterns/sections.yml")
    table: dict[str, dict] = {}
    for e in entries:
        patterns.check_keys(e, {"id", "kind", "headers", "procedure_mentions"})
        sid = patterns.require(e, "id", str)
        kind = patterns.require(e, "kind", str)
        mode = e.get("procedure_mentions", "counts")
        if kind not in KINDS:
            raise PatternError(f"{patterns.where(e)}: kind '{kind}' is not one of {', '.join(sorted(KINDS))}")
        if mode not in MENTION_MODES:
            raise PatternError(f"{patterns.where(e)}: procedure_mentions must be one of {', '.join(sorted(MENTION_MODES))}")
        for h in patterns.require(e, "headers", list):
            if not isinstance(h, str) or not h.strip():
                raise PatternError(f"{patterns.where(e)}: every header must be a non-empty string")
            table.setdefault(_key(h), {"id": sid, "kind": kind, "mode": mode})
    generic = patterns.compile_regex(data.get("generic_header_regex", r"[A-Z][A-Z ]{2,40}:"), data, flags=0)
    field = patterns.compile_regex(data.get("field_header_regex", r"[A-Z][A-Za-z ]{1,40}:"), data, flags=0)
    generic_line = re.compile(rf"[ \t]*(?P<h>{generic.pattern}|{field.pattern})")
    narrative = data.get("narrative_start") or {}
    narrative_re = patterns.compile_regex(narrative["regex"], narrative, flags=0) if narrative.get("regex") else None
    narrative_kinds = frozenset(narrative.get("in_kinds") or [])
    return table, generic_line, narrative_re, narrative_kinds


def _caps_header(text: str, pos: int, table: dict) -> tuple[int, int, dict] | None:
    """(start, end, section) of a known header starting an all-caps line without a colon
    ("PROCEDURE L3 CORPECTOMY ..."); the longest known header wins."""
    head = text[pos:pos + 60].split("\n", 1)[0].lstrip()
    if not head[:1].isupper() or head != head.upper() or sum(c.isalpha() for c in head) < 8:
        return None  # not an all-caps line
    m = _CAPS_WORDS.match(text, pos)
    if not m:
        return None
    words = list(re.finditer(r"\S+", m.group("h")))
    for n in range(len(words), 0, -1):
        end = m.start("h") + words[n - 1].end()
        info = _known(table, text[m.start("h"):end])
        if info is not None:
            return m.start("h"), end, info
    return None


def _known(table: dict, header_text: str) -> dict | None:
    key = _key(header_text)
    if key in table:
        return table[key]
    if key.endswith("s") and key[:-1] in table:
        return table[key[:-1]]
    bare = _PARENTHETICAL.sub("", key)  # "indications (free text)"
    if bare != key and bare:
        return _known(table, bare)
    return None


@patterns.cached
def _copied_regexes():
    block = patterns.load("sections.yml").get("copied_block") or {}
    if not block:
        return None
    return (patterns.compile_regex(patterns.require(block, "start", str), block),
            patterns.compile_regex(patterns.require(block, "end", str), block))


def _copied_blocks(text: str, hits: dict) -> None:
    """Text copied forward from an earlier operation: a history section up to its end marker."""
    regexes = _copied_regexes()
    if regexes is None:
        return
    start_re, end_re = regexes
    keys = sorted(hits)  # kept in step with hits below
    for m in start_re.finditer(text):
        if end_re.match(text, m.start()):
            continue
        e = end_re.search(text, m.end())
        stop = e.start() if e else len(text)
        lo, hi = bisect_left(keys, m.start()), bisect_left(keys, stop)
        for k in keys[lo:hi]:
            del hits[k]  # headers inside the copied text belong to the old note
        del keys[lo:hi]
        _put(hits, keys, m.start(), (m.end(), {"id": "copied_text", "kind": "history", "mode": "historical"}))
        if e:
            _put(hits, keys, e.start(), (e.end(), {"id": "text", "kind": "other", "mode": "counts"}))


def _put(hits: dict[int, tuple[int, dict]], keys: list[int], start: int, entry: tuple[int, dict]) -> None:
    """``hits[start] = entry``, with ``keys`` (``sorted(hits)``) kept in step."""
    if start not in hits:
        insort(keys, start)
    hits[start] = entry


def _overlaps(hits: dict[int, tuple[int, dict]], keys: list[int], start: int, end: int) -> bool:
    """Does [start, end) overlap a header already found (its start to its content start)?
    ``keys`` is ``sorted(hits)``, kept up to date by the caller."""
    i = bisect_right(keys, start) - 1
    if i >= 0 and hits[keys[i]][0] > start:
        return True  # the header before reaches into this one
    j = bisect_right(keys, start - 1)
    return j < len(keys) and keys[j] < end


def find_sections(text: str) -> list[Section]:
    """Sections in order; text before the first header belongs to no section."""
    table, generic_line, narrative_re, narrative_kinds = _compiled()
    hits: dict[int, tuple[int, dict]] = {}
    line_starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
    for pos in line_starts:
        m = _DECORATED.match(text, pos) if text[pos:pos + 1] in _DECORATION_START else None
        if m:  # a decorated title is a header, known or not: it ends the section before it
            hits[m.start("h")] = (m.end(), _known(table, m.group("h")) or {"id": "other", "kind": "other", "mode": "counts"})
            continue
        m = _LINE_CANDIDATE.match(text, pos)
        info = _known(table, m.group("h")) if m else None
        if info is None:
            m = _LINE_ALONE.match(text, pos)
            info = _known(table, m.group("h")) if m else None
        if info is not None:
            hits[m.start("h")] = (m.end(), info)
            continue
        caps = _caps_header(text, pos, table)
        if caps is not None:
            hits[caps[0]] = (caps[1], caps[2])
    keys = sorted(hits)
    for m in _INLINE_CANDIDATE.finditer(text):
        words = list(_HEADER_WORD.finditer(m.group("h")))
        for w in words:  # the longest known header ending at the colon
            info = _known(table, m.group("h")[w.start():])
            if info is not None:
                start = m.start("h") + w.start()
                if not _overlaps(hits, keys, start, start + 1):
                    _put(hits, keys, start, (m.end(), info))
                break
    for pos in line_starts:
        m = generic_line.match(text, pos)
        if m and not _overlaps(hits, keys, m.start("h"), m.end()):
            _put(hits, keys, m.start("h"), (m.end(), {"id": "other", "kind": "other", "mode": "counts"}))
    if narrative_re is not None:
        _narrative_breaks(text, line_starts, hits, narrative_re, narrative_kinds)
    _copied_blocks(text, hits)
    starts = sorted(hits)
    sections = []
    for i, hs in enumerate(starts):
        content_start, info = hits[hs]
        end = max(starts[i + 1] if i + 1 < len(starts) else len(text), content_start)
        if info["kind"] == "personnel":
            # "SURGEON: Dr. Lane" is a one-line field: what follows it is not personnel
            nl = text.find("\n", content_start, end)
            if nl != -1 and text[nl:end].strip():
                sections.append(Section(info["id"], info["kind"], info["mode"], hs, content_start, nl))
                sections.append(Section("text", "other", "counts", nl + 1, nl + 1, end))
                continue
        sections.append(Section(info["id"], info["kind"], info["mode"], hs, content_start, end))
    return sections


_SENTENCE_START = re.compile(r"(?<=[.!?])[ \t]+(?=[A-Z])")
_BLANKS = re.compile(r"[ \t]*")


def _narrative_breaks(text: str, line_starts: list[int], hits: dict, regex, kinds) -> None:
    """Open a description section where the operative narrative starts inside the indications
    (at a line start, or a sentence start when paragraphs were joined on one line)."""
    lower = None
    ordered = sorted(hits)
    spans = [(h, ordered[i + 1] if i + 1 < len(ordered) else len(text)) for i, h in enumerate(ordered)
             if hits[h][1]["kind"] in kinds]
    if not spans:
        return
    candidates = set(line_starts) | {m.end() for m in _SENTENCE_START.finditer(text)}
    # the sections' contents: disjoint [content start, next header) intervals, in order
    intervals = sorted((hits[a][0], b) for a, b in spans if hits[a][0] < b)
    interval_starts = [a for a, _ in intervals]

    def inside(p: int) -> bool:
        k = bisect_right(interval_starts, p) - 1
        return k >= 0 and p < intervals[k][1]

    starts = sorted(p for p in candidates if inside(p))
    for pos in starts:
        if pos in hits:
            continue
        i = bisect_right(ordered, pos) - 1
        if i < 0 or hits[ordered[i]][1]["kind"] not in kinds or hits[ordered[i]][0] > pos:
            continue
        if lower is None:
            lower = text.lower()
        start = _BLANKS.match(text, pos).end()
        if regex.match(lower, start):
            hits[start] = (start, {"id": "description", "kind": "description", "mode": "counts"})
            ordered = sorted(hits)
            return  # the narrative has started: what follows is the operation


MAX_SENTENCE_CHARS = 1500  # a run-on "sentence" longer than this is cut at a comma or space


def _split_long(text: str, cuts: list[int]) -> list[int]:
    """Cut over-long sentences (a 1 MB line with no full stop) so per-sentence work stays bounded."""
    out = []
    for a, b in zip(cuts, cuts[1:]):
        out.append(a)
        while b - a > MAX_SENTENCE_CHARS:
            limit = a + MAX_SENTENCE_CHARS
            cut = max(text.rfind(",", a + MAX_SENTENCE_CHARS // 2, limit), text.rfind(" ", a + MAX_SENTENCE_CHARS // 2, limit))
            a = cut + 1 if cut > a else limit
            out.append(a)
    out.append(cuts[-1])
    return out


class SectionIndex:
    """Find the section that holds a character offset."""

    def __init__(self, sections: list[Section]):
        self.sections = sections
        self._starts = [s.header_start for s in sections]

    def at(self, pos: int) -> Section:
        i = bisect_right(self._starts, pos) - 1
        return self.sections[i] if i >= 0 else PREAMBLE


_SENT_END = re.compile(r"[.!?](?=[\"')\]]?\s+[\"'(\[]?[A-Z0-9\[\u2610-\u2612])|\n")
_LIST_NUMBER = re.compile(r"(?:^|\n)[ \t]*[0-9A-Za-z]{1,2}\.$")


@patterns.cached
def _abbreviation_before() -> tuple[re.Pattern[str], int]:
    """(a regex for "an abbreviation's full stop" at a match end, how far back it must look)."""
    words = patterns.require(patterns.load("sections.yml"), "sentence_abbreviations", list, "patterns/sections.yml")
    if not words or not all(isinstance(w, str) and w.strip() for w in words):
        raise PatternError("patterns/sections.yml: sentence_abbreviations must be a list of non-empty strings")
    alternatives = "|".join(["[A-Za-z]"] + [re.escape(w.strip()) for w in words])
    return re.compile(rf"(?:^|[\s(])(?:{alternatives})\.$"), max(len(w.strip()) for w in words) + 2


def find_sentences(text: str, sections: list[Section]) -> list[tuple[int, int]]:
    """Sentence spans (start, end) covering the normalised text."""
    cuts = {0, len(text)}
    abbreviation_before, reach = _abbreviation_before()
    for m in _SENT_END.finditer(text):
        if m.group() == "\n":
            cuts.add(m.start())
            cuts.add(m.end())
            continue
        if abbreviation_before.search(text, max(0, m.start() - reach), m.end()) or _LIST_NUMBER.search(
            text, max(0, m.start() - 6), m.end()
        ):
            continue
        cuts.add(m.end())
    for s in sections:
        cuts.add(s.header_start)
        if s.id != "other":  # a field label ("Modifier 62 (co-surgery): [x] No") stays with its answer
            cuts.add(s.start)
    ordered = sorted(cuts)
    ordered = _split_long(text, ordered)
    spans = []
    for a, b in zip(ordered, ordered[1:]):
        span = strip_span(text, a, b)
        if span:
            spans.append(span)
    return spans
