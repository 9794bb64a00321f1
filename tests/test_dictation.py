"""Voice-recognition output with the punctuation commands typed out ("comma", "period").

patterns/dictation.yml: the commands are read as punctuation only in a note that is plainly of
that kind, padded to the same length so offsets, line numbers and evidence stay exact.
"""

from __future__ import annotations

import pytest

from opnote_audit import patterns
from opnote_audit.audit import audit_text
from opnote_audit.document import prepare, spoken_punctuation
from opnote_audit.errors import PatternError

VOICE = (
    "surgeons colon Dr. Ana Ruiz and Dr. Ben Holt comma co surgeons\n"
    "assistant colon none\n"
    "preoperative diagnosis colon metastatic colon cancer of the L3 vertebral body comma with cord "
    "compression period\n"
    "procedure colon right lateral extracavitary corpectomy of L3 comma complete period new paragraph\n"
    "description colon the L3 body was removed completely period the thecal sac was decompressed period\n"
    "Dr. Ruiz performed the exposure and the closure period Dr. Holt performed the corpectomy and the "
    "decompression period\n"
)


@pytest.fixture(autouse=True)
def _builtin_patterns_after():
    yield
    if patterns.extra_dirs():
        patterns.set_extra_dirs([])


def test_commands_become_punctuation_of_the_same_length():
    out = spoken_punctuation(VOICE)
    assert len(out) == len(VOICE)
    assert out.splitlines()[:2] == ["Surgeons:      Dr. Ana Ruiz and Dr. Ben Holt,      co surgeons",
                                    "Assistant:      none"]
    # "colon cancer" is the organ, not a command; a sentence after a full stop gets its capital
    assert "metastatic colon cancer of the L3 vertebral body,      with cord compression." in out
    assert "complete.                    " in out  # "period new paragraph"
    assert ".       The thecal sac was decompressed." in out


def test_an_ordinary_note_is_left_alone():
    text = ("PREOPERATIVE DIAGNOSIS: Metastatic colon cancer to L2, period of observation failed.\n"
            "Plan: standard postoperative period, then a colon resection period review.\n")
    assert spoken_punctuation(text) == text


def test_the_audit_of_a_voice_note_reads_headers_and_co_surgeons():
    result = audit_text(VOICE)
    statuses = {k: v.status for k, v in result.elements.items()}
    assert statuses == {"approach": "documented", "level": "documented", "pathology": "documented",
                        "extent": "documented", "neural_elements": "documented", "co_surgeon": "documented"}
    co = result.elements["co_surgeon"]
    assert co.value == ["Dr. Ana Ruiz", "Dr. Ben Holt"]
    # evidence quotes the note as written, at its own line
    assert [(e.line, e.text) for e in co.evidence[:2]] == [(1, "Dr. Ana Ruiz"), (1, "Dr. Ben Holt")]
    prep = prepare(VOICE)
    assert prep.original == VOICE


def test_read_literally_the_same_note_names_no_co_surgeon(monkeypatch):
    # what the reading fixes: without it "surgeons colon ..." is no header and the "none" of
    # "assistant colon none", joined to that line, negates "co surgeons"
    import opnote_audit.document as document

    monkeypatch.setattr(document, "spoken_punctuation", lambda text: text)
    assert audit_text(VOICE).elements["co_surgeon"].status != "documented"


@pytest.mark.parametrize("yaml, message", [
    ("spoken_punctuation:\n  detect: {comma: 2}\n  commands: {'...': [ok]}\n  sentence_end: ['.']\n",
     "commands: '...' is longer than its words"),
    ("spoken_punctuation:\n  detect: {comma: 0}\n  commands: {',': [comma]}\n  sentence_end: ['.']\n",
     "detect: 'comma' needs a positive count"),
    ("spoken_punctuation:\n  detect: {comma: 2}\n  commands: {',': comma}\n  sentence_end: ['.']\n",
     "commands: ',' must list spoken words"),
])
def test_a_broken_dictation_file_is_a_pattern_error(tmp_path, yaml, message):
    (tmp_path / "dictation.yml").write_text(yaml, encoding="utf-8")
    patterns.set_extra_dirs([tmp_path])
    with pytest.raises(PatternError) as info:
        spoken_punctuation(VOICE)
    assert message in str(info.value)
