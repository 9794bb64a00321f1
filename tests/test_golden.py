"""Each sample note's exact JSON output, its JSON Schema validity, and one text report."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from golden_util import GOLDEN, SAMPLES, TEXT_SAMPLE, json_output, text_output

SAMPLE_PATHS = sorted(SAMPLES.glob("*.txt"))


def _schema():
    return json.loads(resources.files("opnote_audit").joinpath("schema/audit-result.schema.json").read_text())


def test_there_are_at_least_ten_samples():
    assert len(SAMPLE_PATHS) >= 10


@pytest.mark.parametrize("path", SAMPLE_PATHS, ids=lambda p: p.name)
def test_json_matches_golden(path):
    expected = (GOLDEN / f"{path.stem}.json").read_text(encoding="utf-8")
    assert json_output(path) == expected


@pytest.mark.parametrize("path", SAMPLE_PATHS, ids=lambda p: p.name)
def test_json_validates_against_schema(path):
    jsonschema.validate(json.loads(json_output(path)), _schema())


@pytest.mark.parametrize("path", SAMPLE_PATHS, ids=lambda p: p.name)
def test_evidence_quotes_the_note_at_its_offsets(path):
    text = path.read_text(encoding="utf-8")
    data = json.loads(json_output(path))
    spans = [e for el in data["elements"].values() for e in el["evidence"]]
    spans += [e for f in data["findings"] for e in f["evidence"]]
    assert spans
    for ev in spans:
        assert text[ev["start"]:ev["end"]] == ev["text"]
        assert text.count("\n", 0, ev["start"]) + 1 == ev["line"]


def test_text_report_matches_golden():
    expected = (GOLDEN / f"{TEXT_SAMPLE.rsplit('.', 1)[0]}.txt").read_text(encoding="utf-8")
    assert text_output(SAMPLES / TEXT_SAMPLE) == expected


def test_text_report_fits_80_columns_without_colour():
    out = text_output(SAMPLES / TEXT_SAMPLE)
    assert "\x1b[" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
