"""Golden outputs: the exact JSON (and one text report) the tool gives for each sample note.

Regenerate after an intended behaviour change with ``python tests/golden_util.py`` and review
the diff like code: every changed line is a changed answer to a coder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_notes"
GOLDEN = Path(__file__).resolve().parent / "golden"
TEXT_SAMPLE = "06_cosurgeons_no_portions.txt"


def sample_code(name: str) -> str:
    """Samples are audited as their labels say (labels.jsonl); default 63102."""
    for line in (SAMPLES / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            if obj["file"] == name:
                return obj.get("code", "63102")
    return "63102"


def json_output(path: Path) -> str:
    from opnote_audit.audit import audit_file
    from opnote_audit.report import RenderOptions, render

    result = audit_file(path, code=sample_code(path.name), display_name=f"sample_notes/{path.name}")
    return render(result, "json", RenderOptions())


def text_output(path: Path) -> str:
    from opnote_audit.audit import audit_file
    from opnote_audit.report import RenderOptions, render

    result = audit_file(path, code=sample_code(path.name), display_name=f"sample_notes/{path.name}")
    return render(result, "text", RenderOptions(color=False, width=80))


def main() -> int:
    GOLDEN.mkdir(exist_ok=True)
    for path in sorted(SAMPLES.glob("*.txt")):
        (GOLDEN / f"{path.stem}.json").write_text(json_output(path), encoding="utf-8")
    (GOLDEN / f"{Path(TEXT_SAMPLE).stem}.txt").write_text(text_output(SAMPLES / TEXT_SAMPLE), encoding="utf-8")
    print(f"wrote golden outputs to {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
