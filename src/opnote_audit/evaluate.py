"""Accuracy against gold labels: per-element confusion, documented P/R/F1, value accuracy.

Gold is JSONL, one object per note (blank lines are skipped):

- ``file``: the note, relative to the notes folder (required);
- ``code``: the code audited, ``63102`` when absent;
- ``elements``: all six elements, each ``{"status": ..., "value": ...}`` as in the JSON
  contract, except that pathology values may be plain category names (required);
- ``segments``: the number of resected segments (optional; compared when given);
- ``modifier62``: true when the claim bills modifier 62 (optional, default false);
- any other key (``why``...) is a comment and ignored.

``evaluate`` audits every note once and returns a plain dict (the ``--format json`` output
of ``opnote-audit eval``). Label errors raise ``InputError`` naming the gold file and line.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from opnote_audit.errors import InputError
from opnote_audit.models import ELEMENTS, PATHOLOGY_CATEGORIES, STATUSES

EXTENT_VALUES = ("partial", "complete")
LEVEL_RE = re.compile(r"^[CTLS][1-9][0-2]?$")
VALUE_KINDS = ("level", "segments", "extent", "pathology")   # value accuracy, in report order
# value kind -> the element whose evidence explains a disagreement
VALUE_ELEMENT = {"level": "level", "segments": "level", "extent": "extent", "pathology": "pathology"}
CONTEXT_CHARS = 80   # note text kept on each side of a quoted match, within its line

# (path, code, display name, modifier62) -> the audit result as a JSON-contract dict
AuditFn = Callable[[Path, str, str, bool], dict]


@dataclass
class GoldNote:
    file: str
    code: str
    elements: dict[str, dict[str, Any]]
    segments: int | None
    line: int
    modifier62: bool = False


@dataclass
class Disagreement:
    file: str
    element: str
    field: str          # "status", "value" or "segments"
    gold: Any
    got: Any
    reason: str = ""
    evidence: list[dict] = field(default_factory=list)


# ---------------------------------------------------------------- loading and label checks

def default_notes_dir(gold_path: Path) -> Path:
    """``<gold folder>/notes`` when that folder exists, else the gold file's folder."""
    notes = gold_path.parent / "notes"
    return notes if notes.is_dir() else gold_path.parent


