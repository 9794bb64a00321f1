"""Element decisions: the status, value and evidence of the six documentation elements.

Reads an :class:`~opnote_audit.analysis.Analysis` and decides, exactly as the spec says,
whether the note documents the approach, the resected level, the pathology, the extent, the
decompressed neural elements and the co-surgeons' portions. Vocabulary comes from
``patterns/``; this module holds the decision logic only. Each decision also returns the
details the findings need (``Decision.notes``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from opnote_audit import levels as lv
from opnote_audit import patterns
from opnote_audit.analysis import Analysis
from opnote_audit.errors import PatternError
from opnote_audit.models import PATHOLOGY_CATEGORIES, ElementResult, Evidence, Mention

MAX_EVIDENCE = 4
NOT_DONE = frozenset({"negated", "hypothetical", "historical", "uncertain", "family"})


@dataclass
class Decision:
    result: ElementResult
    notes: dict[str, Any] = field(default_factory=dict)  # details for findings and facts


def _ev(an: Analysis, items) -> list[Evidence]:
    out, seen = [], set()
    for start, end in items:
        if (start, end) in seen:
            continue
        seen.add((start, end))
        out.append(an.evidence(start, end))
        if len(out) >= MAX_EVIDENCE:
            break
    return out


def _mev(an: Analysis, mentions: list[Mention]) -> list[Evidence]:
    return _ev(an, [(m.start, m.end) for m in mentions])


def _regex(data: Any, key: str) -> re.Pattern[str]:
    """A regex from the data, matched on the lower-cased text (``an.lower``): no IGNORECASE,
    which makes Python's engine about twice as fast; the data writes them in lower case."""
    return patterns.compile_regex(patterns.require(data, key, str), data, flags=0)


# ------------------------------------------------------------------------------------ approach

def decide_approach(an: Analysis) -> Decision:
    data = patterns.load("approach.yml")
    window = int(data.get("near_window", 8))
    named, generic, conflict, alone, ignored = [], [], [], [], []
    for m in an.mentions:
        if m.element != "approach":
            continue
        near = None
        if "requires_near" in m.extra or "excludes_near" in m.extra:
            near = an.tokens_near(m.extra["tok_start"], m.extra["tok_end"], window)
            req = {w.lower() for w in m.extra.get("requires_near", [])}
            exc = {w.lower() for w in m.extra.get("excludes_near", [])}
            if (req and not near & req) or (exc and near & exc):
                continue
        if not m.counts_as_done():
            ignored.append(m)
            continue
        if m.label == "named":
            named.append(m)
        elif m.label == "generic":
            generic.append(m)
        elif m.extra.get("alone_conflict"):
            alone.append(m)
        else:
            conflict.append(m)
    # generic wording inside a named approach ("lateral extracavitary approach") is the named one
    generic = [g for g in generic if not any(n.start <= g.start < n.end or g.start <= n.start < g.end for n in named)]
    if not named:
        conflict += alone
    notes = {"ignored": [m for m in ignored if m.label in ("named",)]}
    if conflict:
        value = conflict[0].value
        reason = f"another approach or technique is named as done: {', '.join(sorted({c.value for c in conflict}))}"
        if named:
            reason += " (beside the lateral extracavitary approach)"
        return Decision(ElementResult("conflict", value, _mev(an, conflict + named), reason), notes)
    if named:
        return Decision(ElementResult("documented", "lateral extracavitary", _mev(an, named),
                                      "the lateral extracavitary approach is named"), notes)
    if generic:
        return Decision(ElementResult("insufficient", generic[0].value, _mev(an, generic),
                                      "only a generic approach is named"), notes)
    reason = "no approach is named"
    if notes["ignored"]:
        reason += " (a lateral extracavitary approach is mentioned only as " + notes["ignored"][0].why_not_counted() + ")"
    return Decision(ElementResult("missing", None, [], reason), notes)


# ------------------------------------------------------------------------------------ level

