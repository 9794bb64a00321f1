"""The reading stage: from note text to an :class:`Analysis` the element decisions work on.

text -> normalised text (document) -> spaCy Doc (nlp) -> sections and sentences (sections)
-> term mentions (matching) and level groups (levels) -> context labels on each (context).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from opnote_audit import levels as levels_mod
from opnote_audit.context import get_engine
from opnote_audit.document import Prepared, prepare
from opnote_audit.models import Evidence, Mention
from opnote_audit.nlp import get_term_matcher, tokenize
from opnote_audit.sections import Section, SectionIndex, find_sections, find_sentences
from opnote_audit.templates import blank_residue


@dataclass
class Analysis:
    prepared: Prepared
    sentences: list[tuple[int, int]]
    sections: list[Section]
    section_index: SectionIndex
    mentions: list[Mention]
    level_groups: list[tuple[int, levels_mod.LevelGroup]]  # (sentence index, group)
    doc: object = None  # the spaCy Doc of the normalised text
    lower: str = ""     # the normalised text in lower case, same offsets (for the data's regexes)
    _labels_cache: dict[tuple[int, int, int], frozenset[str]] = field(default_factory=dict)
    _regex_cache: dict[int, tuple] = field(default_factory=dict)  # id(regex) -> (regex, matches)
    _sent_starts: list[int] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.prepared.text

    def sentence_of(self, pos: int) -> int:
        if len(self._sent_starts) != len(self.sentences):
            self._sent_starts = [s for s, _ in self.sentences]
        return max(0, bisect_right(self._sent_starts, pos) - 1)

    def sentence_text(self, idx: int) -> str:
        s, e = self.sentences[idx]
        return self.text[s:e]

    def labels(self, start: int, end: int, sent: int | None = None) -> frozenset[str]:
        """Context labels of any normalised span (cached)."""
        if sent is None:
            sent = self.sentence_of(start)
        key = (sent, start, end)
        if key not in self._labels_cache:
            s0, s1 = self.sentences[sent] if self.sentences else (0, len(self.text))
            rel = (max(0, start - s0), max(0, min(end, s1) - s0))
            self._labels_cache[key] = get_engine().labels_in_sentence(self.text[s0:s1], [rel])[0]
        return self._labels_cache[key]

    def section_at(self, pos: int) -> Section:
        return self.section_index.at(pos)

    def evidence(self, start: int, end: int) -> Evidence:
        """Evidence quoted from the original text for a normalised span."""
        ostart, oend = self.prepared.span_to_original(start, end)
        return Evidence(self.prepared.original[ostart:oend], self.prepared.line_of(ostart), ostart, oend)

    def tokens_near(self, tok_start: int, tok_end: int, window: int) -> set[str]:
        doc = self.doc
        lo, hi = max(0, tok_start - window), min(len(doc), tok_end + window)
        return {t.lower_ for t in doc[lo:tok_start]} | {t.lower_ for t in doc[tok_end:hi]}

    def by_sentence(self, regex: re.Pattern[str]) -> dict[int, list[re.Match[str]]]:
        """Matches of ``regex`` over the lower-cased text, grouped by sentence (one scan, cached).

        A match that runs over a sentence end belongs to the sentence it starts in."""
        key = id(regex)
        if key not in self._regex_cache:
            out: dict[int, list[re.Match[str]]] = {}
            for m in regex.finditer(self.lower):
                out.setdefault(self.sentence_of(m.start()), []).append(m)
            self._regex_cache[key] = (regex, out)
        return self._regex_cache[key][1]

    def regex_in_sentence(self, regex: re.Pattern[str], sent: int) -> list[re.Match[str]]:
        s1 = self.sentences[sent][1]
        return [m for m in self.by_sentence(regex).get(sent, []) if m.end() <= s1]


def analyze(original: str) -> Analysis:
    prepared = prepare(original)
    prepared.text = blank_residue(prepared.text)  # template residue states nothing (offsets unchanged)
    text = prepared.text
    doc = tokenize(text)
    sections = find_sections(text)
    sentences = find_sentences(text, sections) or [(0, len(text))]
    index = SectionIndex(sections)
    mentions = get_term_matcher()(doc, text)
    lower = text.lower()
    if len(lower) != len(text):  # a character whose lower case is longer: keep offsets exact
        lower = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    an = Analysis(prepared, sentences, sections, index, mentions, [], doc=doc, lower=lower)

    # context labels, one engine call per sentence
    by_sent: dict[int, list[Mention]] = {}
    for m in mentions:
        m.sent = an.sentence_of(m.start)
        sec = index.at(m.start)
        m.section_id, m.section_kind, m.section_mode = sec.id, sec.kind, sec.procedure_mentions
        by_sent.setdefault(m.sent, []).append(m)
    engine = get_engine()
    for sent, ms in by_sent.items():
        s0, s1 = sentences[sent]
        labels = engine.labels_in_sentence(text[s0:s1], [(m.start - s0, min(m.end, s1) - s0) for m in ms])
        for m, lab in zip(ms, labels):
            m.labels = lab
            an._labels_cache[(sent, m.start, m.end)] = lab

    an.level_groups = levels_mod.find_all_groups(text, sentences)
    return an