def load_gold(path: Path) -> list[GoldNote]:
    """Read and check a gold file; the first problem raises ``InputError`` with file:line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: gold file not found")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read gold file ({type(exc).__name__})") from None
    out: list[GoldNote] = []
    seen: dict[str, int] = {}
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        note = _parse_line(f"{path}:{i}", line, i)
        if note.file in seen:
            raise InputError(f"{path}:{i}: note '{note.file}' is already labelled on line {seen[note.file]}")
        seen[note.file] = i
        out.append(note)
    if not out:
        raise InputError(f"{path}: gold file has no labels")
    return out


def _parse_line(where: str, line: str, lineno: int) -> GoldNote:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: invalid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise InputError(f"{where}: each line must be a JSON object")
    for key in ("file", "elements"):
        if key not in obj:
            raise InputError(f"{where}: missing key '{key}'")
    if not isinstance(obj["file"], str) or not obj["file"].strip():
        raise InputError(f"{where}: 'file' must be a non-empty string")
    code = obj.get("code", "63102")
    if not isinstance(code, (str, int)) or not re.fullmatch(r"\d{5}", str(code)):
        raise InputError(f"{where}: 'code' must be a five-digit CPT code")
    els = obj["elements"]
    if not isinstance(els, dict):
        raise InputError(f"{where}: 'elements' must be an object")
    unknown = set(els) - set(ELEMENTS)
    if unknown:
        raise InputError(f"{where}: unknown element(s) {', '.join(sorted(unknown))}")
    for name in ELEMENTS:
        _check_element(where, name, els.get(name))
    segments = obj.get("segments")
    if segments is not None and (isinstance(segments, bool) or not isinstance(segments, int) or segments < 0):
        raise InputError(f"{where}: 'segments' must be a whole number of at least 0")
    mod62 = obj.get("modifier62", False)
    if not isinstance(mod62, bool):
        raise InputError(f"{where}: 'modifier62' must be true or false")
    return GoldNote(obj["file"], str(code), els, segments, lineno, mod62)


def _check_element(where: str, name: str, label: Any) -> None:
    if not isinstance(label, dict) or "status" not in label:
        raise InputError(f"{where}: missing element '{name}' or its 'status'")
    status = label["status"]
    if status not in STATUSES:
        raise InputError(f"{where}: element '{name}' has unknown status '{status}' "
                         f"(choose one of {', '.join(STATUSES)})")
    if status == "not_applicable" and name != "co_surgeon":
        raise InputError(f"{where}: element '{name}' cannot be not_applicable (only co_surgeon)")
    value = label.get("value")
    problem = _value_problem(name, value)
    if problem:
        raise InputError(f"{where}: element '{name}' value {problem}")


def _value_problem(name: str, value: Any) -> str:
    """Why a gold value does not fit the JSON contract, or '' when it does."""
    if name == "approach":
        return "" if value is None or isinstance(value, str) else "must be a string or null"
    if name == "extent":
        return "" if value is None or value in EXTENT_VALUES else "must be 'partial', 'complete' or null"
    if value is None:
        return ""
    if not isinstance(value, list):
        return "must be a list"
    if name == "level":
        bad = [v for v in value if not isinstance(v, str) or not LEVEL_RE.match(v)]
        return f"has a level that is not like 'L2' ({bad[0]!r})" if bad else ""
    if name == "pathology":
        for v in value:
            cat = v.get("category") if isinstance(v, dict) else v
            if cat not in PATHOLOGY_CATEGORIES:
                return f"has unknown category {cat!r} (choose one of {', '.join(PATHOLOGY_CATEGORIES)})"
        return ""
    bad = [v for v in value if not isinstance(v, str)]
    return "must be a list of strings" if bad else ""


# ---------------------------------------------------------------- evaluation

def audit_note(path: Path, code: str, name: str, modifier62: bool) -> dict:
    """The default auditor: ``audit_file`` as a JSON-contract dict."""
    from opnote_audit.audit import audit_file

    return audit_file(path, code=code, modifier62=modifier62, display_name=name).to_dict()


def caching_audit(audit: AuditFn | None = None) -> AuditFn:
    """An auditor that audits each (path, code, modifier62) once (tests share it per session)."""
    audit = audit or audit_note
    cache: dict[tuple[str, str, bool], dict] = {}

    def cached(path: Path, code: str, name: str, modifier62: bool) -> dict:
        key = (str(Path(path).resolve()), code, modifier62)
        if key not in cache:
            cache[key] = audit(path, code, name, modifier62)
        return cache[key]

    return cached


def pathology_categories(value: Any) -> list[str]:
    """Sorted distinct categories of a pathology value (dicts or plain names)."""
    cats: list[str] = []
    for v in value or []:
        c = v.get("category") if isinstance(v, dict) else v
        if c not in cats:
            cats.append(c)
    return sorted(cats)


def check_notes_exist(gold: list[GoldNote], gold_path: Path, notes_dir: Path) -> None:
    """Every labelled note must exist before anything is audited."""
    if not notes_dir.is_dir():
        raise InputError(f"{notes_dir}: notes folder not found")
    for g in gold:
        if not (notes_dir / g.file).is_file():
            raise InputError(f"{gold_path}:{g.line}: note file '{g.file}' not found in {notes_dir}")


def evaluate(gold_path: Path, notes_dir: Path | None = None, audit: AuditFn | None = None) -> dict[str, Any]:
    """Audit every labelled note and compare with the gold labels.

    ``notes_dir`` defaults to ``default_notes_dir(gold_path)``; ``audit`` (for tests that
    cache results) takes (path, code, display name, modifier62) and returns the result dict.
    """
    gold_path = Path(gold_path)
    gold = load_gold(gold_path)
    notes_dir = Path(notes_dir) if notes_dir is not None else default_notes_dir(gold_path)
    check_notes_exist(gold, gold_path, notes_dir)
    _check_codes(gold, gold_path)
    audit = audit or audit_note
    confusion = {e: {g: {s: 0 for s in STATUSES} for g in STATUSES} for e in ELEMENTS}
    values = {k: [0, 0] for k in VALUE_KINDS}
    disagreements: list[Disagreement] = []
    for g in gold:
        res = audit(notes_dir / g.file, g.code, g.file, g.modifier62)
        first = len(disagreements)
        for e in ELEMENTS:
            gs, ps = g.elements[e]["status"], res["elements"][e]["status"]
            confusion[e][gs][ps] += 1
            if gs != ps:
                disagreements.append(_disagree(g, res, e, "status", gs, ps))
        for kind, gv, pv in _value_pairs(g, res):
            values[kind][1] += 1
            if gv == pv:
                values[kind][0] += 1
            else:
                disagreements.append(_disagree(g, res, VALUE_ELEMENT[kind],
                                               "segments" if kind == "segments" else "value", gv, pv))
        if len(disagreements) > first:
            _add_context(disagreements[first:], notes_dir / g.file)
    return _summary(gold_path, notes_dir, gold, confusion, values, disagreements)


def _check_codes(gold: list[GoldNote], gold_path: Path) -> None:
    from opnote_audit.audit import auditable_codes

    codes = auditable_codes()
    for g in gold:
        if g.code not in codes:
            raise InputError(f"{gold_path}:{g.line}: code {g.code} cannot be audited "
                             f"(choose one of {', '.join(codes)})")


def _value_pairs(g: GoldNote, res: dict) -> list[tuple[str, Any, Any]]:
    els = res["elements"]
    pairs = [("level", g.elements["level"].get("value") or [], els["level"]["value"] or [])]
    if g.segments is not None:
        pairs.append(("segments", g.segments, res.get("facts", {}).get("segments", 0)))
    pairs.append(("extent", g.elements["extent"].get("value"), els["extent"]["value"]))
    pairs.append(("pathology", pathology_categories(g.elements["pathology"].get("value")),
                  pathology_categories(els["pathology"]["value"])))
    return pairs


def _disagree(g: GoldNote, res: dict, element: str, fld: str, gold: Any, got: Any) -> Disagreement:
    el = res["elements"][element]
    return Disagreement(g.file, element, fld, gold, got, el.get("reason", ""), list(el["evidence"]))


def _add_context(found: list[Disagreement], path: Path) -> None:
    """Give each quoted match the surrounding text of its line (``context.before/after``)."""
    from opnote_audit.readers import read_note

    text = read_note(path).text
    for d in found:
        d.evidence = [_context(e, text) for e in d.evidence]


def _context(e: dict, text: str) -> dict:
    start, end = e.get("start"), e.get("end")
    if e.get("text") is None or not isinstance(start, int) or not isinstance(end, int) \
            or not 0 <= start <= end <= len(text):
        return e
    a = text.rfind("\n", 0, start) + 1
    b = text.find("\n", end)
    b = len(text) if b < 0 else b
    before = text[max(a, start - CONTEXT_CHARS):start]
    after = text[end:min(b, end + CONTEXT_CHARS)]
    return {**e, "context": {"before": " ".join(before.split()) + (" " if before[-1:].isspace() else ""),
                             "after": (" " if after[:1].isspace() else "") + " ".join(after.split())}}


def _ratio(num: int, den: int, empty: float = 1.0) -> float:
    return num / den if den else empty


def _element_scores(m: dict[str, dict[str, int]]) -> dict[str, Any]:
    n = sum(sum(r.values()) for r in m.values())
    ok = sum(m[s][s] for s in STATUSES)
    tp = m["documented"]["documented"]
    fp = sum(m[g]["documented"] for g in STATUSES if g != "documented")
    fn = sum(m["documented"][p] for p in STATUSES if p != "documented")
    prec, rec = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"notes": n, "correct": ok, "accuracy": _ratio(ok, n),
            "documented_tp": tp, "documented_fp": fp, "documented_fn": fn,
            "documented_precision": prec, "documented_recall": rec, "documented_f1": f1,
            "false_documented": fp, "confusion": m}


def _summary(gold_path: Path, notes_dir: Path, gold: list[GoldNote], confusion, values,
             disagreements: list[Disagreement]) -> dict[str, Any]:
    per_element = {e: _element_scores(confusion[e]) for e in ELEMENTS}
    total = sum(p["notes"] for p in per_element.values())
    correct = sum(p["correct"] for p in per_element.values())
    false_doc = [{"file": d.file, "element": d.element, "gold": d.gold}
                 for d in disagreements if d.field == "status" and d.got == "documented"]
    return {
        "gold": str(gold_path),
        "notes_dir": str(notes_dir),
        "notes": len(gold),
        "status_correct": correct,
        "status_total": total,
        "status_accuracy": _ratio(correct, total),
        "false_documented": len(false_doc),
        "false_documented_notes": false_doc,
        "elements": per_element,
        "values": {k: {"correct": c, "total": t, "accuracy": _ratio(c, t)} for k, (c, t) in values.items()},
        "disagreements": [asdict(d) for d in disagreements],
    }
