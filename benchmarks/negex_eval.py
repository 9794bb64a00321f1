"""Score the context engine on the NegEx test set (development part).

Reads the tab-separated file (Report No., Concept, Sentence, Negation), locates each concept
in its sentence (the occurrence written in UPPER CASE first; whitespace inside the concept
matches any run of whitespace), runs :func:`opnote_audit.context.assertions` on it and
compares: the label ``negated`` means Negated, every other outcome means Affirmed.

Usage (from the repo root)::

    python benchmarks/negex_eval.py [PATH] [--json] [--errors N]

Prints accuracy, precision/recall/F1 of Negated, the confusion table, sentences per second
and the misclassified rows grouped by the trigger involved.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from opnote_audit.context import assertions, get_engine, split_sentences

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PATH = (REPO / ".." / "shared" / "negex" / "negex-dev.tsv").resolve()
NEGATED, AFFIRMED = "Negated", "Affirmed"


@dataclass
class Row:
    """One located benchmark row."""

    report: str
    concept: str
    sentence: str
    gold: str
    span: tuple[int, int]


def locate(concept: str, sentence: str) -> tuple[int, int] | None:
    """Offsets of the concept in the sentence, preferring an occurrence in UPPER CASE."""
    words = concept.split()
    if not words:
        return None
    rx = re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)", re.IGNORECASE)
    found = list(rx.finditer(sentence))
    if not found:
        found = list(re.finditer(r"\s+".join(re.escape(w) for w in words), sentence, re.IGNORECASE))
    if not found:
        return None
    for m in found:
        text = m.group()
        if any(c.isalpha() for c in text) and text == text.upper():
            return m.span()
    return found[0].span()


def read_rows(path: Path) -> tuple[list[Row], int]:
    """The located rows and the number of rows that could not be located."""
    rows: list[Row] = []
    missing = 0
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        next(reader, None)
        for rec in reader:
            if len(rec) < 4:
                continue
            report, concept, sentence, gold = rec[0], rec[1], rec[2], rec[3].strip()
            span = locate(concept, sentence)
            if span is None:
                missing += 1
                continue
            rows.append(Row(report, concept.strip(), sentence, gold, span))
    return rows, missing


def _trigger_key(row: Row, predicted: str) -> str:
    """The negation trigger involved in an error, for grouping."""
    engine = get_engine()
    for s0, s1 in split_sentences(row.sentence):
        if s0 <= row.span[0] < s1:
            span = (row.span[0] - s0, min(row.span[1], s1) - s0)
            found = [(m, ok) for m, ok in engine.explain(row.sentence[s0:s1], span)
                     if "negated" in m.rule.categories]
            sent = row.sentence[s0:s1]
            if predicted == NEGATED:
                hits = [m for m, ok in found if ok]
            else:
                hits = [m for m, _ in found]
            if hits:
                return " + ".join(sorted({" ".join(sent[m.start:m.end].lower().split()) for m in hits}))
    return "(no negation trigger)"


def evaluate(path: Path = DEFAULT_PATH) -> dict:
    """Run the benchmark; returns the figures and the misclassified rows."""
    rows, missing = read_rows(path)
    get_engine()  # load outside the timing
    t0 = time.perf_counter()
    predicted = [NEGATED if "negated" in assertions(r.sentence, [r.span])[0] else AFFIRMED for r in rows]
    elapsed = time.perf_counter() - t0
    tp = sum(1 for r, p in zip(rows, predicted) if r.gold == NEGATED and p == NEGATED)
    fp = sum(1 for r, p in zip(rows, predicted) if r.gold != NEGATED and p == NEGATED)
    fn = sum(1 for r, p in zip(rows, predicted) if r.gold == NEGATED and p != NEGATED)
    tn = len(rows) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    errors: dict[str, list[dict]] = defaultdict(list)
    for r, p in zip(rows, predicted):
        if p != r.gold:
            errors[_trigger_key(r, p)].append({
                "report": r.report, "concept": r.concept, "gold": r.gold, "predicted": p,
                "sentence": " ".join(r.sentence.split()),
            })
    return {
        "rows": len(rows), "not_located": missing,
        "accuracy": (tp + tn) / len(rows) if rows else 0.0,
        "precision": precision, "recall": recall, "f1": f1,
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "sentences_per_second": len(rows) / elapsed if elapsed else float("inf"),
        "errors": dict(sorted(errors.items(), key=lambda kv: (-len(kv[1]), kv[0]))),
    }


def _print_report(res: dict, max_errors: int) -> None:
    c = res["confusion"]
    print(f"rows scored: {res['rows']}  (not located, left out: {res['not_located']})")
    print(f"accuracy: {res['accuracy']:.2%}")
    print(f"Negated  precision {res['precision']:.2%}  recall {res['recall']:.2%}  F1 {res['f1']:.2%}")
    print("confusion (gold rows x predicted columns):")
    print(f"  {'':10}{'Negated':>10}{'Affirmed':>10}")
    print(f"  {'Negated':10}{c['tp']:>10}{c['fn']:>10}")
    print(f"  {'Affirmed':10}{c['fp']:>10}{c['tn']:>10}")
    print(f"speed: {res['sentences_per_second']:,.0f} sentences/s")
    shown = 0
    for key, errs in res["errors"].items():
        print(f"\n[{key}] {len(errs)} error(s)")
        for e in errs:
            if shown >= max_errors:
                break
            shown += 1
            print(f"  #{e['report']} gold={e['gold']} pred={e['predicted']} concept={e['concept']!r}")
            print(f"     {e['sentence'][:300]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH, help="the NegEx TSV file")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--errors", type=int, default=200, help="print at most N misclassified rows")
    args = ap.parse_args(argv)
    if not args.path.is_file():
        print(f"error: {args.path}: file not found", file=sys.stderr)
        return 2
    res = evaluate(args.path)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        _print_report(res, args.errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
