"""Term matching: compile the term lists of ``patterns/`` into spaCy matchers, find mentions.

Each element file (approach, pathology, extent, neural) holds ``terms``: a label, an optional
value, literal ``phrases`` (PhraseMatcher on lower-cased tokens) and token ``patterns``
(Matcher). Matches of one label of one file are resolved longest-first so "metastatic renal cell
carcinoma" wins over "carcinoma"; matches of different labels or files may overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc
from spacy.util import filter_spans

from opnote_audit import patterns
from opnote_audit.errors import PatternError
from opnote_audit.models import Mention

# file -> element name used in mentions
TERM_FILES = {
    "approach.yml": "approach",
    "pathology.yml": "pathology",
    "extent.yml": "extent",
    "neural.yml": "neural",
}
EXTRA_KEYS = ("requires_near", "excludes_near", "alone_conflict", "needs_resection_verb", "needs_body")
TERM_KEYS = {"label", "value", "phrases", "patterns", *EXTRA_KEYS}


@dataclass
class TermInfo:
    element: str
    label: str
    value: str | None
    extra: dict[str, Any]
    index: int = 0  # position of the term entry in its file


def _validate_pattern(pat: Any, ctx: Any) -> list[dict]:
    if not isinstance(pat, list) or not pat or not all(isinstance(t, dict) for t in pat):
        raise PatternError(f"{patterns.where(ctx)}: a token pattern must be a non-empty list of token mappings")
    for tok in pat:
        for attr, spec in tok.items():
            if isinstance(spec, dict) and "REGEX" in spec:
                patterns.compile_regex(spec["REGEX"], ctx)
    return [dict(t) for t in pat]


class TermMatcher:
    """All term files compiled into one PhraseMatcher and one Matcher."""

    def __init__(self, nlp: Language):
        self.phrase = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.matcher = Matcher(nlp.vocab, validate=True)
        self.info: dict[int, TermInfo] = {}
        for fname, element in TERM_FILES.items():
            data = patterns.load(fname)
            name = f"patterns/{fname}"
            terms = patterns.require(data, "terms", list, name)
            for i, entry in enumerate(terms):
                self._add(nlp, element, entry, f"{element}:{i}", name)
            if element == "pathology" and "imaging" in data:
                img = data["imaging"]
                self._add(nlp, "imaging", {"label": "imaging", "phrases": img.get("phrases", [])}, "imaging:0", name)

    def _add(self, nlp: Language, element: str, entry: Any, key: str, name: str) -> None:
        patterns.check_keys(entry, TERM_KEYS, name)
        label = patterns.require(entry, "label", str, name)
        value = entry.get("value")
        extra = {k: entry[k] for k in EXTRA_KEYS if k in entry}
        key_id = nlp.vocab.strings.add(key)
        self.info[key_id] = TermInfo(element, label, value, extra, int(key.rsplit(":", 1)[1]))
        phrases = entry.get("phrases") or []
        pats = entry.get("patterns") or []
        if not phrases and not pats:
            raise PatternError(f"{patterns.where(entry, name)}: a term needs 'phrases' or 'patterns'")
        if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
            raise PatternError(f"{patterns.where(entry, name)}: 'phrases' must be a list of non-empty strings")
        if phrases:
            self.phrase.add(key, [nlp.make_doc(p) for p in phrases])
        if pats:
            if not isinstance(pats, list):
                raise PatternError(f"{patterns.where(entry, name)}: 'patterns' must be a list of token patterns")
            try:
                self.matcher.add(key, [_validate_pattern(p, entry) for p in pats])
            except (ValueError, KeyError, TypeError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise PatternError(f"{patterns.where(entry, name)}: invalid token pattern: {first}") from None

    def __call__(self, doc: Doc) -> list[Mention]:
        by_element: dict[str, list] = {}
        for match_id, start, end in list(self.phrase(doc)) + list(self.matcher(doc)):
            info = self.info[match_id]
            span = doc[start:end]
            span.label_ = f"{info.element}"
            by_element.setdefault(f"{info.element}/{info.label}", []).append((span, info))
        mentions: list[Mention] = []
        for items in by_element.values():
            lookup = {(s.start, s.end): inf for s, inf in items}
            for span in filter_spans([s for s, _ in items]):
                info = lookup[(span.start, span.end)]
                mentions.append(
                    Mention(
                        element=info.element,
                        label=info.label,
                        value=info.value,
                        start=span.start_char,
                        end=span.end_char,
                        text=span.text,
                        extra=dict(info.extra, tok_start=span.start, tok_end=span.end, term_index=info.index),
                    )
                )
        mentions.sort(key=lambda m: (m.start, m.end))
        return mentions
