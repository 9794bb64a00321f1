"""Companion procedures of the same session, detected in the note (spec "Companion procedures").

Arthrodesis, instrumentation, grafts, the device in the corpectomy defect, the operating
microscope and discectomies are found with the regexes of ``patterns/companions.yml`` over the
analysed sentences. A hit counts only where procedure mentions count and when its context
labels (negated, planned, hypothetical, uncertain, historical) do not say it was not done.
For each procedure the module reports the code(s) the note supports, whether the note
describes it as a separate step, and whether its own reason is stated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from opnote_audit import levels as lv
from opnote_audit import patterns
from opnote_audit.analysis import Analysis
from opnote_audit.errors import PatternError
from opnote_audit.models import Evidence

NOT_DONE = frozenset({"negated", "hypothetical", "historical", "uncertain", "family"})
CODE_RULES = ("fixed", "by_region", "posterior_fusion", "by_segments", "device", "discectomy")
PROC_KEYS = {"id", "name", "family", "regex", "exclude_regex", "unless_regex", "code_rule", "code", "codes",
             "additional", "bands", "unknown", "nonsegmental_regex", "nonsegmental", "with_fusion",
             "without_fusion", "disc_space", "fusion_regex", "reason_regex", "needs_reason"}
LEVEL_ROLES = ("fusion", "unknown")  # level groups that say where instrumentation or fusion goes
MAX_EVIDENCE = 4


@dataclass
class Procedure:
    """One entry of patterns/companions.yml, compiled."""

    id: str
    name: str
    family: str
    regex: re.Pattern[str]
    code_rule: str
    data: dict[str, Any]
    reason: re.Pattern[str]
    needs_reason: bool = False
    exclude: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None


@dataclass
class Companion:
    """A companion procedure the note documents as done."""

    id: str
    name: str
    family: str
    codes: list[dict[str, Any]]              # [{"code": "22842", "units": 1}], [] when no code applies
    separate_step: bool
    reason_stated: bool
    needs_reason: bool
    evidence: list[Evidence] = field(default_factory=list)
    reason_evidence: list[Evidence] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    detail: str = ""
    facts: dict[str, Any] = field(default_factory=dict)   # rule-specific: interspaces, with_fusion ...

    def to_dict(self) -> dict[str, Any]:
        """JSON form; evidence as line and offsets only (no note text)."""
        return {
            "id": self.id, "name": self.name, "family": self.family, "codes": self.codes,
            "separate_step": self.separate_step, "reason_stated": self.reason_stated, "needs_reason": self.needs_reason,
            "levels": self.levels, "detail": self.detail, "facts": self.facts,
            "evidence": [{"line": e.line, "start": e.start, "end": e.end} for e in self.evidence],
            "reason_evidence": [{"line": e.line, "start": e.start, "end": e.end} for e in self.reason_evidence],
        }


def _opt_regex(entry: dict, key: str) -> re.Pattern[str] | None:
    return patterns.compile_regex(entry[key], entry) if entry.get(key) else None


@patterns.cached
def procedures() -> tuple[list[Procedure], re.Pattern[str]]:
    """The compiled procedures and the part-of-the-corpectomy regex."""
    data = patterns.load("companions.yml")
    name = "patterns/companions.yml"
    default_reason = patterns.compile_regex(patterns.require(data, "reason_regex", str, name), data)
    part_of = patterns.compile_regex(patterns.require(data, "part_of_corpectomy_regex", str, name), data)
    out, seen = [], set()
    for entry in patterns.require(data, "procedures", list, name):
        patterns.check_keys(entry, PROC_KEYS, name)
        pid = str(patterns.require(entry, "id", str, name))
        if pid in seen:
            raise PatternError(f"{patterns.where(entry, name)}: duplicate procedure id '{pid}'")
        seen.add(pid)
        rule = patterns.require(entry, "code_rule", str, name)
        if rule not in CODE_RULES:
            raise PatternError(f"{patterns.where(entry, name)}: code_rule must be one of {', '.join(CODE_RULES)}")
        if rule == "fixed":
            patterns.require(entry, "code", str, name)
        if rule in ("by_region", "posterior_fusion"):
            patterns.require(entry, "codes", dict, name)
        if rule == "by_segments":
            for band in patterns.require(entry, "bands", list, name):
                patterns.check_keys(band, {"min", "max", "code"}, name)
        if rule == "device":
            for key in ("with_fusion", "without_fusion", "disc_space", "fusion_regex"):
                patterns.require(entry, key, str, name)
        out.append(Procedure(
            id=pid, name=str(patterns.require(entry, "name", str, name)),
            family=str(patterns.require(entry, "family", str, name)),
            regex=patterns.compile_regex(patterns.require(entry, "regex", str, name), entry),
            code_rule=rule, data=dict(entry),
            reason=_opt_regex(entry, "reason_regex") or default_reason,
            needs_reason=bool(entry.get("needs_reason", False)),
            exclude=_opt_regex(entry, "exclude_regex"), unless=_opt_regex(entry, "unless_regex"),
        ))
    return out, part_of


# ------------------------------------------------------------------------------- finding hits

def _hits(an: Analysis, proc: Procedure) -> list[tuple[int, re.Match[str]]]:
    """(sentence, match) of every mention of the procedure that documents it as done."""
    out = []
    for sent, (s0, s1) in enumerate(an.sentences):
        matches = list(proc.regex.finditer(an.text, s0, s1))
        if not matches:
            continue
        sentence = an.text[s0:s1]
        if proc.exclude and proc.exclude.search(sentence) and not (proc.unless and proc.unless.search(sentence)):
            continue
        for h in matches:
            sec = an.section_at(h.start())
            if sec.procedure_mentions != "counts" or sec.kind == "diagnosis":
                continue
            if an.labels(h.start(), h.end(), sent) & NOT_DONE:
                continue
            out.append((sent, h))
    return out


def _levels_in(an: Analysis, sents: set[int]) -> list[str]:
    return lv.sort_levels(x for s, g in an.level_groups if s in sents and g.role in LEVEL_ROLES for x in g.levels)


def _span(levels: list[str]) -> int:
    """Vertebral segments from the first to the last level named (inclusive)."""
    order = lv.grammar().order
    known = [order[x] for x in levels if x in order]
    return max(known) - min(known) + 1 if known else 0


def _runs(levels: list[str]) -> int:
    """Number of contiguous runs of resected levels (one device per contiguous defect)."""
    order = sorted(lv.grammar().order[x] for x in levels if x in lv.grammar().order)
    return sum(1 for i, o in enumerate(order) if i == 0 or o != order[i - 1] + 1)


def _reason(an: Analysis, proc: Procedure, sents: set[int]) -> list[tuple[int, int]]:
    """Spans stating the procedure's reason: in its own sentences first, else anywhere affirmed."""
    def scan(indices):
        found = []
        for sent in indices:
            s0, s1 = an.sentences[sent]
            for h in proc.reason.finditer(an.text, s0, s1):
                if not (an.labels(h.start(), h.end(), sent) & {"negated"}):
                    found.append((h.start(), h.end()))
        return found
    return scan(sorted(sents)) or scan(range(len(an.sentences)))