def resected_groups(an: Analysis) -> tuple[list[lv.LevelGroup], list[lv.LevelGroup]]:
    """(resected level groups, all other groups) as the note states what was done."""
    resected, others = [], []
    data = patterns.load("level.yml")
    field = data.get("level_field_regex")
    field_re = patterns.compile_regex(field, data, flags=0) if field else None
    resection_told = any(m.element == "extent" and m.counts_as_done() for m in an.mentions)
    says = data.get("level_field_resected_regex")
    field_says = patterns.compile_regex(says, data, flags=0) if says else None
    for sent, grp in an.level_groups:
        sec = an.section_at(grp.start)
        role = grp.role
        if role == "body":
            s0, s1 = an.sentences[sent]
            verb = lv.resection_verb_near(an.text, s0, s1, grp)
            if verb and not (an.labels(verb.start(), verb.end(), sent) & NOT_DONE):
                role = "resection"
        line_start = an.text.rfind("\n", 0, grp.start) + 1
        if role == "unknown" and field_re and field_re.match(an.lower, line_start, grp.start) \
                and (resection_told or (field_says and field_says.search(an.lower, line_start, grp.start))):
            role = "resection"  # a template field: "Level(s): L2" in a corpectomy note, "Level(s) resected: L3"
        if role != "resection" or sec.procedure_mentions != "counts" or sec.kind == "diagnosis":
            others.append(grp)
            continue
        labels = an.labels(grp.start, grp.end, sent)
        if grp.trigger:
            labels = labels | an.labels(grp.trigger[0], grp.trigger[1], sent)
        if labels & NOT_DONE:
            others.append(grp)
            continue
        resected.append(grp)
    return resected, others


def decide_level(an: Analysis, code_info: dict, resection_described: bool,
                 groups: tuple[list[lv.LevelGroup], list[lv.LevelGroup]] | None = None) -> Decision:
    """``groups`` is :func:`resected_groups`' answer when the caller already has it."""
    resected, others = groups if groups is not None else resected_groups(an)
    levels = lv.sort_levels(x for g in resected for x in g.levels)
    region = code_info.get("region", "L")
    notes = {"segments": len(levels), "resected": levels}
    if levels:
        ev = _ev(an, [(g.start, g.end) for g in resected])
        in_region = [x for x in levels if lv.region(x) in region]
        if in_region:
            return Decision(ElementResult("documented", levels, ev,
                                          f"resected segment(s): {', '.join(levels)}"), notes)
        regions = sorted({lv.grammar().regions[lv.region(x)]["name"] for x in levels})
        return Decision(ElementResult("conflict", levels, ev,
                                      f"only {' and '.join(regions)} segments were resected"), notes)
    if others or resection_described:
        if others:
            other_levels = lv.sort_levels(x for g in others for x in g.levels)
            detail = (f"Levels appear ({', '.join(other_levels[:8])}) but none is named as the vertebral body resected: "
                      "diagnosis, fusion, screw and disc levels do not count.")
        else:
            detail = "A resection is described without saying which vertebral body was resected."
        notes["detail"] = detail
        return Decision(ElementResult("insufficient", [], _ev(an, [(g.start, g.end) for g in others]),
                                      detail), notes)
    return Decision(ElementResult("missing", [], [], "no level is named and no resection is described"), notes)


# ------------------------------------------------------------------------------------ pathology

def decide_pathology(an: Analysis) -> Decision:
    data = patterns.load("pathology.yml")
    structural, vague, uncertain, ignored = [], [], [], []
    for m in an.mentions:
        if m.element != "pathology":
            continue
        if m.section_mode == "historical" or m.labels - {"uncertain"}:
            ignored.append(m)
            continue
        if "uncertain" in m.labels:
            uncertain.append(m)
        elif m.label in PATHOLOGY_CATEGORIES:
            structural.append(m)
        else:
            vague.append(m)
    imaging = _imaging(an, data)
    notes: dict[str, Any] = {"imaging": imaging, "ignored": ignored}
    strong = [m for m in structural if not m.extra.get("weak")]
    if strong:
        structural = [m for m in structural if not m.extra.get("weak") or any(s.label == m.label for s in strong)]
    if structural:
        best: dict[str, tuple[int, int, str]] = {}  # category -> (term entry, -length, wording)
        for m in structural:
            text = " ".join(m.text.split())
            key = (m.extra.get("term_index", 0), -len(text), text)
            if m.label not in best or key < best[m.label]:
                best[m.label] = key
        value = [{"category": c, "text": k[2]} for c, k in best.items()]
        cats = ", ".join(dict.fromkeys(v["category"] for v in value))
        return Decision(ElementResult("documented", value, _mev(an, structural), f"structural diagnosis: {cats}"), notes)
    if vague or uncertain:
        items = vague + uncertain
        words = ", ".join(dict.fromkeys(m.text.lower() for m in items))
        notes["value"] = words
        reason = ("only symptoms, non-specific findings or diagnoses that do not call for a corpectomy" if vague
                  else "the diagnosis is only suspected")
        return Decision(ElementResult("insufficient", [], _mev(an, items), f"{reason}: {words}"), notes)
    return Decision(ElementResult("missing", [], [], "no reason for the resection is given"), notes)


