"""The context engine: negation, uncertainty, planned/hypothetical, historical and family
mentions, EHR checkboxes, scope limits, pattern-file validation and speed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from opnote_audit import patterns
from opnote_audit.context import ContextEngine, assertions, get_engine, split_sentences
from opnote_audit.errors import PatternError


def labels(text: str, *targets: str) -> dict[str, list[str]]:
    """Labels of each target (first occurrence) in the text."""
    spans = []
    for t in targets:
        i = text.index(t)
        spans.append((i, i + len(t)))
    return dict(zip(targets, assertions(text, spans)))


def one(text: str, target: str) -> list[str]:
    return labels(text, target)[target]


# ---------------------------------------------------------------- negation

@pytest.mark.parametrize("text,target", [
    ("No tumor was found.", "tumor"),
    ("The patient denies fever.", "fever"),
    ("The wound was closed without drain placement.", "drain placement"),
    ("Frozen section was negative for malignancy.", "malignancy"),
    ("The canal is free of disc material.", "disc material"),
    ("There was no evidence of metastatic disease.", "metastatic disease"),
    ("Absence of cerebrospinal fluid leak was confirmed.", "cerebrospinal fluid leak"),
    ("Instability was ruled out.", "Instability"),
    ("The pedicle is absent on the left.", "pedicle"),
    ("A dural tear was not seen.", "dural tear"),
    ("The nerve roots were not decompressed.", "decompressed"),
    ("The nerve roots were not decompressed.", "nerve roots"),
    ("Complications: none.", "Complications"),
    ("Pain free at rest.", "Pain"),
    ("Metastatic disease and lymphoma were not supported by the biopsy.", "lymphoma"),
    ("A fracture was not confirmed by CT.", "fracture"),
])
def test_negated(text: str, target: str) -> None:
    assert one(text, target) == ["negated"]


def test_list_after_a_negation_is_negated_throughout() -> None:
    assert labels("No fever, chills, or cough.", "fever", "chills", "cough") == {
        "fever": ["negated"], "chills": ["negated"], "cough": ["negated"]}


def test_affirmed_mention_has_no_label() -> None:
    assert labels("The T12 vertebral body was removed.", "T12 vertebral body") == {
        "T12 vertebral body": []}


@pytest.mark.parametrize("text,negated,affirmed", [
    ("No fracture but a large tumor was found.", "fracture", "tumor"),
    ("No pain; however weakness persists.", "pain", "weakness"),
    ("No pain although weakness persists.", "pain", "weakness"),
    ("No fever, which makes an abscess the likely source.", "fever", "abscess"),
    ("No deficits except numbness in the foot.", "deficits", "numbness"),
    ("No pain aside from stiffness.", "pain", "stiffness"),
    ("No pain apart from stiffness.", "pain", "stiffness"),
    ("No fever, presenting with back pain.", "fever", "back pain"),
    ("No trauma; compression secondary to tumor.", "trauma", "tumor"),
    ("No fall, weakness due to myelopathy.", "fall", "myelopathy"),
    ("No injury as the cause of the fracture.", "injury", "fracture"),
    ("The dura was not violated; the nerve roots were decompressed.", "dura", "nerve roots"),
    ("There were no complications and the decompression appeared adequate.",
     "complications", "decompression"),
])
def test_terminators_end_the_scope(text: str, negated: str, affirmed: str) -> None:
    assert labels(text, negated, affirmed) == {negated: ["negated"], affirmed: []}


@pytest.mark.parametrize("text,target", [
    ("There was no change in hardware position.", "hardware position"),
    ("No increase in kyphosis was seen on the film.", "kyphosis"),
    ("This is not only a fracture.", "fracture"),
    ("No further dissection of the pleura was required.", "dissection"),
    ("This is not necessarily a tumor.", "tumor"),
    ("The screws were placed without difficulty.", "screws"),
    ("Cultures grew gram negative rods.", "rods"),
])
def test_pseudo_negations_do_not_negate(text: str, target: str) -> None:
    assert "negated" not in one(text, target)


def test_trigger_inside_the_target_does_not_apply_to_it() -> None:
    text = "The lungs show no airspace opacities."
    assert one(text, "lungs show no airspace opacities") == []
    assert one(text, "airspace opacities") == ["negated"]


def test_scope_is_bounded_by_max_scope_tokens() -> None:
    text = ("No fever was reported at the clinic visit on the day before the long drive home "
            "and the pain is severe.")
    assert labels(text, "fever", "pain") == {"fever": ["negated"], "pain": []}


def test_scope_is_bounded_by_the_sentence() -> None:
    text = "There was no tumor. The dura was opened."
    assert labels(text, "tumor", "dura") == {"tumor": ["negated"], "dura": []}


def test_trigger_inside_brackets_stays_inside() -> None:
    text = "The slides (not sent for review) show a chordoma."
    assert one(text, "chordoma") == []


# ---------------------------------------------------------------- uncertainty

@pytest.mark.parametrize("text,target", [
    ("Rule out metastasis.", "metastasis"),
    ("R/O infection.", "infection"),
    ("Possible pathologic fracture.", "pathologic fracture"),
    ("Probable schwannoma.", "schwannoma"),
    ("Questionable pedicle breach.", "pedicle breach"),
    ("The lesion is suspicious for myeloma.", "myeloma"),
    ("Metastasis cannot be excluded.", "Metastasis"),
    ("Lymphoma versus myeloma.", "myeloma"),
    ("This may represent a hemangioma.", "hemangioma"),
    ("Concern for epidural abscess.", "epidural abscess"),
    ("The differential includes osteomyelitis.", "osteomyelitis"),
    ("The differential diagnosis for the MRI appearance included spondylodiscitis, tuberculosis, "
     "metastatic disease and lymphoma.", "lymphoma"),
])
def test_uncertain(text: str, target: str) -> None:
    assert one(text, target) == ["uncertain"]


def test_ruled_out_is_negation_but_rule_out_is_uncertain() -> None:
    assert one("Myeloma was ruled out.", "Myeloma") == ["negated"]
    assert one("Rule out myeloma.", "myeloma") == ["uncertain"]


# ---------------------------------------------------------------- hypothetical / planned

@pytest.mark.parametrize("text,target", [
    ("We will decompress the root at a later stage.", "decompress"),
    ("The root will be decompressed.", "decompressed"),
    ("The fusion would be extended to L1.", "fusion"),
    ("We plan to perform a corpectomy.", "corpectomy"),
    ("Planned corpectomy of L2.", "corpectomy"),
    ("Posterior fixation to be performed next week.", "Posterior fixation"),
    ("Corpectomy is scheduled for Monday.", "Corpectomy"),
    ("She is scheduled for a corpectomy.", "corpectomy"),
    ("Anterior column reconstruction at a later date.", "Anterior column reconstruction"),
    ("We recommended a lateral extracavitary corpectomy.", "lateral extracavitary corpectomy"),
    ("She is a candidate for corpectomy.", "corpectomy"),
    ("We will consider a transthoracic approach.", "transthoracic approach"),
    ("If the cord is compressed, a corpectomy is done.", "corpectomy"),
    ("In case of bleeding, embolization is used.", "embolization"),
    ("The risks and benefits of corpectomy were explained.", "corpectomy"),
    ("We discussed corpectomy with the patient.", "corpectomy"),
    ("Options include vertebroplasty.", "vertebroplasty"),
    ("Consent for corpectomy was signed.", "corpectomy"),
    ("She will return for instrumentation.", "instrumentation"),
    ("A staged anterior release is planned.", "anterior release"),
])
def test_hypothetical(text: str, target: str) -> None:
    assert one(text, target) == ["hypothetical"]


def test_considered_but_not_used_is_hypothetical_and_negated() -> None:
    text = "A lateral extracavitary approach was considered but not used."
    assert one(text, "lateral extracavitary approach") == ["hypothetical", "negated"]


def test_done_procedure_is_not_hypothetical() -> None:
    text = "A lateral extracavitary approach was used and the T12 body was removed."
    assert labels(text, "lateral extracavitary approach", "T12 body") == {
        "lateral extracavitary approach": [], "T12 body": []}


# ---------------------------------------------------------------- historical

@pytest.mark.parametrize("text,target", [
    ("He had a prior L3 corpectomy in 2019.", "L3 corpectomy"),
    ("L3 corpectomy in 2019 for a burst fracture.", "L3 corpectomy"),
    ("History of lumbar fusion.", "lumbar fusion"),
    ("Previous laminectomy at L4.", "laminectomy"),
    ("The cage was previously placed.", "cage"),
    ("She had a discectomy in the past.", "discectomy"),
    ("Status post L4-5 fusion.", "L4-5 fusion"),
    ("S/p vertebroplasty.", "vertebroplasty"),
    ("Remote compression fracture of T8.", "compression fracture"),
    ("An old fracture of T11.", "fracture"),
    ("In 2019 she underwent a left lateral extracavitary L3 corpectomy with cage reconstruction.",
     "corpectomy"),
    ("In 2019 she underwent a left lateral extracavitary L3 corpectomy with cage reconstruction and L2-L4 "
     "posterior instrumentation for an L3 burst fracture after a fall.", "burst fracture"),
    ("In March 2020 a biopsy showed myeloma.", "myeloma"),
])
def test_historical(text: str, target: str) -> None:
    assert one(text, target) == ["historical"]


@pytest.mark.parametrize("text,target", [
    ("Prior to closure, the wound was irrigated.", "wound"),
    ("A 65-year-old man underwent corpectomy.", "corpectomy"),
    ("Status post fusion, now presenting with adjacent segment disease.",
     "adjacent segment disease"),
    ("In 2019 she was diagnosed with breast cancer and now presents with an L2 pathologic fracture.",
     "pathologic fracture"),
])
def test_not_historical(text: str, target: str) -> None:
    assert one(text, target) == []


# ---------------------------------------------------------------- family

@pytest.mark.parametrize("text,target", [
    ("Family history of scoliosis.", "scoliosis"),
    ("His mother had breast cancer.", "breast cancer"),
    ("Her brother has ankylosing spondylitis.", "ankylosing spondylitis"),
])
def test_family(text: str, target: str) -> None:
    assert one(text, target) == ["family"]


def test_patients_own_history_is_not_family() -> None:
    assert one("He had breast cancer.", "breast cancer") == []


# ---------------------------------------------------------------- EHR checkboxes

@pytest.mark.parametrize("text", [
    "Approach: [x] Lateral extracavitary [ ] Transthoracic",
    "Approach: [X] Lateral extracavitary [  ] Transthoracic",
    "Approach: [ ] Transthoracic [x] Lateral extracavitary",
    "Approach: ☐ Transthoracic ☒ Lateral extracavitary",
    "Approach: ☐ Transthoracic ☑ Lateral extracavitary",
    "Approach: ( ) Transthoracic (x) Lateral extracavitary",
])
def test_unchecked_box_negates_its_item_only(text: str) -> None:
    assert labels(text, "Lateral extracavitary", "Transthoracic") == {
        "Lateral extracavitary": [], "Transthoracic": ["negated"]}


def test_unchecked_box_stops_at_the_line_end() -> None:
    text = "[ ] Transthoracic\nLateral extracavitary corpectomy performed."
    assert labels(text, "Transthoracic", "Lateral extracavitary") == {
        "Transthoracic": ["negated"], "Lateral extracavitary": []}


def test_unchecked_box_scope_reaches_a_long_item() -> None:
    text = "[ ] Posterior lateral extracavitary approach with rib head resection"
    assert one(text, "rib head resection") == ["negated"]


# ---------------------------------------------------------------- engine API

def test_labels_in_sentence_checks_every_span_against_one_trigger_pass() -> None:
    engine = get_engine()
    sentence = "No tumor; possible cyst; prior fusion."
    assert [sentence[s:e] for s, e in [(3, 8), (19, 23), (31, 37)]] == ["tumor", "cyst", "fusion"]
    got = engine.labels_in_sentence(sentence, [(3, 8), (19, 23), (31, 37)])
    assert got == [frozenset({"negated"}), frozenset({"uncertain"}), frozenset({"historical"})]


def test_labels_in_sentence_without_triggers() -> None:
    assert get_engine().labels_in_sentence("The dura was opened.", [(4, 8)]) == [frozenset()]


def test_get_engine_is_cached_and_cleared_with_the_pattern_caches() -> None:
    first = get_engine()
    assert get_engine() is first
    patterns.clear_caches()
    assert get_engine() is not first


def test_split_sentences() -> None:
    text = "No tumor was found. Dr. Smith closed.\nApproach: lateral extracavitary"
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "No tumor was found.", "Dr. Smith closed.", "Approach: lateral extracavitary"]


def test_assertions_uses_the_sentence_of_each_span() -> None:
    text = "There was no tumor. The tumor bed was irrigated."
    second = text.index("tumor bed")
    assert assertions(text, [(12, 17), (second, second + 5)]) == [["negated"], []]


def test_assertions_rejects_a_span_outside_the_text() -> None:
    with pytest.raises(ValueError):
        assertions("short", [(2, 40)])


# ---------------------------------------------------------------- pattern file validation

BASE = """\
version: 1
labels: [negated, uncertain]
rules:
  - category: negated
    direction: forward
    literal: [without]
