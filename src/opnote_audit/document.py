"""Prepare note text for matching: join hard line wraps, fold runs of white space, keep a map.

Operative notes arrive with hard line wraps in mid-sentence, double spaces and indented
template lines. Matching works on a *normalised* text in which a wrapped line is joined to the
previous one with one space and runs of spaces collapse, while structural breaks (blank lines,
headers, list items, checkboxes, short lines such as "Surgeon: Dr. Lane") stay line breaks.

Every normalised character maps back to the original text, so evidence carries offsets and
line numbers into the decoded file exactly as it was read.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from opnote_audit import patterns
from opnote_audit.errors import PatternError

# Layout cues, not clinical vocabulary: how a line starts or ends.
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[a-zA-Z][.)]\s|[-*\u2022\u25cf\u25aa]\s|\[[ xX\u2713\u2714]?\]|[\u2610\u2611\u2612]|\([ xX]?\))")
_KEY_VALUE = re.compile(r"^\s*[A-Za-z][A-Za-z0-9 /()&'-]{0,40}(?::|\s*\.{3,})")  # "Key:" or "Key ......"
_ALL_CAPS_LINE = re.compile(r"^\s*[A-Z][A-Z0-9 ,/&()'-]{2,60}:?\s*$")
# white space that needs folding: two or more blanks, or any blank other than a plain space
_SPACE_RUN = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u3000]{2,}|[\t\f\v\u00a0\u2000-\u200b\u3000]")
SHORT_LINE = 45  # a line shorter than this is taken as ending where the author meant it to


def strip_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """``(start, end)`` with white space trimmed from both edges; None when only white space is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


