"""Accuracy against gold labels: per-element confusion, documented P/R/F1, value accuracy.

Gold is JSONL, one object per note: ``file`` (relative to the notes folder), ``code``,
``elements`` (each with ``status`` and ``value`` as in the JSON contract; pathology values as
a list of categories) and ``segments``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opnote_audit.errors import InputError
from opnote_audit.models import ELEMENTS, STATUSES


@dataclass
class GoldNote:
    file: str
    code: str
    elements: dict[str, dict[str, Any]]
    segments: int | None
    line: int


@dataclass
class Disagreement:
    file: str
    element: str
    field: str
    gold: Any
    got: Any
    evidence: list[dict] = field(default_factory=list)


def load_gold(path: Path) -> list[GoldNote]:
    if not path.is_file():
        raise InputError(f"{path}: gold file not found")
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read gold file ({type(exc).__name__})") from None
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{i}: invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise InputError(f"{path}:{i}: each line must be a JSON object")
        for key in ("file", "elements"):
            if key not in obj:
                raise InputError(f"{path}:{i}: missing key '{key}'")
        els = obj["elements"]
        if not isinstance(els, dict):
            raise InputError(f"{path}:{i}: 'elements' must be an object")
        for name in ELEMENTS:
            if name not in els or not isinstance(els[name], dict) or "status" not in els[name]:
                raise InputError(f"{path}:{i}: missing element '{name}' or its 'status'")
            if els[name]["status"] not in STATUSES:
                raise InputError(f"{path}:{i}: element '{name}' has unknown status '{els[name]['status']}'")
        unknown = set(els) - set(ELEMENTS)
        if unknown:
            raise InputError(f"{path}:{i}: unknown element(s) {', '.join(sorted(unknown))}")
        out.append(GoldNote(str(obj["file"]), str(obj.get("code", "63102")), els, obj.get("segments"), i))
    return out


def _pathology_categories(value: Any) -> list[str]:
    cats = []
    for v in value or []:
        c = v.get("category") if isinstance(v, dict) else v
        if c not in cats:
            cats.append(c)
    return sorted(cats)


def evaluate(gold_path: Path, notes_dir: Path) -> dict[str, Any]:
    from opnote_audit.audit import audit_file

    gold = load_gold(gold_path)
    confusion = {e: {g: {s: 0 for s in STATUSES} for g in STATUSES} for e in ELEMENTS}
    disagreements: list[Disagreement] = []
    values = {"level": [0, 0], "segments": [0, 0], "extent": [0, 0], "pathology": [0, 0]}
    for g in gold:
        path = notes_dir / g.file
        if not path.is_file():
            raise InputError(f"{gold_path}:{g.line}: note file '{g.file}' not found in {notes_dir}")
        res = audit_file(path, code=g.code, display_name=g.file).to_dict()
        for e in ELEMENTS:
            gs, ps = g.elements[e]["status"], res["elements"][e]["status"]
            confusion[e][gs][ps] += 1
            if gs != ps:
                disagreements.append(Disagreement(g.file, e, "status", gs, ps, res["elements"][e]["evidence"]))
        gl, pl = g.elements["level"].get("value") or [], res["elements"]["level"]["value"] or []
        _value(values, disagreements, g, "level", gl, pl, res)
        if g.segments is not None:
            _value(values, disagreements, g, "segments", g.segments, res["facts"]["segments"], res)
        _value(values, disagreements, g, "extent", g.elements["extent"].get("value"), res["elements"]["extent"]["value"], res)
        _value(values, disagreements, g, "pathology", _pathology_categories(g.elements["pathology"].get("value")),
               _pathology_categories(res["elements"]["pathology"]["value"]), res)
    per_element = {}
    total = correct = 0
    false_documented = 0
    for e in ELEMENTS:
        m = confusion[e]
        n = sum(sum(r.values()) for r in m.values())
        ok = sum(m[s][s] for s in STATUSES)
        tp = m["documented"]["documented"]
        fp = sum(m[g]["documented"] for g in STATUSES if g != "documented")
        fn = sum(m["documented"][p] for p in STATUSES if p != "documented")
        prec = tp / (tp + fp) if tp + fp else 1.0
        rec = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_element[e] = {"notes": n, "accuracy": ok / n if n else 1.0, "documented_precision": prec,
                          "documented_recall": rec, "documented_f1": f1, "false_documented": fp,
                          "confusion": m}
        total += n
        correct += ok
        false_documented += fp
    return {
        "gold": str(gold_path),
        "notes": len(gold),
        "status_accuracy": correct / total if total else 1.0,
        "false_documented": false_documented,
        "elements": per_element,
        "values": {k: {"correct": c, "total": t, "accuracy": c / t if t else 1.0} for k, (c, t) in values.items()},
        "disagreements": [d.__dict__ for d in disagreements],
    }


def _value(values, disagreements, g: GoldNote, name: str, gold: Any, got: Any, res: dict) -> None:
    values[name][1] += 1
    if gold == got:
        values[name][0] += 1
    else:
        element = {"segments": "level"}.get(name, name)
        disagreements.append(Disagreement(g.file, element, f"{name} value", gold, got,
                                          res["elements"][element]["evidence"]))