"""


def _engine_from(tmp_path: Path, text: str) -> ContextEngine:
    path = tmp_path / "context.yml"
    path.write_text(text, encoding="utf-8")
    return ContextEngine.from_data(patterns.load_yaml(path))


def test_minimal_file_builds_an_engine(tmp_path: Path) -> None:
    engine = _engine_from(tmp_path, BASE)
    assert engine.labels_in_sentence("closed without drain", [(15, 20)]) == [frozenset({"negated"})]


@pytest.mark.parametrize("extra,line,message", [
    ("  - category: negated\n    direction: sideways\n    literal: x\n", 7, "'direction' must be one of"),
    ("  - category: nosuch\n    direction: forward\n    literal: x\n", 7, "unknown category 'nosuch'"),
    ("  - category: negated\n    direction: forward\n", 7, "exactly one of 'literal' or 'regex'"),
    ("  - category: negated\n    direction: forward\n    literal: x\n    regex: y\n", 7,
     "exactly one of 'literal' or 'regex'"),
    ("  - category: negated\n    direction: forward\n    regex: '(a+)+'\n", 7, "nested unbounded quantifier"),
    ("  - category: negated\n    direction: forward\n    regex: '(unclosed'\n", 7, "invalid regex"),
    ("  - category: negated\n    direction: forward\n    regex: 'a*'\n", 7, "must not match the empty string"),
    ("  - category: negated\n    direction: forward\n    literal: x\n    max_scope: 0\n", 7,
     "'max_scope' must be a positive integer"),
    ("  - category: negated\n    direction: forward\n    literal: x\n    colour: red\n", 7, "unknown key(s) colour"),
    ("  - category: negated\n    direction: forward\n    literal: [x, 3]\n", 7, "'literal' must be"),
    ("  - category: negated\n    direction: backward\n    literal: without\n", 7,
     "literal 'without' is already a rule at"),
    ("  - direction: forward\n    literal: x\n", 7, "missing key 'category'"),
])
def test_malformed_rule_names_file_and_line(tmp_path: Path, extra: str, line: int, message: str) -> None:
    with pytest.raises(PatternError) as err:
        _engine_from(tmp_path, BASE + extra)
    msg = str(err.value)
    assert f"context.yml:{line}: " in msg
    assert message in msg


def test_unquoted_yaml_boolean_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(PatternError, match=r"context\.yml:7: 'literal' must be"):
        _engine_from(tmp_path, BASE + "  - category: negated\n    direction: forward\n    literal: [no]\n")


def test_missing_labels_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(PatternError, match=r"context\.yml:1: 'labels' must be a non-empty list"):
        _engine_from(tmp_path, BASE.replace("labels: [negated, uncertain]\n", ""))


def test_builtin_file_loads_and_names_itself() -> None:
    data = patterns.load("context.yml")
    assert data.source == "patterns/context.yml"
    engine = ContextEngine.from_data(data)
    assert engine.labels == frozenset({"negated", "uncertain", "hypothetical", "historical", "family"})


# ---------------------------------------------------------------- speed

def test_at_least_2000_sentences_per_second() -> None:
    engine = get_engine()
    base = [
        "The patient denies fever, chills, or cough but reports severe back pain radiating to the leg.",
        "A lateral extracavitary approach was considered but not used because of prior radiation.",
        "There was no evidence of cerebrospinal fluid leak and the dura was closed primarily.",
        "Approach: [x] Lateral extracavitary [ ] Transthoracic [ ] Retroperitoneal",
        "He has a history of prior L3 corpectomy in 2019 and will return for staged fixation.",
    ]
    sentences = [f"{s} Item {i}." for i in range(400) for s in base]
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for s in sentences:
            engine.labels_in_sentence(s, [(4, 12), (20, 30)])
        best = max(best, len(sentences) / (time.perf_counter() - t0))
    assert best >= 2000


# ---------------------------------------------------------------- robustness

from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab no[]()x☐☒;:.,\n-ve ")), max_size=80), st.data())
def test_any_text_and_span_gives_sorted_known_labels(text: str, data: st.DataObject) -> None:
    if not text:
        return
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    (got,) = assertions(text, [(start, end)])
    assert got == sorted(got)
    assert set(got) <= {"negated", "uncertain", "hypothetical", "historical", "family"}


@pytest.mark.parametrize("text,target", [
    ("The nerve root was inspected and observed to be decompressed.", "decompressed"),
    ("The thecal sac was noted to be decompressed.", "thecal sac"),
    ("A probe could be passed freely along the nerve roots.", "nerve roots"),
])
def test_findings_reported_as_seen_are_affirmed(text: str, target: str) -> None:
    assert one(text, target) == []
