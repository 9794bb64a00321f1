"""Term matching: compile the term lists of ``patterns/`` into spaCy matchers, find mentions.

Each element file (approach, pathology, extent, neural) holds ``terms``: a label, an optional
value, literal ``phrases`` (PhraseMatcher on lower-cased tokens), token ``patterns`` (Matcher)
and ``regex`` (matched on the text, for dictation misspellings a token pattern cannot spell).

Speed: the Matcher costs time for every token and pattern, so it runs only on short windows
that start at an *anchor*, the literal first token of a pattern, found by the PhraseMatcher
together with the phrases. A pattern whose first token is not a literal runs on the whole doc. Matches of one label of one file are resolved longest-first so "metastatic renal cell
carcinoma" wins over "carcinoma"; matches of different labels or files may overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokenizer import Tokenizer
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
EXTRA_KEYS = ("requires_near", "excludes_near", "alone_conflict", "needs_resection_verb", "needs_body", "weak",
              "technique")
TERM_KEYS = {"label", "value", "phrases", "patterns", "regex", *EXTRA_KEYS}
ANCHOR_KEY = "__anchor__"
MASK = "mask"  # a term label that only hides the shorter terms inside it ("tumor" in "tumor board")
UNBOUNDED = 12  # tokens a "*" or "+" may take, for the Matcher's window


@dataclass
class TermInfo:
    element: str
    label: str
    value: str | None
    extra: dict[str, Any]
    index: int = 0  # position of the term entry in its file


def _anchors(pattern: list[dict]) -> set[str] | None:
    """The literal lower-case words a pattern can start with, or None when it has none."""
    first = pattern[0]
    if first.get("OP") in ("?", "*") or (isinstance(first.get("OP"), str) and first["OP"].startswith("{0")):
        return None
    for attr in ("LOWER", "ORTH", "TEXT", "NORM"):
        spec = first.get(attr)
        if isinstance(spec, str):
            return {spec.lower()}
        if isinstance(spec, dict) and isinstance(spec.get("IN"), list) and len(spec) == 1:
            return {str(w).lower() for w in spec["IN"]}
    return None


def _max_len(pattern: list[dict]) -> int:
    total = 0
    for tok in pattern:
        op = tok.get("OP")
        if op in (None, "!", "?", "1"):
            total += 1
        elif op in ("*", "+"):
            total += UNBOUNDED
        else:
            nums = [int(x) for x in op.strip("{}").split(",") if x.strip().isdigit()]
            total += max(nums) if nums else UNBOUNDED
    return total


def _validate_pattern(pat: Any, ctx: Any) -> list[dict]:
    if not isinstance(pat, list) or not pat or not all(isinstance(t, dict) for t in pat):
        raise PatternError(f"{patterns.where(ctx)}: a token pattern must be a non-empty list of token mappings")
    for tok in pat:
        for attr, spec in tok.items():
            if isinstance(spec, dict) and "REGEX" in spec:
                patterns.compile_regex(spec["REGEX"], ctx)
    return [dict(t) for t in pat]


class TermMatcher:
    """All term files compiled into one PhraseMatcher, one Matcher (for validation and for
    patterns without a literal first word) and one Matcher per anchor word."""

    def __init__(self, tokenizer: Tokenizer):
        self.phrase = PhraseMatcher(tokenizer.vocab, attr="LOWER")
        self.matcher = Matcher(tokenizer.vocab, validate=True)
        self.info: dict[int, TermInfo] = {}
        self.regexes: list[tuple[Any, int]] = []  # (compiled regex, term key id)
        self.anchor_words: set[str] = set()
        self.unanchored = False
        # one Matcher per anchor word, holding only the patterns that start with it, and the
        # longest of them: a window at an anchor runs just those patterns
        self.by_anchor: dict[str, Matcher] = {}
        self.window_of: dict[str, int] = {}
        for fname, element in TERM_FILES.items():
            data = patterns.load(fname)
            name = f"patterns/{fname}"
            terms = patterns.require(data, "terms", list, name)
            for i, entry in enumerate(terms):
                self._add(tokenizer, element, entry, f"{element}:{i}", name)
            if element == "pathology" and "imaging" in data:
                img = data["imaging"]
                self._add(tokenizer, "imaging", {"label": "imaging", "phrases": img.get("phrases", [])}, "imaging:0", name)
        if self.anchor_words:
            self.anchor_id = tokenizer.vocab.strings.add(ANCHOR_KEY)
            self.phrase.add(ANCHOR_KEY, [tokenizer(w) for w in sorted(self.anchor_words)])

    def _add(self, tokenizer: Tokenizer, element: str, entry: Any, key: str, name: str) -> None:
        patterns.check_keys(entry, TERM_KEYS, name)
        label = patterns.require(entry, "label", str, name)
        value = entry.get("value")
        extra = {k: entry[k] for k in EXTRA_KEYS if k in entry}
        key_id = tokenizer.vocab.strings.add(key)
        self.info[key_id] = TermInfo(element, label, value, extra, int(key.rsplit(":", 1)[1]))
        phrases = entry.get("phrases") or []
        pats = entry.get("patterns") or []
        regexes = entry.get("regex") or []
        if isinstance(regexes, str):
            regexes = [regexes]
        if not phrases and not pats and not regexes:
            raise PatternError(f"{patterns.where(entry, name)}: a term needs 'phrases', 'patterns' or 'regex'")
        for rx in regexes:
            # matched case-sensitively on the lower-cased text: far faster than IGNORECASE
            self.regexes.append((patterns.compile_regex(rx, entry, flags=0), key_id))
        if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
            raise PatternError(f"{patterns.where(entry, name)}: 'phrases' must be a list of non-empty strings")
        if phrases:
            self.phrase.add(key, [tokenizer(p) for p in phrases])
        if pats:
            if not isinstance(pats, list):
                raise PatternError(f"{patterns.where(entry, name)}: 'patterns' must be a list of token patterns")
            checked = [_validate_pattern(p, entry) for p in pats]
            try:
                self.matcher.add(key, checked)  # validates every pattern
            except (ValueError, KeyError, TypeError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise PatternError(f"{patterns.where(entry, name)}: invalid token pattern: {first}") from None
            for p in checked:
                words = _anchors(p)
                if words is None:
                    self.unanchored = True
                    continue
                self.anchor_words |= words
                for w in words:
                    if w not in self.by_anchor:
                        self.by_anchor[w] = Matcher(tokenizer.vocab)
                    self.by_anchor[w].add(key, [p])
                    self.window_of[w] = max(self.window_of.get(w, 1), _max_len(p))

    def _token_matches(self, doc: Doc, phrase_hits) -> list[tuple[int, int, int]]:
        """Matcher hits, run on windows that start at anchors (or the whole doc): at each anchor
        only the patterns that start with that word, over the longest of them."""
        if self.unanchored:
            return list(self.matcher(doc))
        windows: dict[str, list[list[int]]] = {}
        for match_id, start, _ in phrase_hits:
            if match_id != self.anchor_id:
                continue
            word = doc[start].lower_
            if word not in self.by_anchor:
                continue
            end = min(len(doc), start + self.window_of[word])
            spans = windows.setdefault(word, [])
            if spans and start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], end)
            else:
                spans.append([start, end])
        out: set[tuple[int, int, int]] = set()
        for word, spans in windows.items():
            matcher = self.by_anchor[word]
            for a, b in spans:
                out.update((mid, a + s, a + e) for mid, s, e in matcher(doc[a:b]))
        return sorted(out, key=lambda h: (h[1], h[2], h[0]))

    def __call__(self, doc: Doc, text: str | None = None) -> list[Mention]:
        """Mentions in ``doc``; ``text`` is ``doc.text`` when the caller has it (saves a join)."""
        phrase_hits = sorted(self.phrase(doc), key=lambda h: h[1])
        hits = [h for h in phrase_hits if not self.anchor_words or h[0] != self.anchor_id]
        hits += self._token_matches(doc, phrase_hits)
        if text is None:
            text = doc.text
        lower = text.lower()
        if len(lower) != len(text):  # a character whose lower case is longer: keep offsets exact
            lower = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        for rx, key_id in self.regexes:
            for m in rx.finditer(lower):
                if m.start() and lower[m.start() - 1].isalnum():
                    continue  # a term starts at a word edge
                span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
                if span is not None and len(span):
                    hits.append((key_id, span.start, span.end))
        by_element: dict[str, list] = {}
        for match_id, start, end in hits:
            info = self.info[match_id]
            span = doc[start:end]
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
                        text=text[span.start_char:span.end_char],
                        extra=dict(info.extra, tok_start=span.start, tok_end=span.end, term_index=info.index),
                    )
                )
        mentions.sort(key=lambda m: (m.start, m.end))
        return [m for m in _drop_contained(mentions) if m.label != MASK]


def _drop_contained(mentions: list[Mention]) -> list[Mention]:
    """Within one element, a match strictly inside a longer match of another label is the
    longer one's part: "total corpectomy" inside "sub-total corpectomy", "lesion" inside
    "lytic lesion". One sweep in text order (mentions are sorted by start)."""
    cover: dict[tuple[str, str], Mention] = {}  # (element, label) -> the match reaching furthest
    out = []
    for m in sorted(mentions, key=lambda x: (x.start, -x.end)):
        inside = False
        for (element, label), o in cover.items():
            if element == m.element and label != m.label and o.start <= m.start and m.end <= o.end \
                    and (o.end - o.start) > (m.end - m.start):
                inside = True
                break
        if not inside:
            out.append(m)
        key = (m.element, m.label)
        if key not in cover or m.end > cover[key].end:
            cover[key] = m
    out.sort(key=lambda x: (x.start, x.end))
    return out
