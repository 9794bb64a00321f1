"""The sentence splitter's abbreviation list lives in patterns/sections.yml."""
from __future__ import annotations

import pytest

from opnote_audit import patterns
from opnote_audit.errors import PatternError
from opnote_audit.sections import find_sentences


def _split(text: str) -> list[str]:
    return [text[a:b] for a, b in find_sentences(text, [])]


@pytest.fixture
def pack(tmp_path):
    def use(yaml_text: str):
        (tmp_path / "sections.yml").write_text(yaml_text)
        patterns.set_extra_dirs([tmp_path])
    yield use
    patterns.set_extra_dirs([])


def test_built_in_abbreviations_do_not_end_a_sentence():
    assert _split("Dr. Lane resected L3. Loss was approx. 20 cc. Of note, it stopped. Approx. 9 cc.") == [
        "Dr. Lane resected L3.", "Loss was approx. 20 cc. Of note, it stopped.", "Approx.", "9 cc."]


def test_a_word_not_in_the_list_ends_a_sentence():
    assert _split("Prof. Lane resected L3. The dura was seen.") == [
        "Prof.", "Lane resected L3.", "The dura was seen."]


def test_a_site_pack_adds_an_abbreviation_and_a_longer_one_is_reached(pack):
    pack("sentence_abbreviations: [Prof, approxim]\n")
    assert _split("Prof. Lane resected L3. Bleeding approxim. 2 cm away.") == [
        "Prof. Lane resected L3.", "Bleeding approxim. 2 cm away."]


def test_a_broken_abbreviation_list_is_a_pattern_error(pack):
    pack("sentence_abbreviations: [Prof, 3]\n")
    with pytest.raises(PatternError, match="sentence_abbreviations must be a list of non-empty strings"):
        find_sentences("Dr. Lane.", [])
