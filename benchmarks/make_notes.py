"""Generate N realistic operative notes for benchmarks by varying ``sample_notes/``.

Each note starts from one sample note and is varied deterministically from the seed:
lumbar levels shifted, the approach swapped (sometimes), the pathology swapped,
sections reordered, lines re-wrapped at another width, and the note trimmed to about
250 words or padded to about 1,000 words with generic sentences written for this
generator (a fixed word bank, so the vocabulary stays bounded). The same seed and N
give byte-identical files.

    python benchmarks/make_notes.py OUT_DIR -n 1000 [--seed 7] [--per-folder 500]

Notes are written as ``OUT_DIR/batch_000/note_00000.txt``, ``per_folder`` a folder.
"""

from __future__ import annotations

import argparse
import random
import re
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_notes"

APPROACHES = (
    "lateral extracavitary", "lateral extracavitary", "lateral extracavitary",
    "posterolateral", "retroperitoneal", "transpedicular",
)
PATHOLOGIES = (
    "metastatic renal cell carcinoma", "metastatic breast carcinoma", "multiple myeloma",
    "chordoma", "giant cell tumor", "pathologic fracture", "burst fracture",
    "vertebral osteomyelitis", "plasmacytoma", "metastatic prostate carcinoma",
)
FILLER = (
    "Neuromonitoring signals remained at baseline during the exposure and the resection.",
    "Hemostasis was obtained with bipolar cautery, thrombin-soaked gelatin foam and gentle pressure.",
    "The wound was irrigated with warm saline before each stage of the reconstruction.",
    "Sponge, needle and instrument counts were reported correct at the end of the case.",
    "The patient tolerated the procedure and was taken to recovery in stable condition.",
    "Postoperative imaging will confirm the position of the implants before mobilization.",
    "Antibiotic prophylaxis was redosed after four hours of operative time.",
    "The arterial line and two large-bore intravenous lines were placed after induction.",
    "Pressure points were checked and padded again after final positioning.",
    "Fluoroscopy confirmed the planned trajectory before each step of the exposure.",
    "Blood loss was replaced with cell saver return and crystalloid as needed.",
    "The drain was secured to the skin and connected to bulb suction.",
    "The fascia was closed with interrupted braided suture and the skin with staples.",
    "A sterile dressing was applied and the patient was turned supine on the stretcher.",
    "Motor function was checked in the recovery area and was unchanged from before surgery.",
    "The family was updated in the waiting area after the procedure.",
)
PLAN = "PLAN: Admit to the spine unit. Early mobilization with a brace. Follow up in clinic in two weeks."
WIDTHS = (None, None, 60, 72, 80, 100)
TARGETS = (250, 1000)

_LUMBAR = re.compile(r"\bL([1-5])\b")
_WORDS = re.compile(r"\S+")


def load_samples() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt"))]


def vary(base: str, rng: random.Random) -> str:
    """One generated note from ``base``."""
    text = _shift_levels(base, rng.choice((-1, 0, 0, 1, 2)))
    text = _swap_approach(text, rng)
    text = _swap_pathology(text, rng)
    paragraphs = _paragraphs(text)
    paragraphs = _reorder(paragraphs, rng)
    paragraphs = _fit(paragraphs, rng.choice(TARGETS), rng)
    width = rng.choice(WIDTHS)
    return "\n\n".join(_wrap(p, width) for p in paragraphs) + "\n"


def _shift_levels(text: str, shift: int) -> str:
    if not shift:
        return text

    def repl(m: re.Match[str]) -> str:
        n = int(m.group(1)) + shift
        return f"L{n}" if 1 <= n <= 5 else m.group(0)

    return _LUMBAR.sub(repl, text)


def _swap_approach(text: str, rng: random.Random) -> str:
    new = rng.choice(APPROACHES)
    if new == "lateral extracavitary":
        return text
    return re.sub(r"(?i)lateral extracavitary", new, text)


def _swap_pathology(text: str, rng: random.Random) -> str:
    present = [p for p in PATHOLOGIES if p in text.lower()]
    if not present:
        return text
    old, new = rng.choice(present), rng.choice(PATHOLOGIES)
    return re.sub(re.escape(old), new, text, flags=re.IGNORECASE)


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks, each unwrapped to one line per original line."""
    return [block.strip("\n") for block in re.split(r"\n\s*\n", text) if block.strip()]


def _reorder(paragraphs: list[str], rng: random.Random) -> list[str]:
    """Swap two blocks of the header part (diagnoses, staff, indications) now and then."""
    if len(paragraphs) > 4 and rng.random() < 0.5:
        i = rng.randrange(1, min(len(paragraphs) - 1, 5))
        paragraphs = paragraphs[:]
        paragraphs[i], paragraphs[i - 1] = paragraphs[i - 1], paragraphs[i]
    return paragraphs


def _words(paragraphs: list[str]) -> int:
    return sum(len(_WORDS.findall(p)) for p in paragraphs)


def _fit(paragraphs: list[str], target: int, rng: random.Random) -> list[str]:
    """Trim long blocks from the end, or pad with filler, to about ``target`` words."""
    out = paragraphs[:]
    while _words(out) > target * 1.15 and len(out) > 1:
        longest = max(range(1, len(out)), key=lambda i: len(out[i]))
        sentences = re.split(r"(?<=\.)\s+", out[longest])
        if len(sentences) > 2:
            out[longest] = " ".join(sentences[: max(2, len(sentences) * 2 // 3)])
        elif len(out) > 2:
            del out[longest]
        else:
            break
    while _words(out) < target * 0.9:
        out.append(" ".join(rng.sample(FILLER, 4)))
    out.append(PLAN)
    return out


def _wrap(paragraph: str, width: int | None) -> str:
    if width is None:
        return paragraph
    lines = paragraph.split("\n")
    if any(("[" in line and "]" in line) or line.startswith("=") for line in lines):
        return paragraph  # keep template boxes as they are
    return "\n".join(textwrap.fill(line, width) if len(line) > width else line for line in lines)


def generate(out: Path, n: int, seed: int = 7, per_folder: int = 500) -> list[Path]:
    """Write ``n`` notes under ``out``; return their paths in order."""
    samples = load_samples()
    paths = []
    for i in range(n):
        rng = random.Random(f"{seed}:{i}")
        text = vary(samples[rng.randrange(len(samples))], rng)
        path = out / f"batch_{i // per_folder:03d}" / f"note_{i:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("-n", type=int, default=100, help="number of notes (default 100)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-folder", type=int, default=500)
    args = parser.parse_args()
    paths = generate(args.out, args.n, args.seed, args.per_folder)
    print(f"wrote {len(paths)} notes under {args.out}")


if __name__ == "__main__":
    main()