def _interspaces(an: Analysis, sents: set[int]) -> list[tuple[str, str]]:
    """Disc interspaces named in the sentences ("T12-L1", "L1-2"): pairs of adjacent levels."""
    g = lv.grammar()
    out: list[tuple[str, str]] = []
    for sent in sorted(sents):
        s0, s1 = an.sentences[sent]
        for m in g.level_re.finditer(an.text, s0, s1):
            if not m.group("n2"):
                continue
            a = f"{m.group('r1').upper()}{int(m.group('n1'))}"
            b = f"{(m.group('r2') or m.group('r1')).upper()}{int(m.group('n2'))}"
            if a in g.order and b in g.order and g.order[b] == g.order[a] + 1 and (a, b) not in out:
                out.append((a, b))
    return out


# ------------------------------------------------------------------------------- code choice

def _region_code(codes: dict, levels: list[str]) -> str | None:
    regions = {lv.region(x) for x in levels}
    for letter in ("L", "T"):
        if letter in regions and letter in codes:
            return str(codes[letter])
    return None


def _choose(proc: Procedure, an: Analysis, sents: set[int], resected: list[str],
            found: dict[str, "Companion"]) -> tuple[list[dict], list[str], str, dict]:
    """(codes, levels, detail, facts) of a detected procedure by its code rule."""
    d = proc.data
    rule = proc.code_rule
    if rule == "fixed":
        return [{"code": str(d["code"]), "units": 1}], [], "", {}
    if rule == "by_region":
        code = _region_code(d["codes"], resected)
        if code is None:
            return [], [], "region unknown: no thoracic or lumbar segment is named as resected", {}
        return [{"code": code, "units": 1}], [], "", {}
    levels = _levels_in(an, sents)
    if rule == "posterior_fusion":
        n = _span(levels)
        code = _region_code(d["codes"], levels) or _region_code(d["codes"], resected)
        if code is None:
            return [], levels, "levels not stated", {}
        out = [{"code": code, "units": 1}]
        if n > 2 and d.get("additional"):
            out.append({"code": str(d["additional"]), "units": n - 2})
        detail = f"{n} vertebral segments, {n - 1} interspaces" if n else "levels not stated: one level assumed"
        return out, levels, detail, {"segments": n}
    if rule == "by_segments":
        n = _span(levels)
        nonseg = d.get("nonsegmental_regex")
        if nonseg and any(patterns.compile_regex(nonseg, d).search(an.sentence_text(s)) for s in sents):
            return [{"code": str(d["nonsegmental"]), "units": 1}], levels, "non-segmental", {"segments": n}
        if not n:
            return [{"code": str(d["unknown"]), "units": 1}], levels, \
                f"segments not stated: {d['unknown']} assumed", {"segments": 0}
        for band in d["bands"]:
            if int(band["min"]) <= n <= int(band["max"]):
                return [{"code": str(band["code"]), "units": 1}], levels, f"{n} vertebral segments", {"segments": n}
        return [], levels, f"{n} vertebral segments: no code band", {"segments": n}
    if rule == "device":
        if not resected:
            return [{"code": str(d["disc_space"]), "units": 1}], [], "no corpectomy defect documented", \
                {"in_corpectomy_defect": False}
        fusion_re = patterns.compile_regex(d["fusion_regex"], d)
        with_fusion = "anterior_arthrodesis" in found or any(fusion_re.search(an.sentence_text(s)) for s in sents)
        code = d["with_fusion"] if with_fusion else d["without_fusion"]
        runs = _runs(resected)
        detail = ("with interbody arthrodesis" if with_fusion else "without arthrodesis") + \
            f", {runs} contiguous defect{'s' if runs != 1 else ''}"
        return [{"code": str(code), "units": runs}], [], detail, \
            {"in_corpectomy_defect": True, "with_fusion": with_fusion, "defects": runs}
    # discectomy: no code; interspaces next to a resected body are part of the corpectomy
    spaces = _interspaces(an, sents)
    res = set(resected)
    adjacent = [f"{a}-{b}" for a, b in spaces if a in res or b in res]
    separate = [f"{a}-{b}" for a, b in spaces if not (a in res or b in res)]
    detail = []
    if adjacent:
        detail.append(f"{', '.join(adjacent)} next to the resected bodies (included in the corpectomy)")
    if separate:
        detail.append(f"{', '.join(separate)} at other interspaces")
    if not spaces:
        detail.append("interspaces not stated")
    return [], [], "; ".join(detail), {"adjacent": adjacent, "separate": separate}


# ------------------------------------------------------------------------------- entry point

def detect(an: Analysis, resected: list[str]) -> list[Companion]:
    """Companion procedures the note documents as done, in the order of the data file."""
    procs, part_of = procedures()
    found: dict[str, Companion] = {}
    for proc in procs:
        hits = _hits(an, proc)
        if not hits:
            continue
        sents = {s for s, _ in hits}
        codes, levels, detail, facts = _choose(proc, an, sents, resected, found)
        separate = any(not part_of.search(an.sentence_text(s)) for s in sents)
        reason_spans = _reason(an, proc, sents)
        spans = list(dict.fromkeys((h.start(), h.end()) for _, h in hits))[:MAX_EVIDENCE]
        found[proc.id] = Companion(
            id=proc.id, name=proc.name, family=proc.family, codes=codes, separate_step=separate,
            reason_stated=bool(reason_spans), needs_reason=proc.needs_reason,
            evidence=[an.evidence(s, e) for s, e in spans],
            reason_evidence=[an.evidence(s, e) for s, e in reason_spans[:1]],
            levels=levels, detail=detail, facts=facts,
        )
    return list(found.values())
