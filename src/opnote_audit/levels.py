"""Level grammar: read vertebral levels, join them into lists and ranges, give each its role.

"Corpectomy of L1 and L2" names two resected levels; "fusion T12 to L4" names fusion levels;
"L2 burst fracture" a diagnosis level. The grammar (level forms, joiners, role triggers) is in
``patterns/level.yml``; this module interprets it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from opnote_audit import patterns
from opnote_audit.errors import PatternError


@dataclass
class LevelGroup:
    start: int
    end: int
    levels: list[str]
    text: str
    role: str = "unknown"
    trigger: tuple[int, int] | None = None  # span of the role trigger
    atoms: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Grammar:
    order: dict[str, int]          # "L2" -> position cephalad to caudal
    sequence: list[str]
    level_re: re.Pattern[str]
    ordinal_re: re.Pattern[str]
    ordinals: dict[str, int]
    region_words: dict[str, str]
    regions: dict[str, dict]
    list_joiner: re.Pattern[str]
    range_joiner: re.Pattern[str]
    role_re: re.Pattern[str]
    role_of: dict[str, str]
    before_chars: int
    after_chars: int
    resection_verbs: re.Pattern[str]
    resection_roles: frozenset[str]
    resection_gap: re.Pattern[str]
    word_level: re.Pattern[str] | None = None
    number_words: dict[str, int] = field(default_factory=dict)
    level_candidate: re.Pattern[str] | None = None
    roman_level: re.Pattern[str] | None = None
    region_number: re.Pattern[str] | None = None
    roman_numerals: dict[str, int] = field(default_factory=dict)
    region_aliases: dict[str, str] = field(default_factory=dict)
    region_word_re: re.Pattern[str] | None = None
    body_verb_before: int = 25     # how near a "body" level a resection verb must stand
    body_verb_after: int = 25


@patterns.cached
def grammar() -> Grammar:
    data = patterns.load("level.yml")
    regions = patterns.require(data, "regions", dict, "patterns/level.yml")
    seq: list[str] = []
    for letter, info in sorted(regions.items(), key=lambda kv: kv[1].get("order", 0)):
        count = info.get("count")
        if not isinstance(count, int) or count < 1:
            raise PatternError(f"{patterns.where(info)}: region {letter} needs a positive 'count'")
        seq += [f"{letter}{n}" for n in range(1, count + 1)]
    roles = patterns.require(data, "roles", dict, "patterns/level.yml")
    role_of: dict[str, str] = {}
    for role, words in roles.items():
        if not isinstance(words, list):
            raise PatternError(f"{patterns.where(roles)}: role '{role}' must list words")
        for w in words:
            role_of[" ".join(str(w).lower().split())] = role
    ordinals = {str(k).lower(): int(v) for k, v in patterns.require(data, "ordinals", dict).items()}
    return Grammar(
        order={lv: i for i, lv in enumerate(seq)},
        sequence=seq,
        level_re=patterns.compile_regex(patterns.require(data, "level_regex", str), data, flags=0),
        ordinal_re=patterns.compile_regex(patterns.require(data, "ordinal_regex", str), data, flags=0),
        ordinals=ordinals,
        region_words={str(k).lower(): v for k, v in patterns.require(data, "region_words", dict).items()},
        regions=regions,
        list_joiner=patterns.compile_regex(patterns.require(data, "list_joiner_regex", str), data),
        range_joiner=patterns.compile_regex(patterns.require(data, "range_joiner_regex", str), data),
        role_re=re.compile(patterns.trie_regex(role_of)),  # run on lower-cased text: no IGNORECASE needed
        role_of=role_of,
        before_chars=int(data.get("before_chars", 45)),
        after_chars=int(data.get("after_chars", 30)),
        resection_verbs=patterns.compile_regex(patterns.require(data, "resection_verbs_regex", str), data),
        resection_roles=frozenset(data.get("resection_roles", ["resection", "body"])),
        resection_gap=patterns.compile_regex(patterns.require(data, "resection_gap_regex", str), data),
        word_level=patterns.compile_regex(data["word_level_regex"], data, flags=0) if data.get("word_level_regex") else None,
        number_words={str(k): int(v) for k, v in (data.get("number_words") or {}).items()},
        level_candidate=patterns.compile_regex(data["level_candidate_regex"], data, flags=0)
        if data.get("level_candidate_regex") else None,
        region_aliases={str(k).upper(): str(v) for k, v in (data.get("region_aliases") or {}).items()},
        roman_level=patterns.compile_regex(data["roman_level_regex"], data, flags=0) if data.get("roman_level_regex") else None,
        region_number=patterns.compile_regex(data["region_number_regex"], data, flags=0)
        if data.get("region_number_regex") else None,
        roman_numerals={str(k): int(v) for k, v in (data.get("roman_numerals") or {}).items()},
        region_word_re=re.compile(r"\b(?:" + "|".join(re.escape(str(w).lower()) for w in (data.get("region_words") or {}))
                                  + r")\b"),
        body_verb_before=int(data.get("body_verb_window_chars", 25)),
        body_verb_after=int(data.get("body_verb_after_chars", data.get("body_verb_window_chars", 25))),
    )


def region(level: str) -> str:
    return level[0]


def sort_levels(levels) -> list[str]:
    g = grammar()
    return sorted(set(levels), key=lambda lv: g.order.get(lv, 999))


def _expand(g: Grammar, a: str, b: str) -> list[str]:
    if a not in g.order or b not in g.order:
        return [x for x in (a, b) if x in g.order]
    i, j = sorted((g.order[a], g.order[b]))
    if j - i > 12:  # not a plausible range ("C2-L5"): keep the ends only
        return [g.sequence[i], g.sequence[j]]
    return g.sequence[i:j + 1]


def _region(g: Grammar, letter: str) -> str:
    letter = letter.upper()
    return g.region_aliases.get(letter, letter)


def _word_start(text: str, pos: int) -> bool:
    return pos == 0 or not text[pos - 1].isalnum()


def _atoms(g: Grammar, text: str, lower: str) -> list[tuple[int, int, list[str], bool]]:
    """(start, end, levels, is_range) of every level expression in the text, in order."""
    out = []
    for m in _level_matches(g, text):
        if not _word_start(text, m.start()):
            continue
        if m.group("cr"):
            a_num, b_num = int(m.group("ca")), int(m.group("cb"))
            letter = m.group("cr").upper()
            if b_num == a_num + 1 and f"{letter}{b_num}" in g.order:
                out.append((m.start(), m.end(), [f"{letter}{a_num}", f"{letter}{b_num}"], True))
            continue
        r1, n1 = _region(g, m.group("r1")), int(m.group("n1"))
        a = f"{r1}{n1}"
        if a not in g.order:
            continue
        if m.group("n2") or m.group("n3"):
            r2 = _region(g, m.group("r2") or m.group("r3") or r1)
            b = f"{r2}{int(m.group('n2') or m.group('n3'))}"
            if b not in g.order:
                out.append((m.start(), m.end(), [a], False))
                continue
            if g.order[b] < g.order[a] and not (m.group("r2") or m.group("r3")):
                # "L5-1"? not a level range; keep the first level
                out.append((m.start(), m.end(), [a], False))
                continue
            out.append((m.start(), m.end(), _expand(g, a, b), True))
        else:
            out.append((m.start(), m.end(), [a], False))
    for rx, numbers in ((g.word_level, g.number_words), (g.roman_level, g.roman_numerals)):
        if rx is None:
            continue
        for m in rx.finditer(text):
            if not _word_start(text, m.start()):
                continue
            word = m.group("word")
            lv = f"{_region(g, m.group('r'))}{numbers.get(word, numbers.get(word.lower(), 0))}"
            if lv in g.order:
                out.append((m.start(), m.end(), [lv], False))
    if g.region_number is not None:
        for m in g.region_number.finditer(lower):
            if _word_start(lower, m.start()):
                lv = f"{g.region_words.get(m.group('region'), '')}{int(m.group('num'))}"
                if lv in g.order:
                    out.append((m.start(), m.end(), [lv], False))
    for m in _ordinal_matches(g, lower):
        if not _word_start(lower, m.start()):
            continue
        letter = g.region_words.get(m.group("region"))
        words = re.findall(r"[a-z0-9]+", m.group("ords"))
        levels: list[str] = []
        is_range = False
        for w in words:
            if w in ("through", "to"):
                is_range = True
            elif w in g.ordinals:
                lv = f"{letter}{g.ordinals[w]}"
                if lv in g.order:
                    if is_range and levels:
                        levels += [x for x in _expand(g, levels[-1], lv) if x not in levels]
                    elif lv not in levels:
                        levels.append(lv)
                is_range = False
        if levels:
            out.append((m.start(), m.end(), levels, len(levels) > 1))
    out.sort()
    return out


def _level_matches(g: Grammar, text: str):
    """level_re matches, tried only where a region letter stands before a digit."""
    if g.level_candidate is None:
        yield from g.level_re.finditer(text)
        return
    last_end = 0
    for c in g.level_candidate.finditer(text):
        if c.start() < last_end:
            continue
        m = g.level_re.match(text, c.start())
        if m:
            last_end = m.end()
            yield m


def _ordinal_matches(g: Grammar, lower: str):
    """ordinal_re matches, looked for only just before a region word ("... third lumbar")."""
    last_end = 0
    for r in g.region_word_re.finditer(lower):
        lo = max(last_end, r.start() - 160)
        for m in g.ordinal_re.finditer(lower, lo, r.end()):
            if m.end() == r.end():
                last_end = m.end()
                yield m


def find_all_groups(text: str, sentences: list[tuple[int, int]]) -> list[tuple[int, LevelGroup]]:
    """Level groups of the whole text as (sentence index, group), each with its role."""
    g = grammar()
    lower = text.lower() if len(text.lower()) == len(text) else text
    atoms = _atoms(g, text, lower)
    if not atoms:
        return []
    starts = [s for s, _ in sentences]
    by_sent: dict[int, list] = {}
    for atom in atoms:
        i = bisect_right(starts, atom[0]) - 1
        if i >= 0 and atom[1] <= sentences[i][1]:
            by_sent.setdefault(i, []).append(atom)
    out = []
    for i in sorted(by_sent):
        s0, s1 = sentences[i]
        out += [(i, grp) for grp in _groups(g, text, lower, s0, s1, by_sent[i])]
    return out


def _groups(g: Grammar, text: str, lower: str, start: int, end: int, atoms) -> list[LevelGroup]:
    groups: list[LevelGroup] = []
    for a_start, a_end, levels, _ in atoms:
        if groups:
            last = groups[-1]
            gap = text[last.end:a_start]
            if last.end <= a_start and g.list_joiner.match(gap):
                last.levels += [lv for lv in levels if lv not in last.levels]
                last.end = a_end
                last.atoms.append((a_start, a_end))
                continue
            if last.end <= a_start and g.range_joiner.match(gap) and last.levels:
                last.levels += [lv for lv in _expand(g, last.levels[-1], levels[0]) if lv not in last.levels]
                last.levels += [lv for lv in levels if lv not in last.levels]
                last.end = a_end
                last.atoms.append((a_start, a_end))
                continue
        groups.append(LevelGroup(a_start, a_end, list(levels), "", atoms=[(a_start, a_end)]))
    triggers = []
    for w0, w1 in _windows(groups, g, lower, start, end):  # only the text near the groups
        triggers += [(m.start(), m.end(), g.role_of.get(" ".join(m.group().split()), "unknown"))
                     for m in g.role_re.finditer(lower, w0, w1)]
    t_starts = [t[0] for t in triggers]
    longest = max((t[1] - t[0] for t in triggers), default=0)
    for grp in groups:
        grp.text = text[grp.start:grp.end]
        best = None
        # only the triggers near enough to count (bounded work on run-on sentences)
        lo = bisect_right(t_starts, grp.start - g.before_chars - longest - 1)
        hi = bisect_right(t_starts, grp.end + g.after_chars)
        for t_start, t_end, role in triggers[lo:hi]:
            if role in g.resection_roles:
                gap = text[t_end:grp.start] if t_end <= grp.start else text[grp.end:t_start]
                if not g.resection_gap.match(gap):
                    continue
            between = text[t_end:grp.start] if t_end <= grp.start else text[grp.end:t_start]
            penalty = CLAUSE_PENALTY * (between.count(",") + 2 * between.count(";"))
            if t_end <= grp.start:
                dist = grp.start - t_end + penalty
                if dist <= g.before_chars and (best is None or dist < best[0]):
                    best = (dist, role, (t_start, t_end))
            elif t_start >= grp.end:
                dist = t_start - grp.end + penalty
                if dist <= g.after_chars and (best is None or dist <= best[0]):
                    best = (dist, role, (t_start, t_end))
        if best:
            grp.role, grp.trigger = best[1], best[2]
    return groups


ROLE_WORD_MAX = 40  # longest role trigger, in characters (window margin)
CLAUSE_PENALTY = 10  # a comma between a level and a trigger counts as this many characters more


def _windows(groups: list[LevelGroup], g: Grammar, lower: str, start: int, end: int) -> list[tuple[int, int]]:
    """Merged spans of the sentence around the groups where a role trigger can count."""
    spans: list[list[int]] = []
    for grp in groups:
        w0 = max(start, grp.start - g.before_chars - ROLE_WORD_MAX)
        w1 = min(end, grp.end + g.after_chars + ROLE_WORD_MAX)
        while w0 > start and lower[w0 - 1].isalnum():
            w0 -= 1  # start and end the window on word edges
        while w1 < end and lower[w1].isalnum():
            w1 += 1
        if spans and w0 <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], w1)
        else:
            spans.append([w0, w1])
    return [(a, b) for a, b in spans]


def resection_verb_near(text: str, sent_start: int, sent_end: int, grp: LevelGroup) -> re.Match[str] | None:
    """A resection verb in the sentence close enough to the level group to be about it."""
    g = grammar()
    lo, hi = max(sent_start, grp.start - g.body_verb_before), min(sent_end, grp.end + g.body_verb_after)
    return g.resection_verbs.search(text, lo, hi)
