"""The spaCy pipeline: a blank English tokenizer tuned for operative notes.

No model is downloaded: ``spacy.blank("en")`` with one tokenizer rule that keeps level forms
readable ("L2", "L-2", "L2-3", "L4-5", "T12-L1" stay one token). The tokenizer is built once,
with its rule, through spaCy's tokenizer registry (setting ``token_match`` afterwards would
rebuild the special cases a second time). Built once per process.
"""

from __future__ import annotations

import re

from opnote_audit import patterns

MAX_CHARS = 30_000_000
TOKENIZER_NAME = "opnote_audit.tokenizer.v1"


def _level_token_regex() -> re.Pattern[str]:
    data = patterns.load("level.yml")
    token_re = patterns.compile_regex(data.get("token_regex"), data, flags=0)
    return re.compile(rf"^(?:{token_re.pattern})$")


def _register_tokenizer() -> None:
    import spacy
    from spacy.tokenizer import Tokenizer
    from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

    if TOKENIZER_NAME in spacy.registry.tokenizers:
        return

    @spacy.registry.tokenizers(TOKENIZER_NAME)
    def create_tokenizer():
        def make(nlp):
            d = nlp.Defaults
            return Tokenizer(
                nlp.vocab,
                rules=d.tokenizer_exceptions,
                prefix_search=compile_prefix_regex(d.prefixes).search if d.prefixes else None,
                suffix_search=compile_suffix_regex(d.suffixes).search if d.suffixes else None,
                infix_finditer=compile_infix_regex(d.infixes).finditer if d.infixes else None,
                token_match=_level_token_regex().match,  # a compiled regex: no Python call per token
                url_match=d.url_match,
            )

        return make


@patterns.cached
def get_nlp():
    import spacy

    _register_tokenizer()
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": TOKENIZER_NAME}}})
    nlp.max_length = MAX_CHARS
    return nlp


@patterns.cached
def get_term_matcher():
    from opnote_audit.matching import TermMatcher

    return TermMatcher(get_nlp())
