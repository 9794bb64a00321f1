"""The spaCy pipeline: a blank English tokenizer tuned for operative notes, plus term matching.

No model is downloaded: ``spacy.blank("en")`` with tokenizer rules that keep level forms
readable ("L2", "L-2", "L2-3", "L4-5", "T12-L1" stay one token). Built once per process.
"""

from __future__ import annotations

import re

from opnote_audit import patterns

MAX_CHARS = 30_000_000


@patterns.cached
def get_nlp():
    import spacy

    nlp = spacy.blank("en")
    nlp.max_length = MAX_CHARS
    data = patterns.load("level.yml")
    token_re = patterns.compile_regex(data.get("token_regex"), data, flags=0)
    if nlp.tokenizer.token_match is not None:  # pragma: no cover - English has none today
        level_token = re.compile(rf"^(?:{token_re.pattern})$|{nlp.tokenizer.token_match.__self__.pattern}")
    else:
        level_token = re.compile(rf"^(?:{token_re.pattern})$")
    nlp.tokenizer.token_match = level_token.match  # a compiled regex: no Python call per token
    return nlp


@patterns.cached
def get_term_matcher():
    from opnote_audit.matching import TermMatcher

    return TermMatcher(get_nlp())
