"""Audit one note: read -> analyse -> decide elements -> findings -> suggested codes.

``audit_text`` is the one code path every command uses (check, scan, eval, the HTML report).
"""

from __future__ import annotations

import gc
from pathlib import Path

from opnote_audit import elements as el
from opnote_audit import rules
from opnote_audit.analysis import Analysis, analyze
from opnote_audit.errors import UsageError
from opnote_audit.models import AuditResult, Finding
from opnote_audit import patterns


def auditable_codes() -> list[str]:
    return [str(c) for c in patterns.load("codes.yml").get("auditable", ["63101", "63102"])]


def audit_text(text: str, code: str = "63102", file: str = "<text>", modifier62: bool = False,
               source: dict | None = None, claim=None) -> AuditResult:
    """Audit a note's text; with ``claim`` (a :class:`opnote_audit.claim.ClaimInput`) also review
    the billed codes and diagnoses: modifier 62 then comes from the claim."""
    if code not in auditable_codes():
        raise UsageError(f"unknown --code {code}: choose one of {', '.join(auditable_codes())}")
    code_info = el.load_code(code)
    an = analyze(text)

    approach = el.decide_approach(an)
    groups = el.resected_groups(an)
    extent = el.decide_extent(an, groups[0])
    resection_described = extent.result.status != "missing"
    level = el.decide_level(an, code_info, resection_described, groups)
    pathology = el.decide_pathology(an)
    neural = el.decide_neural(an, level.notes.get("resected", []))
    if claim is not None:
        modifier62 = claim.modifier62
    cosurgeon = el.decide_cosurgeon(an, modifier62)
    decisions = {
        "approach": approach, "level": level, "pathology": pathology,
        "extent": extent, "neural_elements": neural, "co_surgeon": cosurgeon,
    }
    findings = _findings(an, decisions, code, code_info)
    facts = {
        "segments": level.notes.get("segments", 0),
        "imaging_cited": bool(pathology.notes.get("imaging")),
        "cosurgery": bool(cosurgeon.notes.get("applies")),
    }
    suggested = suggest_codes(decisions, code)
    claim_data = None
    if claim is not None:
        from opnote_audit import claim as claim_mod

        reviewed = claim_mod.review(an, decisions, claim, code, suggested)
        findings.extend(reviewed.findings)
        claim_data = reviewed.data
    return AuditResult(
        file=file,
        code=code,
        elements={k: d.result for k, d in decisions.items()},
        findings=findings,
        suggested_codes=suggested,
        facts=facts,
        source=source or {},
        claim=claim_data,
    )


def _findings(an: Analysis, d: dict[str, el.Decision], code: str, code_info: dict) -> list[Finding]:
    out: list[Finding] = []
    smap = rules.status_rules()
    for element, dec in d.items():
        rid = smap.get(element, {}).get(dec.result.status)
        if rid:
            out.append(rules.finding(rid, dec.result.evidence, value=_show(dec.result.value, dec.notes),
                                     detail=dec.notes.get("detail", dec.result.reason), code=code,
                                     region=code_info.get("region_name", "")))
    segs = d["level"].notes.get("segments", 0)
    if d["level"].result.status == "documented" and segs > 1:
        out.append(rules.finding("level-additional-segments", d["level"].result.evidence,
                                 detail=f"{segs} segments were resected: one primary code and 63103 x{segs - 1}."))
    path = d["pathology"]
    if path.result.status in ("documented", "insufficient") and not path.notes.get("imaging"):
        out.append(rules.finding("pathology-no-imaging"))
    for name, m in d["neural_elements"].notes.get("sacrificed", []):
        out.append(rules.finding("neural-root-sacrificed", [an.evidence(m.start, m.end)], value=name))
    for level, m in d["neural_elements"].notes.get("cord_low", [])[:1]:
        out.append(rules.finding("neural-cord-below-conus", [an.evidence(m.start, m.end)], value=level))
    co = d["co_surgeon"]
    if co.notes.get("applies"):
        if not co.notes.get("necessity"):
            out.append(rules.finding("cosurgeon-necessity-unstated", co.result.evidence[:1]))
        out.append(rules.finding("cosurgeon-separate-reports"))
    for element in ("approach", "extent"):
        dec = d[element]
        if dec.result.status in ("missing", "insufficient"):
            for m in dec.notes.get("ignored", [])[:2]:
                out.append(rules.finding("mention-not-counted", [an.evidence(m.start, m.end)], element=element,
                                         value=" ".join(m.text.split()), detail=m.why_not_counted()))
    return out


def _show(value, notes) -> str:
    if "value" in notes:
        return str(notes["value"])
    if isinstance(value, list):
        return ", ".join(v["text"] if isinstance(v, dict) else str(v) for v in value)
    return "" if value is None else str(value)


def suggest_codes(d: dict[str, el.Decision], code: str) -> list[dict]:
    """The code set the note supports: a primary code for the first resected segment of the
    regions the codes cover, and the add-on code for each additional segment (codes.yml)."""
    if d["approach"].result.status != "documented":
        return []
    levels = d["level"].notes.get("resected", [])
    if not levels or d["level"].result.status not in ("documented", "conflict"):
        return []
    codes = patterns.load("codes.yml")["codes"]
    primaries = {c: info for c, info in codes.items() if info.get("kind") == "primary"}
    covered = {r for info in primaries.values() for r in str(info.get("region", ""))}
    regions = {lv[0] for lv in levels}
    primary = code if codes[code].get("region") in regions else next(
        (c for c, info in primaries.items() if info.get("region") in regions), None)
    if primary is None:
        return []
    segments = [x for x in levels if x[0] in covered]
    addon = next((c for c, info in codes.items() if info.get("kind") == "addon" and primary in info.get("addon_to", [])),
                 None)
    out = [{"code": primary, "units": 1}]
    if addon and len(segments) > 1:
        out.append({"code": addon, "units": len(segments) - 1})
    return out


def warm_up(code: str = "63102") -> None:
    """Build the whole pipeline once (errors in pattern data surface here), then settle the
    garbage collector for a long run: the objects built so far (spaCy, the compiled patterns)
    live as long as the process, so they are frozen out of the collector's scans, and the
    collector, which the command line switches off during start-up, is switched back on."""
    audit_text("Warm-up.", code=code)
    gc.freeze()
    gc.enable()


def audit_file(path: str | Path, code: str = "63102", modifier62: bool = False,
               display_name: str | None = None, claim=None) -> AuditResult:
    from opnote_audit.readers import read_note

    note = read_note(path)
    return audit_text(note.text, code=code, file=display_name or str(path), modifier62=modifier62,
                      source={"format": note.format, "encoding": note.encoding, "chars": len(note.text)},
                      claim=claim)
