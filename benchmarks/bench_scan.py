"""Benchmark ``opnote-audit scan``: notes/s and peak memory by batch size and workers.

For each size N (default 100, 1,000, 10,000) the notes are generated once with
``make_notes.py`` (cached under --work), then ``opnote-audit scan DIR --format jsonl
--output /dev/null --quiet --workers W`` runs as a subprocess for each W. Reported:

- ``notes/s``: N / wall time of the whole command (start-up included), median of runs;
- ``CPU s``: user + system CPU seconds of the scan process and its workers (median),
  a figure that a busy machine disturbs less than the wall time;
- ``peak RSS``: the largest single process (``os.wait4`` rusage of the scan process,
  which includes its reaped pool workers), and the peak of the summed RSS of the
  process tree (psutil polling every 20 ms), both in MiB, the highest over the runs.

    python benchmarks/bench_scan.py [--sizes 100,1000] [--workers 1,2] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_notes import generate  # noqa: E402


def notes_dir(work: Path, n: int, seed: int) -> Path:
    folder = work / f"notes_{n}_seed{seed}"
    done = folder / ".complete"
    if not done.exists():
        if folder.exists():
            import shutil

            shutil.rmtree(folder)
        generate(folder, n, seed)
        done.write_text("ok\n")
    return folder


def run_once(folder: Path, workers: int) -> dict:
    """One scan as a subprocess: wall seconds, exit code, peak RSS (largest process, tree sum)."""
    import psutil

    cmd = [sys.executable, "-m", "opnote_audit", "scan", str(folder), "--format", "jsonl",
           "--output", os.devnull, "--quiet", "--workers", str(workers)]
    tree_peak = [0]
    stop = threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def poll() -> None:
        try:
            root = psutil.Process(proc.pid)
        except psutil.Error:
            return
        while not stop.is_set():
            total = 0
            try:
                procs = [root] + root.children(recursive=True)
            except psutil.Error:
                break
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            tree_peak[0] = max(tree_peak[0], total)
            stop.wait(0.02)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stop.set()
    poller.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise SystemExit(f"scan failed with exit {proc.returncode}: {stderr.strip()[:300]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "max_rss_mib": usage.ru_maxrss / 1024, "tree_rss_mib": tree_peak[0] / 2**20}


def bench(sizes: list[int], workers: list[int], runs: int | None, work: Path, seed: int) -> list[dict]:
    rows = []
    for n in sizes:
        folder = notes_dir(work, n, seed)
        repeat = runs if runs is not None else (3 if n <= 1000 else 1)
        for w in workers:
            samples = [run_once(folder, w) for _ in range(repeat)]
            wall = statistics.median(s["wall"] for s in samples)
            rows.append({
                "notes": n, "workers": w, "runs": repeat,
                "seconds": round(wall, 2),
                "notes_per_s": round(n / wall, 1),
                "cpu_seconds": round(statistics.median(s["cpu"] for s in samples), 2),
                "peak_rss_mib": round(max(s["max_rss_mib"] for s in samples), 1),
                "peak_tree_rss_mib": round(max(s["tree_rss_mib"] for s in samples), 1),
            })
            print(_line(rows[-1]), file=sys.stderr, flush=True)
    return rows


def _line(row: dict) -> str:
    return (f"{row['notes']:>7,} {row['workers']:>7} {row['runs']:>4} {row['seconds']:>9.2f} "
            f"{row['notes_per_s']:>9.1f} {row['cpu_seconds']:>8.1f} {row['peak_rss_mib']:>11.1f} {row['peak_tree_rss_mib']:>13.1f}")


HEADER = f"{'notes':>7} {'workers':>7} {'runs':>4} {'seconds':>9} {'notes/s':>9} {'CPU s':>8} {'peak RSS MiB':>11} {'tree RSS MiB':>13}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="comma-separated batch sizes")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--runs", type=int, default=None, help="runs per case (default 3, 1 above 1,000 notes)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/opnote-bench"), help="where generated notes are cached")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    workers = [int(w) for w in args.workers.split(",") if w]
    print(HEADER, file=sys.stderr, flush=True)
    rows = bench(sizes, workers, args.runs, args.work, args.seed)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(HEADER)
        for row in rows:
            print(_line(row))
        for n in sizes:
            by_w = {r["workers"]: r for r in rows if r["notes"] == n}
            if 1 in by_w and 2 in by_w:
                print(f"{n:,} notes: 2 workers are {by_w[2]['notes_per_s'] / by_w[1]['notes_per_s']:.2f}x as fast as 1")


if __name__ == "__main__":
    main()
