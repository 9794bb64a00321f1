"""Performance figures for issue 8: start-up, one-note latency, throughput against the spaCy floor.

Every figure is the median of ``--runs`` runs (default 5); comparisons are measured side by
side in the same run. Peak memory of ``scan`` over 100 and 10,000 notes is measured by
``benchmarks/bench_scan.py``.

    python benchmarks/perf.py [--runs 5] [--n 2000] [--json] [--skip-throughput]

1. start-up: ``opnote-audit --help``, ``--version`` and ``rules`` (they must not import spaCy)
2. latency: ``opnote-audit check`` on one sample note against
   ``python -c "import spacy; spacy.blank('en')"`` (target: at most 1.25x)
3. throughput: the whole audit (one worker) of N generated notes of about 250 and about
   1,000 words against tokenizing the same texts with ``spacy.blank("en")`` and running one
   PhraseMatcher over them, the floor any spaCy design pays (target: at most 1.5x); the
   same for the real MTSamples notes in ``../shared/corpus`` when that folder exists.
   The first of the runs is also reported on its own: it starts with spaCy's tokenizer
   caches empty for these texts, the later ones find them warm.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
sys.path.insert(0, str(REPO / "benchmarks"))
SAMPLE = REPO / "sample_notes" / "01_exemplary_63102.txt"
CLI = [sys.executable, "-m", "opnote_audit"]


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t


def median_of(runs: int, fn) -> float:
    return statistics.median(fn() for _ in range(runs))


def startup(runs: int) -> dict:
    spacy_cmd = [sys.executable, "-c", "import spacy; spacy.blank('en')"]
    out = {}
    for name, cmd in [
        ("--help", CLI + ["--help"]),
        ("--version", CLI + ["--version"]),
        ("rules", CLI + ["rules"]),
        ("check one note", CLI + ["check", str(SAMPLE)]),
        ("python -c 'import spacy; spacy.blank(\"en\")'", spacy_cmd),
    ]:
        out[name] = median_of(runs, lambda c=cmd: timed(c))
    out["check / spacy.blank ratio"] = out["check one note"] / out["python -c 'import spacy; spacy.blank(\"en\")'"]
    return out


def _notes(n: int) -> tuple[list[str], list[str]]:
    """N generated notes of about 250 words and N of about 1,000 words."""
    from make_notes import generate

    short, long_ = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for path in generate(Path(tmp), 3 * n, seed=11):
            text = path.read_text(encoding="utf-8")
            (short if len(text.split()) < 600 else long_).append(text)
            if len(short) >= n and len(long_) >= n:
                break
    return short[:n], long_[:n]


def throughput(runs: int, n: int) -> dict:
    import spacy
    from spacy.matcher import PhraseMatcher

    from opnote_audit.audit import audit_text

    floor_nlp = spacy.blank("en")
    matcher = PhraseMatcher(floor_nlp.vocab, attr="LOWER")
    matcher.add("term", [floor_nlp.make_doc("lateral extracavitary")])
    short, long_ = _notes(n)
    sets = [("~250 words", short), ("~1,000 words", long_)]
    real = sorted(CORPUS.rglob("*.txt")) if CORPUS.is_dir() else []
    if real:
        sets.append(("real MTSamples notes", [p.read_text(encoding="utf-8", errors="replace") for p in real]))
    audit_text(short[0])  # build the pipeline once, as a process does
    out = {}
    for label, texts in sets:
        words = sum(len(t.split()) for t in texts)

        def audit_all():
            t = time.perf_counter()
            for text in texts:
                audit_text(text)
            return time.perf_counter() - t

        def floor_all():
            t = time.perf_counter()
            for text in texts:
                matcher(floor_nlp(text))
            return time.perf_counter() - t

        audit_s, floor_s = [], []
        for _ in range(runs):  # side by side in the same run
            floor_s.append(floor_all())
            audit_s.append(audit_all())
        a, f = statistics.median(audit_s), statistics.median(floor_s)
        out[label] = {"notes": len(texts), "audit_s": a, "floor_s": f, "ratio": a / f,
                      "first_run_ratio": audit_s[0] / floor_s[0],
                      "notes_per_s": len(texts) / a, "words_per_s": words / a,
                      "floor_notes_per_s": len(texts) / f}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--n", type=int, default=2000, help="notes per size (default 2000)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    result = {"startup_s": startup(args.runs)}
    if not args.skip_throughput:
        result["throughput"] = throughput(args.runs, args.n)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"start-up (median of {args.runs}):")
    for k, v in result["startup_s"].items():
        print(f"  {k:48} {v:7.3f}{'' if 'ratio' in k else ' s'}")
    for label, r in result.get("throughput", {}).items():
        print(f"throughput {label}: {r['notes']} notes, audit {r['audit_s']:.2f} s "
              f"({r['notes_per_s']:.0f} notes/s, {r['words_per_s']:.0f} words/s), "
              f"floor {r['floor_s']:.2f} s ({r['floor_notes_per_s']:.0f} notes/s), ratio {r['ratio']:.2f} "
              f"(first run {r['first_run_ratio']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
