"""CI floor on the NegEx test set (development part, reports 1-80): the context engine's
negation must not regress below the level it reached (issue 10)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "negex_eval.py"


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("negex_eval", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("negex_eval", module)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


negex_eval = _load_benchmark()

pytestmark = pytest.mark.skipif(
    not negex_eval.DEFAULT_PATH.is_file(),
    reason=f"NegEx dev file not found at {negex_eval.DEFAULT_PATH} (outside the repo, not shipped)",
)


@pytest.fixture(scope="module")
def result() -> dict:
    return negex_eval.evaluate(negex_eval.DEFAULT_PATH)


def test_every_row_but_the_truncated_ones_is_scored(result: dict) -> None:
    assert result["rows"] == 1588
    assert result["not_located"] == 6


def test_accuracy_floor(result: dict) -> None:
    # reached 99.75% (published: NegEx 97.2, negspacy 97.4, medspaCy 97.0)
    assert result["accuracy"] >= 0.995


def test_negated_f1_floor(result: dict) -> None:
    # reached 99.38% (published: NegEx 93.1, negspacy 93.9, medspaCy 93.0)
    assert result["f1"] >= 0.99
    assert result["precision"] >= 0.985
    assert result["recall"] >= 0.985


def test_confusion_adds_up(result: dict) -> None:
    c = result["confusion"]
    assert c["tp"] + c["fn"] == 319 + 2
    assert c["tp"] + c["fp"] + c["fn"] + c["tn"] == result["rows"]


def test_speed_floor(result: dict) -> None:
    assert result["sentences_per_second"] >= 2000


def test_errors_are_grouped_by_trigger(result: dict) -> None:
    total = sum(len(v) for v in result["errors"].values())
    assert total == result["confusion"]["fp"] + result["confusion"]["fn"]


def test_locate_prefers_the_upper_case_occurrence() -> None:
    sentence = "No fever today; FEVER   yesterday."
    assert negex_eval.locate("fever", sentence) == (16, 21)
    assert negex_eval.locate("fever yesterday", sentence) == (16, 33)
    assert negex_eval.locate("cough", sentence) is None


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    import json
    assert negex_eval.main(["--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["rows"] == 1588
    assert figures["accuracy"] >= 0.995


def test_cli_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert negex_eval.main([str(tmp_path / "absent.tsv")]) == 2
    assert "file not found" in capsys.readouterr().err
