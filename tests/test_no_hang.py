"""No input makes the audit hang: regexes and the tokenizer stay linear on degenerate text.

Each case found a real super-linear path: a title underlined with dashes (a header regex
whose words and separators could both take "-", minutes on a 3 KB template), a line of
"/"-separated picklist options (a line filter re-searched per option), a long run with no
white space (spaCy splits affixes one at a time, each a search over the rest of the chunk),
a rule of dashes (the copied-text marker tried at every dash), and tens of thousands of header
lines (every header found so far sorted again for each candidate). The bound is generous: a
linear audit of these notes takes ~0.01-0.7 s; the bugs took seconds to hours.
"""

from __future__ import annotations

import signal

import pytest

from opnote_audit.audit import audit_text

LIMIT_S = 5


class Hang(Exception):
    pass


def audit_within_limit(text: str):
    def stop(signum, frame):
        raise Hang(f"the audit took more than {LIMIT_S} s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(LIMIT_S)
    try:
        return audit_text(text)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


UNITS = ["-", "A-", "=;", "/ ", "/decompress", ".../ ", ",{", "_", "*", "[ ] ", "L2-", "T12-L1, ", "(", "'",
         "Procedure:\n", "1.\n", "a\n", "no ", "period comma ", "{a}", "| ", "A: "]


@pytest.mark.parametrize("unit", UNITS)
def test_a_degenerate_note_is_audited_in_linear_time(unit):
    audit_within_limit(unit * (20_000 // len(unit)))


def test_a_note_of_forty_thousand_header_lines():
    # finding sections sorted every header found so far for each new candidate (30 s here)
    text = "\n".join(["PLAN:", "Xy zz:", "INDICATIONS:", "The patient was taken to the operating room."] * 10000)
    audit_within_limit(text)


def test_a_template_title_underlined_with_dashes():
    text = ("SUMMIT HEALTH SYSTEM - EPIC OPERATIVE NOTE TEMPLATE: SPINE CORPECTOMY\n" + "-" * 68 + "\n"
            "Procedure: Left lateral extracavitary corpectomy of L2, complete.\n")
    result = audit_within_limit(text)
    assert result.elements["approach"].status == "documented"
    assert result.elements["level"].value == ["L2"]


def test_a_picklist_line_with_many_options():
    # 3,000 unselected options are blanked (no "transthoracic" conflict), in linear time
    text = ("Approach: " + " / ".join(["Transthoracic"] * 3000) + " / Lateral extracavitary (selected)\n"
            "PROCEDURE: Left lateral extracavitary corpectomy of L2, complete.\n")
    assert audit_within_limit(text).elements["approach"].status == "documented"


def test_terms_around_a_long_run_without_spaces_keep_their_offsets():
    blob = "QUJD" * 5000  # an embedded base64 blob: 20,000 characters, no white space
    text = f"Attachment: {blob}\nPROCEDURE: Left lateral extracavitary corpectomy of L3, complete.\n"
    result = audit_within_limit(text)
    ev = result.elements["approach"].evidence[0]
    assert (ev.line, ev.text) == (2, "lateral extracavitary")
    assert text[ev.start:ev.end] == "lateral extracavitary"