def _imaging(an: Analysis, data: Any) -> list[Mention]:
    shows = _regex(data["imaging"], "shows") if isinstance(data.get("imaging"), dict) else None
    path_sents = {m.sent for m in an.mentions if m.element == "pathology"}
    level_sents = {s for s, _ in an.level_groups}
    cited = []
    for m in an.mentions:
        if m.element != "imaging" or m.labels & NOT_DONE:
            continue
        if m.sent in path_sents or m.sent in level_sents or (shows and an.regex_in_sentence(shows, m.sent)):
            cited.append(m)
    return cited


# ------------------------------------------------------------------------------------ extent

def decide_extent(an: Analysis, resected_level_groups: list[lv.LevelGroup]) -> Decision:
    data = patterns.load("extent.yml")
    verb_re = _regex(data, "resection_verb_regex")
    amount_re = _regex(data, "amount_regex")
    body_re = _regex(data, "body_regex")
    rem_before = _regex(data, "remainder_before_regex") if data.get("remainder_before_regex") else None
    rem_after = _regex(data, "remainder_after_regex") if data.get("remainder_after_regex") else None
    remainder_window = int(data.get("remainder_window_chars", 25))
    body_window = int(data.get("body_window_chars", 50))
    fractions = {str(k).lower().replace("-", " "): float(v) for k, v in data.get("fractions", {}).items()}
    minimum = float(data.get("partial_minimum", 1 / 3))
    complete, partial, resection, ignored = [], [], [], []
    for m in an.mentions:
        if m.element != "extent":
            continue
        if m.extra.get("needs_resection_verb"):
            s0, s1 = an.sentences[m.sent]
            hits = [h for h in verb_re.finditer(an.lower, s0, s1) if not (h.start() >= m.start and h.end() <= m.end)]
            if not hits and not verb_re.search(m.text.lower()):
                continue
        if m.extra.get("needs_body"):
            s0, s1 = an.sentences[m.sent]
            if not body_re.search(an.lower, max(s0, m.start - body_window), min(s1, m.end + body_window)):
                continue
        if not m.counts_as_done():
            ignored.append(m)
            continue
        {"complete": complete, "partial": partial}.get(m.label, resection).append(m)
    amounts = []
    for sent, hits in sorted(an.by_sentence(amount_re).items()):
        s0, s1 = an.sentences[sent]
        for h in hits:
            sec = an.section_at(h.start())
            if sec.procedure_mentions != "counts" or an.labels(h.start(), h.end(), sent) & NOT_DONE:
                continue
            if not verb_re.search(an.lower, s0, s1):
                continue  # "the needle reached the posterior two thirds of the body" removes nothing
            if (rem_before and rem_before.search(an.lower, max(s0, h.start() - remainder_window), h.start())) or \
                    (rem_after and rem_after.match(an.lower, h.end(), min(s1, h.end() + remainder_window))):
                continue  # "the anterior one-fifth of each body was left": what remained
            raw = h.group("amount").lower()
            num = re.match(r"(\d{1,3}(?:\.\d+)?)", raw)
            share = float(num.group(1)) / 100 if num else fractions.get(raw.replace("-", " "))
            if share is not None:
                amounts.append((h, share))
    # "the right half of the body was removed en bloc": en bloc says how, the half says how much
    partial_sentences = {an.sentence_of(h.start()) for h, share in amounts if share < 1}
    complete = [m for m in complete if not (m.extra.get("technique") and m.sent in partial_sentences)]
    field_regexes = data.get("field_regex") or []
    if isinstance(field_regexes, str):
        field_regexes = [field_regexes]
    values = {str(k): str(v) for k, v in (data.get("field_values") or {}).items()}
    for rx in field_regexes:
        for sent, hits in sorted(an.by_sentence(patterns.compile_regex(rx, data, flags=0)).items()):
            for h in hits:
                kind = values.get(h.group("value"))
                if kind and an.section_at(h.start()).procedure_mentions == "counts":
                    box = Mention("extent", kind, None, h.start("value"), h.end("value"), an.text[h.start("value"):h.end("value")],
                                  sent=sent)
                    (complete if kind == "complete" else partial).append(box)
    notes: dict[str, Any] = {"ignored": ignored}
    low = [(h, s) for h, s in amounts if s < minimum]
    if low:
        h, s = low[0]
        notes["value"] = h.group("amount")
        return Decision(ElementResult("conflict", "partial", _ev(an, [(h.start(), h.end()) for h, _ in low]),
                                      f"{h.group('amount')} of the body is less than one third"), notes)
    if complete:
        return Decision(ElementResult("documented", "complete", _mev(an, complete), "complete resection stated"), notes)
    if partial or amounts:
        ev = _mev(an, partial) + _ev(an, [(h.start(), h.end()) for h, _ in amounts])
        return Decision(ElementResult("documented", "partial", ev[:MAX_EVIDENCE], "partial resection stated"), notes)
    if resection or resected_level_groups:
        ev = _mev(an, resection) or _ev(an, [(g.start, g.end) for g in resected_level_groups])
        return Decision(ElementResult("insufficient", None, ev, "a resection is described without its extent"), notes)
    return Decision(ElementResult("missing", None, [], "no resection is described"), notes)