@dataclass
class Prepared:
    """The original text, its normalised form and the map between them."""

    original: str
    text: str
    # normalised position -> original position, piecewise: at _norm[i] the original is _orig[i]
    _norm: list[int] = field(default_factory=list)
    _orig: list[int] = field(default_factory=list)
    _line_starts: list[int] = field(default_factory=list)

    def to_original(self, pos: int) -> int:
        i = bisect_right(self._norm, pos) - 1
        if i < 0:
            return 0
        return self._orig[i] + (pos - self._norm[i])

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalised span to the original text (end exclusive)."""
        if end <= start:
            s = self.to_original(start)
            return s, s
        return self.to_original(start), self.to_original(end - 1) + 1

    def line_of(self, orig_pos: int) -> int:
        """1-based line number of an original character offset."""
        return bisect_right(self._line_starts, orig_pos)


def _is_hard_break(prev: str, nxt: str) -> bool:
    """Is the line break between two non-blank lines meant (not a wrap)?"""
    p = prev.rstrip()
    if _LIST_ITEM.match(nxt) or _KEY_VALUE.match(nxt) or _ALL_CAPS_LINE.match(nxt):
        return True
    if p.endswith(":") or _ALL_CAPS_LINE.match(prev):
        return True
    if nxt.lstrip()[:1].islower() and not p.endswith((".", ";", "?", "!")):
        return False  # a sentence running on in lower case is a wrap, however short the line
    return len(p) < SHORT_LINE


def _double_spaced(lines: list[str]) -> bool:
    """Is this a double-spaced export (nearly every text line followed by one blank line)?"""
    text_lines = followed = 0
    for i, line in enumerate(lines[:-1]):
        if line.strip():
            text_lines += 1
            if not lines[i + 1].strip() and (i + 2 >= len(lines) or lines[i + 2].strip()):
                followed += 1
    return text_lines >= 6 and followed >= 0.8 * text_lines


@patterns.cached
def _spoken_rules() -> tuple[list[tuple[str, re.Pattern[str], int]], re.Pattern[str], re.Pattern[str], dict[str, str]] | None:
    """(detectors (word, regex, count), the command regex, the capitalisation regex, spoken
    word -> mark) from patterns/dictation.yml, or None when it has no spoken_punctuation entry."""
    data = patterns.load("dictation.yml").get("spoken_punctuation")
    if not data:
        return None
    name = "patterns/dictation.yml"
    patterns.check_keys(data, ("detect", "commands", "sentence_end", "not_before"), name)
    detect = patterns.require(data, "detect", dict, name)
    commands = patterns.require(data, "commands", dict, name)
    words: dict[str, str] = {}
    for mark, spoken in commands.items():
        if not isinstance(spoken, list) or not all(isinstance(w, str) and w.strip() for w in spoken):
            raise PatternError(f"{patterns.where(commands, name)}: commands: {mark!r} must list spoken words")
        if len(str(mark)) > min(len(w) for w in spoken):
            raise PatternError(f"{patterns.where(commands, name)}: commands: {mark!r} is longer than its words")
        for w in spoken:
            words[" ".join(w.lower().split())] = str(mark)
    detectors = []
    for w, n in detect.items():
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise PatternError(f"{patterns.where(detect, name)}: detect: {w!r} needs a positive count")
        phrase = " ".join(str(w).lower().split())
        # (a fast necessary test: the longest word's count in the lower-cased text, the regex)
        detectors.append((max(phrase.split(), key=len), re.compile(patterns.trie_regex([phrase]), re.IGNORECASE), n))
    not_before = data.get("not_before")
    guard = rf"(?![ \t]+{not_before})" if not_before else ""
    if not_before:
        patterns.compile_regex(not_before, data)
    command = re.compile(rf"[ \t]*\b(?P<w>{patterns.trie_regex(words)}){guard}", re.IGNORECASE)
    ends = "".join(re.escape(m) for m in patterns.require(data, "sentence_end", list, name) if m)
    capital = re.compile(rf"(?:[{ends}]|^)[ \t]*(?P<c>[a-z])" if ends else r"^[ \t]*(?P<c>[a-z])", re.MULTILINE)
    return detectors, command, capital, words


def spoken_punctuation(text: str) -> str:
    """``text`` with typed-out dictation commands ("comma", "period") read as punctuation,
    padded to the same length, when the note is voice-recognition output of that kind."""
    rules = _spoken_rules()
    if rules is None:
        return text
    detectors, command, capital, words = rules
    lower = text.lower()
    if not any(lower.count(needle) >= n and len(rx.findall(text)) >= n for needle, rx, n in detectors):
        return text

    def mark(m: re.Match[str]) -> str:
        sign = words[" ".join(m.group("w").lower().split())]
        return sign.ljust(len(m.group()))

    out = command.sub(mark, text)
    return capital.sub(lambda m: m.group()[:-1] + m.group("c").upper(), out)  # [a-z]: same length


# lines end as in Python's universal newlines: "\n", "\r\n" and a lone "\r" (old Mac files)
_LONE_CR = re.compile("\r(?!\n)")


def prepare(original: str) -> Prepared:
    """Normalise ``original`` (see the module doc); evidence offsets map back to it exactly."""
    work = spoken_punctuation(original)  # same length as the original
    if "\r" in work:
        work = _LONE_CR.sub("\n", work)  # one character for one: offsets stay exact
    prep = _prepare(work)
    prep.original = original
    return prep


def _prepare(original: str) -> Prepared:
    prep = Prepared(original=original, text="")
    out: list[str] = []
    npos = 0

    def emit(chunk: str, opos: int) -> None:
        nonlocal npos
        if not chunk:
            return
        prep._norm.append(npos)
        prep._orig.append(opos)
        out.append(chunk)
        npos += len(chunk)

    starts = [0]
    lines = original.split("\n")
    double_spaced = _double_spaced(lines)
    pos = 0
    prev_content: str | None = None  # last non-blank line's text
    blank_since = False
    blank_run = False
    for line in lines:
        line_start = pos
        pos += len(line) + 1
        starts.append(pos)
        body = line.rstrip("\r")
        stripped = body.strip()
        if not stripped:
            # a double-spaced export puts a blank line after every line: one blank line there is
            # not a paragraph break
            blank_since = blank_since or not double_spaced or blank_run
            blank_run = True
            continue
        blank_run = False
        lead = len(body) - len(body.lstrip())
        if prev_content is not None:
            if blank_since or _is_hard_break(prev_content, body):
                emit("\n", line_start - 1 if line_start else 0)
            elif prev_content.rstrip().endswith("-") and body.lstrip()[:1].islower() \
                    and prev_content.rstrip()[-2:-1].isalpha():
                # a word broken at the line end ("decom-\npression", "extra-\ncavitary"): join it
                # without the hyphen, which the normalised text leaves out (offsets still map back)
                out[-1] = out[-1][:-1]
                npos -= 1
            else:
                emit(" ", line_start - 1)
        # the line itself, runs of spaces folded to one
        seg_start = line_start + lead
        content = body[lead:].rstrip()
        last = 0
        for m in _SPACE_RUN.finditer(content):
            emit(content[last:m.start()], seg_start + last)
            emit(" ", seg_start + m.start())
            last = m.end()
        emit(content[last:], seg_start + last)
        prev_content = body
        blank_since = False
    prep.text = "".join(out)
    prep._line_starts = starts[:-1] if len(starts) > 1 else [0]
    return prep
