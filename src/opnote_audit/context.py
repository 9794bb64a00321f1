"""The context (assertion) engine: is a mention negated, uncertain, hypothetical, historical
or about the family?

A ConText/NegEx-style engine in the spirit of medspaCy's ConText. Every trigger, pseudo-trigger
and terminator is data in ``patterns/context.yml``; this module only interprets it:

* a *rule* is a literal (or list of literals) or a regex, with a ``category`` (one of the
  labels declared in the file, or for terminators a free class name), a ``direction``
  (``forward``, ``backward``, ``bidirectional``, ``terminate``, ``pseudo``), an optional
  ``max_scope`` in word tokens and an optional ``terminated_by`` list of categories;
* triggers are found once per sentence: all literals in one precompiled trie-shaped regex,
  regex rules in one combined regex per direction; overlapping triggers keep the longest
  one, so a pseudo-trigger ("no change") hides the trigger inside it ("no"), and a
  terminator only counts where it overlaps no trigger;
* a trigger's scope runs forward and/or backward from it, bounded by ``max_scope`` word
  tokens, by the sentence, by the first terminator that applies to it and, for a trigger
  inside brackets, by the brackets;
* a target span is modified when it starts inside a forward scope or ends inside a backward
  scope, and is never modified by a trigger that overlaps it ("lungs show no opacities" as a
  whole target is affirmed).

The engine never builds a spaCy ``Doc``: sentences are tokenised with one regex.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from opnote_audit import patterns
from opnote_audit.errors import PatternError
from opnote_audit.patterns import check_keys, compile_regex, trie_regex, where

PATTERN_FILE = "context.yml"
DIRECTIONS = ("forward", "backward", "bidirectional", "terminate", "pseudo")
TERMINATE = "terminate"
_RULE_KEYS = (
    "literal", "regex", "category", "direction", "max_scope", "terminated_by",
    "case_sensitive", "note",
)
_TOP_KEYS = ("version", "labels", "defaults", "rules")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Rule:
    """One context rule, as read from the pattern file."""

    index: int
    pattern: str  # the regex source (for literals: the escaped literal)
    literal: str | None  # the normalised literal (lower case, single spaces), or None for a regex
    categories: frozenset[str]
    direction: str
    max_scope: int | None
    terminated_by: frozenset[str]
    origin: str  # "file:line", for messages


@dataclass(frozen=True)
class Match:
    """A rule matched in a sentence at [start, end)."""

    start: int
    end: int
    rule: Rule


# ---------------------------------------------------------------- loading and validation

def _fail(obj: Any, what: str) -> PatternError:
    return PatternError(f"{where(obj, 'patterns/' + PATTERN_FILE)}: {what}")


def _as_list(value: Any, obj: Any, key: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return list(value)
    raise _fail(obj, f"'{key}' must be a non-empty string or a list of non-empty strings")


def _literal_regex(text: str) -> str:
    """Regex for a literal: whitespace matches any run of whitespace; word edges are bounded."""
    parts = [re.escape(p) for p in text.split()]
    if not parts:
        raise ValueError("empty literal")
    body = r"\s+".join(parts)
    stripped = text.strip()
    if stripped[0].isalnum() or stripped[0] == "_":
        body = r"(?<!\w)" + body
    if stripped[-1].isalnum() or stripped[-1] == "_":
        body = body + r"(?!\w)"
    return body


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _rule_patterns(raw: Any) -> list[tuple[str, str | None]]:
    """(regex source, normalised literal or None) for each pattern of a rule."""
    has_lit, has_re = "literal" in raw, "regex" in raw
    if has_lit == has_re:
        raise _fail(raw, "a rule needs exactly one of 'literal' or 'regex'")
    if has_lit:
        out = []
        for lit in _as_list(raw["literal"], raw, "literal"):
            if not lit.strip():
                raise _fail(raw, "a literal must not be blank")
            out.append((_literal_regex(lit), _normalise(lit)))
        return out
    regexes = _as_list(raw["regex"], raw, "regex")
    for rx in regexes:
        if "(?P<" in rx or "(?P=" in rx:
            raise _fail(raw, "a regex must not use named groups")
        if rx.lstrip().startswith("(?") and re.match(r"\(\?[aiLmsux]+\)", rx):
            raise _fail(raw, "a regex must not set global flags; use case_sensitive")
        compile_regex(rx, raw)
        if re.compile(rx).match("") is not None:
            raise _fail(raw, "a regex must not match the empty string")
    return [(rx, None) for rx in regexes]


def _parse_rule(raw: Any, index: int, labels: frozenset[str], default_scope: int | None,
                default_term: frozenset[str]) -> list[Rule]:
    check_keys(raw, _RULE_KEYS, "patterns/" + PATTERN_FILE)
    direction = raw.get("direction")
    if direction not in DIRECTIONS:
        raise _fail(raw, f"'direction' must be one of {', '.join(DIRECTIONS)}")
    if "category" in raw:
        cats = frozenset(_as_list(raw["category"], raw, "category"))
    elif direction == "terminate":
        cats = frozenset({TERMINATE})
    elif direction == "pseudo":
        cats = frozenset()
    else:
        raise _fail(raw, "missing key 'category'")
    if direction in ("forward", "backward", "bidirectional"):
        unknown = cats - labels
        if unknown:
            raise _fail(raw, f"unknown category {sorted(unknown)[0]!r}; labels: {', '.join(sorted(labels))}")
    scope = raw.get("max_scope", default_scope)
    if scope is not None and (isinstance(scope, bool) or not isinstance(scope, int) or scope < 1):
        raise _fail(raw, "'max_scope' must be a positive integer or null")
    term_by = frozenset(_as_list(raw["terminated_by"], raw, "terminated_by")) if "terminated_by" in raw \
        else default_term
    case = raw.get("case_sensitive", False)
    if not isinstance(case, bool):
        raise _fail(raw, "'case_sensitive' must be true or false")
    if "note" in raw and not isinstance(raw["note"], str):
        raise _fail(raw, "'note' must be a string")
    origin = where(raw, "patterns/" + PATTERN_FILE)
    out = []
    for i, (rx, lit) in enumerate(_rule_patterns(raw)):
        if case:
            rx, lit = f"(?-i:{rx})", None  # case-sensitive literals go through the regex path
        out.append(Rule(index * 1000 + i, rx, lit, cats, direction, scope, term_by, origin))
    return out


def _pattern_length(rule: Rule) -> int:
    """Rough length of the text a pattern matches, to try longer alternatives first."""
    return len(re.sub(r"\\[sSwWdDbB]|\(\?<?[!=:-]|[\\()?*+|^$]", "", rule.pattern))


def _combine(rules: Sequence[Rule]) -> re.Pattern[str] | None:
    if not rules:
        return None
    ordered = sorted(rules, key=lambda r: (-_pattern_length(r), r.index))
    body = "|".join(f"(?P<r{r.index}>{r.pattern})" for r in ordered)
    return re.compile(body, re.IGNORECASE)


# ---------------------------------------------------------------- the engine

SCOPE_CACHE_SIZE = 4096  # sentences whose trigger scopes are remembered


class ContextEngine:
    """Decides which context labels apply to target spans inside one sentence."""

    def __init__(self, rules: Sequence[Rule], labels: Iterable[str]):
        self._scope_cache: dict[str, list] = {}
        self.rules = tuple(rules)
        self.labels = frozenset(labels)
        self._by_name = {f"r{r.index}": r for r in self.rules}
        self._by_literal: dict[str, Rule] = {}
        groups: dict[str, list[Rule]] = {}
        for r in self.rules:
            if r.literal is None:
                groups.setdefault(r.direction, []).append(r)
            elif r.literal in self._by_literal:
                first = self._by_literal[r.literal]
                raise PatternError(f"{r.origin}: literal {r.literal!r} is already a rule at {first.origin}")
            else:
                self._by_literal[r.literal] = r
        # one combined regex per direction for the regex rules, one trie regex for all literals
        self._regexes = [rx for rx in (_combine(groups.get(d, ())) for d in DIRECTIONS) if rx]
        self._literals = re.compile(trie_regex(self._by_literal), re.IGNORECASE) if self._by_literal else None

    @classmethod
    def from_data(cls, data: Any) -> "ContextEngine":
        """Build the engine from the parsed ``context.yml`` (validated here)."""
        ctx = "patterns/" + PATTERN_FILE
        if not isinstance(data, dict):
            raise PatternError(f"{ctx}: expected a mapping at the top level")
        check_keys(data, _TOP_KEYS, ctx)
        labels_raw = data.get("labels")
        if not isinstance(labels_raw, list) or not labels_raw or not all(isinstance(x, str) for x in labels_raw):
            raise _fail(data, "'labels' must be a non-empty list of strings")
        labels = frozenset(labels_raw)
        defaults = data.get("defaults", {}) or {}
        check_keys(defaults, ("max_scope", "terminated_by"), ctx)
        default_term = frozenset(_as_list(defaults["terminated_by"], defaults, "terminated_by")) \
            if "terminated_by" in defaults else frozenset({TERMINATE})
        default_scope = defaults.get("max_scope")
        if default_scope is not None and (isinstance(default_scope, bool) or not isinstance(default_scope, int)
                                          or default_scope < 1):
            raise _fail(defaults, "'max_scope' must be a positive integer or null")
        raw_rules = data.get("rules")
        if not isinstance(raw_rules, list) or not raw_rules:
            raise _fail(data, "'rules' must be a non-empty list")
        rules: list[Rule] = []
        for i, raw in enumerate(raw_rules):
            if not isinstance(raw, dict):
                raise _fail(data, f"rule #{i + 1} must be a mapping")
            rules.extend(_parse_rule(raw, i, labels, default_scope, default_term))
        try:
            return cls(rules, labels)
        except re.error as exc:  # pragma: no cover - each part compiled alone already
            raise PatternError(f"{ctx}: rules do not combine into one regex: {exc}") from None

    # -- matching

    def find_matches(self, sentence: str) -> list[Match]:
        """All trigger, pseudo and terminator matches, overlaps resolved: the longest trigger or
        pseudo-trigger wins, and a terminator only counts where it overlaps none of them."""
        found: list[Match] = []
        if self._literals is not None:
            lookup = self._by_literal
            for m in _overlapping(self._literals, sentence):
                rule = lookup.get(_normalise(m.group()))
                if rule is not None:
                    found.append(Match(m.start(), m.end(), rule))
        for rx in self._regexes:
            for m in _overlapping(rx, sentence):
                found.append(Match(m.start(), m.end(), self._by_name[m.lastgroup or ""]))
        if len(found) < 2:
            return found
        # triggers and pseudo-triggers first, longest first; terminators only where free
        found.sort(key=lambda m: (m.rule.direction == "terminate", m.start - m.end, m.start))
        kept: list[Match] = []
        for m in found:
            if all(m.end <= k.start or m.start >= k.end for k in kept):
                kept.append(m)
        kept.sort(key=lambda m: m.start)
        return kept

    def labels_in_sentence(self, sentence: str, spans: list[tuple[int, int]]) -> list[frozenset[str]]:
        """One label set per span; spans are (start, end) offsets relative to ``sentence``.
        Triggers are found once per sentence (and remembered for the next call on the same
        sentence), then each span is checked."""
        scopes = self._scope_cache.get(sentence)
        if scopes is None:
            if len(self._scope_cache) >= SCOPE_CACHE_SIZE:
                self._scope_cache.clear()
            scopes = self._scope_cache[sentence] = self._scopes(sentence)
        out = []
        for span in spans:
            labels: set[str] = set()
            for scope in scopes:
                if _modifies(scope, span):
                    labels |= scope[0].rule.categories
            out.append(frozenset(labels))
        return out

    def explain(self, sentence: str, span: tuple[int, int]) -> list[tuple[Match, bool]]:
        """Every trigger found in the sentence, with whether it applies to ``span``
        (for error analysis and debugging)."""
        return [(scope[0], _modifies(scope, span)) for scope in self._scopes(sentence)]

    def _scopes(self, sentence: str) -> list[tuple[Match, int | None, int | None]]:
        """(trigger, forward scope end, backward scope start) for every trigger."""
        matches = self.find_matches(sentence)
        triggers = [m for m in matches if m.rule.direction in ("forward", "backward", "bidirectional")]
        if not triggers:
            return []
        words = [(w.start(), w.end()) for w in _WORD.finditer(sentence)]
        starts = [w[0] for w in words]
        ends = [w[1] for w in words]
        brackets = _bracket_pairs(sentence)
        out = []
        for m in triggers:
            f_end, b_start = self._scope(m, matches, sentence, starts, ends)
            for open_at, close_at in brackets:
                if open_at < m.start and m.end <= close_at:
                    # a trigger inside brackets does not reach outside them
                    f_end = None if f_end is None else min(f_end, close_at)
                    b_start = None if b_start is None else max(b_start, open_at + 1)
            out.append((m, f_end, b_start))
        return out

    def _scope(self, m: Match, matches: list[Match], sentence: str,
               starts: list[int], ends: list[int]) -> tuple[int | None, int | None]:
        """(forward scope end, backward scope start) for a trigger; None when not that way."""
        rule = m.rule
        stops = [x for x in matches if x is not m and x.rule.categories & rule.terminated_by]
        f_end = b_start = None
        if rule.direction in ("forward", "bidirectional"):
            f_end = len(sentence)
            if rule.max_scope is not None:
                k = bisect_left(starts, m.end) + rule.max_scope - 1
                if k < len(ends):
                    f_end = ends[k]
            for x in stops:
                if x.start >= m.end:
                    f_end = min(f_end, x.start)
                    break
        if rule.direction in ("backward", "bidirectional"):
            b_start = 0
            if rule.max_scope is not None:
                k = bisect_right(ends, m.start) - rule.max_scope
                if k > 0:
                    b_start = starts[k]
            for x in reversed(stops):
                if x.end <= m.start:
                    b_start = max(b_start, x.end)
                    break
        return f_end, b_start


def _overlapping(rx: re.Pattern[str], text: str) -> Iterable[re.Match[str]]:
    """The longest match starting at each position where ``rx`` matches, overlaps included
    (so "scheduled for" is still found inside "is scheduled for")."""
    pos = 0
    search = rx.search
    while True:
        m = search(text, pos)
        if m is None:
            return
        if m.end() > m.start():
            yield m
        pos = m.start() + 1


_OPEN, _CLOSE = "([{", ")]}"


def _bracket_pairs(sentence: str) -> list[tuple[int, int]]:
    """Offsets of matched (), [] and {} pairs (punctuation, not vocabulary)."""
    if not any(c in sentence for c in _OPEN):
        return []
    pairs, stack = [], []
    for i, c in enumerate(sentence):
        if c in _OPEN:
            stack.append((c, i))
        elif c in _CLOSE and stack and _OPEN.index(stack[-1][0]) == _CLOSE.index(c):
            pairs.append((stack.pop()[1], i))
    return pairs


def _modifies(scope: tuple[Match, int | None, int | None], span: tuple[int, int]) -> bool:
    """Does a trigger with this scope modify the target span?"""
    m, f_end, b_start = scope
    ts, te = span
    if m.start < te and ts < m.end:
        return False  # a trigger inside (or overlapping) the target does not apply to it
    if f_end is not None and m.end <= ts < f_end:
        return True
    return b_start is not None and b_start < te <= m.start


# ---------------------------------------------------------------- sentences and entry points

@patterns.cached
def get_engine() -> ContextEngine:
    """The engine for the built-in ``context.yml`` merged with any site packs (cached)."""
    return ContextEngine.from_data(patterns.load(PATTERN_FILE))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """The pipeline's sentence split (``sections.find_sentences``) without section cuts: at
    . ! ? before a capital or a digit (not after an abbreviation of ``sentence_abbreviations``
    in sections.yml) and at every line break. Returns (start, end) offsets."""
    from opnote_audit.sections import find_sentences

    return find_sentences(text, [])


def assertions(text: str, spans: list[tuple[int, int]]) -> list[list[str]]:
    """Sorted context labels for each (start, end) span of ``text`` ([] when affirmed).

    The text is split into sentences; each span is judged inside the sentence that holds
    its start (a span running past its sentence is cut at the sentence end).
    """
    engine = get_engine()
    sentences = split_sentences(text)
    sent_starts = [s for s, _ in sentences]
    by_sentence: dict[int, list[int]] = {}
    for i, (s, e) in enumerate(spans):
        if not 0 <= s < e <= len(text):
            raise ValueError(f"span {i} ({s}, {e}) is outside the text")
        k = max(bisect_right(sent_starts, s) - 1, 0)
        by_sentence.setdefault(k, []).append(i)
    result: list[list[str]] = [[] for _ in spans]
    for k, idxs in by_sentence.items():
        if not sentences:
            break
        s0, s1 = sentences[k]
        rel = [(max(spans[i][0], s0) - s0, max(min(spans[i][1], s1), spans[i][0] + 1) - s0) for i in idxs]
        for i, labels in zip(idxs, engine.labels_in_sentence(text[s0:s1], rel)):
            result[i] = sorted(labels)
    return result