# ------------------------------------------------------------------------------------ neural elements

def decide_neural(an: Analysis, resected_levels: list[str]) -> Decision:
    data = patterns.load("neural.yml")
    decomp_re = _regex(data, "decompression_regex")
    sacrifice_re = _regex(data, "sacrifice_regex")
    window = int(data.get("root_level_window_chars", 20))
    cord_levels = set(data.get("cord_warning_levels", []))
    root_value, cord_value = str(data.get("root_value", "")), str(data.get("cord_value", ""))
    by_sent: dict[int, list[Mention]] = {}
    for m in an.mentions:
        if m.element == "neural":
            by_sent.setdefault(m.sent, []).append(m)
    groups_by_sent: dict[int, list[lv.LevelGroup]] = {}
    for s, g in an.level_groups:
        groups_by_sent.setdefault(s, []).append(g)
    named: list[tuple[str, Mention]] = []
    generic: list[Any] = []
    sacrificed: list[tuple[str, Mention]] = []
    cord_low: list[tuple[str, Mention]] = []
    decomp_by_sent, cuts_by_sent = an.by_sentence(decomp_re), an.by_sentence(sacrifice_re)
    # a template field "Decompression of:" lends its verb to the checked items on the next lines
    for sent in sorted(decomp_by_sent):
        s0, s1 = an.sentences[sent]
        if an.text[s0:s1].rstrip().endswith(":"):
            for nxt in range(sent + 1, min(sent + 4, len(an.sentences))):
                if nxt in by_sent and nxt not in decomp_by_sent:
                    decomp_by_sent[nxt] = decomp_by_sent[sent]
    for sent in sorted(set(decomp_by_sent) | set(cuts_by_sent)):
        s0, s1 = an.sentences[sent]
        sec = an.section_at(s0)
        if sec.procedure_mentions != "counts":
            continue
        generic_here_spans = [(m.start, m.end) for m in by_sent.get(sent, []) if m.label == "generic"]
        verbs = [h for h in decomp_by_sent.get(sent, []) if not (an.labels(h.start(), h.end(), sent) & NOT_DONE)]
        # "canal decompression", "decompression of the canal": that verb is the generic term's
        own_verbs = [h for h in verbs if not any(0 <= h.start() - e <= 3 or 0 <= s_ - h.end() <= 8
                                                 for s_, e in generic_here_spans)]
        cuts = cuts_by_sent.get(sent, [])
        if not verbs and not cuts:
            continue
        elems = by_sent.get(sent, [])
        named_here = generic_here = False
        for m in elems:
            if m.labels & NOT_DONE:
                continue
            if m.label == "generic":
                if verbs:
                    generic.append(m)
                    generic_here = True
                continue
            names = [m.value or m.text.lower()]
            if names[0] == root_value:
                root_levels = _root_levels(groups_by_sent.get(sent, []), m, window)
                names = [f"{lv_} {root_value}" for lv_ in root_levels] or [root_value]
                if cuts and _closer(cuts, own_verbs, m, an.text):
                    sacrificed += [(n, m) for n in names]
                    continue
            if not verbs:
                continue
            named += [(n, m) for n in names]
            named_here = True
            if m.value == cord_value:
                near = [x for g in groups_by_sent.get(sent, []) for x in g.levels] or resected_levels
                low = sorted(set(near) & cord_levels, key=lambda x: lv.grammar().order.get(x, 0))
                if low:
                    cord_low.append((low[0], m))
        if verbs and not named_here and not generic_here:
            generic.append(verbs[0])
    notes: dict[str, Any] = {"sacrificed": sacrificed, "cord_low": cord_low}
    if named:
        value = list(dict.fromkeys(n for n, _ in named))
        return Decision(ElementResult("documented", value, _mev(an, [m for _, m in named]),
                                      "decompressed: " + ", ".join(value)), notes)
    if generic:
        ev = _ev(an, [(g.start, g.end) if isinstance(g, Mention) else (g.start(), g.end()) for g in generic])
        words = ", ".join(dict.fromkeys((g.text if isinstance(g, Mention) else g.group()).lower() for g in generic))
        notes["value"] = words
        return Decision(ElementResult("insufficient", [], ev, "decompression stated without a named neural element"), notes)
    reason = "no decompression is stated"
    if sacrificed:
        reason += " (a nerve root was sacrificed, not decompressed)"
    return Decision(ElementResult("missing", [], [], reason), notes)


def _root_levels(groups: list[lv.LevelGroup], m: Mention, window: int) -> list[str]:
    """The levels a root mention names: all of the group just before it ("the L1 and L2 nerve
    roots"), else the nearest level after it ("the nerve root at L2")."""
    best = None
    for g in groups:
        dist = m.start - g.end if g.end <= m.start else g.start - m.end
        if 0 <= dist <= window and (best is None or dist < best[0]):
            best = (dist, list(g.levels) if g.end <= m.start else [g.levels[0]])
    return best[1] if best else []


def _closer(cuts, verbs, m: Mention, text: str = "") -> bool:
    """Is a sacrifice word closer to the root mention than any decompression word?
    A semicolon between them is a clause boundary: "ligation of the L1 root; ventral decompression"."""
    def dist(h):
        lo, hi = (h.end(), m.start) if h.end() <= m.start else (m.end, h.start())
        if text and ";" in text[lo:hi]:
            return 10**9
        return min(abs(h.start() - m.end), abs(m.start - h.end()))
    best_cut = min(dist(h) for h in cuts)
    best_verb = min((dist(h) for h in verbs), default=10**9)
    return best_cut < best_verb


# ------------------------------------------------------------------------------------ co-surgeon

def decide_cosurgeon(an: Analysis, modifier62: bool = False) -> Decision:
    data = patterns.load("cosurgeon.yml")
    marker = _regex(data, "cosurgeon_marker_regex")
    assistant = _regex(data, "assistant_marker_regex")
    name_re = patterns.compile_regex(patterns.require(data, "name_regex", str), data, flags=0)
    performed = _regex(data, "performed_regex")
    portion = _regex(data, "portion_regex")
    necessity = _regex(data, "necessity_regex")
    text = an.text
    names: dict[str, tuple[int, int]] = {}
    surgeon_names: dict[str, tuple[int, int]] = {}
    cosurgeon_section_names: dict[str, tuple[int, int]] = {}
    marked = False
    assistants: set[str] = set()

    def add_names(start: int, end: int, into: dict) -> None:
        for h in name_re.finditer(text, start, end):
            raw = h.group("dr") or h.group("md")
            into.setdefault(_surname(raw), (h.start(), h.end()))

    for sec in an.sections:
        if sec.id == "co_surgeon":
            before = len(names)
            add_names(sec.start, sec.end, names)
            add_names(sec.start, sec.end, cosurgeon_section_names)
            marked = marked or len(names) > before
        elif sec.id == "surgeon":
            add_names(sec.start, sec.end, surgeon_names)
            said = [h for h in marker.finditer(an.lower, sec.header_start, sec.end)
                    if not an.labels(h.start(), h.end()) & NOT_DONE]  # not "No co-surgeon."
            if said:
                add_names(sec.start, sec.end, names)
                marked = True
        elif sec.id == "assistant":
            tmp: dict = {}
            add_names(sec.start, sec.end, tmp)
            assistants |= set(tmp)
    for sent, hits in sorted(an.by_sentence(marker).items()):
        s0, s1 = an.sentences[sent]
        sec = an.section_at(s0)
        if sec.id in ("co_surgeon", "surgeon", "assistant"):
            continue
        if not any(an.labels(h.start(), h.end(), sent) & NOT_DONE for h in hits):
            marked = True
            tmp = {}
            add_names(s0, s1, tmp)
            for k, v in tmp.items():
                if not assistant.search(an.lower, max(s0, v[0] - 30), min(s1, v[1] + 30)):
                    names.setdefault(k, v)
    if names and surgeon_names:
        for k, v in surgeon_names.items():
            names.setdefault(k, v)
    for a in assistants:
        names.pop(a, None)
    notes: dict[str, Any] = {"applies": bool(names) or modifier62 or marked}
    if not notes["applies"]:
        return Decision(ElementResult("not_applicable", [], [], "no co-surgeon is named"), notes)
    ordered = sorted(names.items(), key=lambda kv: kv[1][0])
    display = [_display(text[s:e]) for _, (s, e) in ordered]
    attributed, missing_for, portion_ev = [], [], []
    self_re = _regex(data, "self_regex") if data.get("self_regex") else None
    own_portion = _regex(data, "own_portion_regex") if data.get("own_portion_regex") else None
    dictator = set(surgeon_names) - set(cosurgeon_section_names)  # who "I" is in the narrative
    if not dictator and ordered:
        # "Co-surgeons: Dr. A (dictating) and Dr. B": the one marked as dictating, else the first named
        dictating = _regex(data, "dictating_regex") if data.get("dictating_regex") else None
        marked_dictating = [k for k, (s0, s1) in ordered if dictating and dictating.match(an.lower, s1, s1 + 20)]
        dictator = set(marked_dictating or [ordered[0][0]])
    for surname, _ in ordered:
        found = None
        hits = [h.start() for h in re.finditer(rf"\b{re.escape(surname)}\b", text)]
        if self_re is not None and surname in dictator:
            hits += [h.start() for h in self_re.finditer(an.lower)]
        for pos in sorted(hits):
            s0, s1 = an.sentences[an.sentence_of(pos)]
            seg = an.lower[s0:s1]  # a personnel line may attribute too: "CO-SURGEON: Dr. B - performed the exposure"
            if (performed.search(seg) and portion.search(seg)) or (own_portion and own_portion.search(seg)):
                found = (s0, s1)
                break
        if found:
            attributed.append(surname)
            portion_ev.append(found)
        else:
            missing_for.append(surname)
    notes["necessity"] = [(h.start(), h.end()) for h in necessity.finditer(an.lower)]
    ev = _ev(an, [v for _, v in ordered] + portion_ev)
    if not ordered:
        notes["detail"] = "Co-surgery is indicated but no co-surgeon is named and no portions are attributed."
        return Decision(ElementResult("missing", [], ev, notes["detail"]), notes)
    if missing_for:
        who = ", ".join(d for d, (s, _) in zip(display, ordered) if s in missing_for)
        notes["detail"] = f"Co-surgeons are named ({', '.join(display)}) but no distinct portion is attributed to: {who}."
        return Decision(ElementResult("missing", display, ev, notes["detail"]), notes)
    return Decision(ElementResult("documented", display, ev, "each co-surgeon's portion is attributed"), notes)


def _surname(raw: str) -> str:
    """The key a surgeon is known by: the last name, without a possessive ("Dr. Okafor's")."""
    parts = [p for p in re.split(r"\s+", raw.strip()) if p and not re.fullmatch(r"[A-Z]\.", p)]
    last = parts[-1] if parts else raw.strip()
    return re.sub(r"['\u2019]s$", "", last)


def _display(raw: str) -> str:
    return re.sub(r"\s+", " ", raw.strip().rstrip(","))


def load_code(code: str) -> dict:
    data = patterns.load("codes.yml")
    codes = patterns.require(data, "codes", dict, "patterns/codes.yml")
    if code not in codes:
        raise PatternError(f"patterns/codes.yml: code {code} is not defined")
    return codes[code]
