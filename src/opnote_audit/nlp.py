"""The spaCy tokenizer, tuned for operative notes, and the term matcher built on its vocab.

No model is downloaded and no ``Language`` pipeline is built: the audit needs only spaCy's
English ``Vocab`` and ``Tokenizer`` (for the ``PhraseMatcher`` and ``Matcher``), so they are
built directly from ``spacy.lang.en``'s defaults, which takes about a fifth of the time of
``spacy.blank("en")``. Two choices differ from ``spacy.blank("en")``:

* one ``token_match`` rule keeps level forms readable ("L2", "L-2", "L2-3", "L4-5", "T12-L1"
  stay one token);
* the English tokenizer *exceptions* (special cases such as "Dr.", "vs.", "can't") are left
  out. No term or pattern uses them, and spaCy stops caching the tokenization of words for
  the rest of a document after the first special case it meets (every note has a "Dr."
  near its top), which made tokenizing about four times slower. Without them "Dr." is two
  tokens, "Dr" and ".", in the notes and in the phrases alike.

Built once per process.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from opnote_audit import patterns

if TYPE_CHECKING:
    from spacy.tokenizer import Tokenizer


def _level_token_regex() -> re.Pattern[str]:
    data = patterns.load("level.yml")
    token_re = patterns.compile_regex(data.get("token_regex"), data, flags=0)
    return re.compile(rf"^(?:{token_re.pattern})$")


@patterns.cached
def get_tokenizer() -> "Tokenizer":
    """spaCy's English tokenizer without its special cases, with the level-token rule."""
    from spacy.lang.en import English
    from spacy.tokenizer import Tokenizer
    from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex
    from spacy.vocab import create_vocab

    d = English.Defaults
    return Tokenizer(
        create_vocab("en", d),
        rules={},
        prefix_search=compile_prefix_regex(d.prefixes).search,
        suffix_search=compile_suffix_regex(d.suffixes).search,
        infix_finditer=compile_infix_regex(d.infixes).finditer,
        token_match=_level_token_regex().match,  # a compiled regex: no Python call per token
        url_match=d.url_match,
    )


LONGEST_CHUNK = 200  # characters without white space that the tokenizer is given as one chunk
_LONG_CHUNK = re.compile(rf"\S{{{LONGEST_CHUNK + 1},}}")


def tokenize(text: str):
    """The spaCy ``Doc`` of ``text``, with runs of more than LONGEST_CHUNK non-space characters
    (a base64 blob, a rule of "=;=;...") left out: spaCy splits affixes off a chunk one at a
    time, each a regex search over the rest of the chunk, so a chunk costs the square of its
    length (6,400 characters of "=;" took 8 s). No term is that long. The run is blanked in the
    copy the tokenizer reads, so every character offset stays the same."""
    if len(text) > LONGEST_CHUNK and max(map(len, text.split()), default=0) > LONGEST_CHUNK:  # fast test
        text = _LONG_CHUNK.sub(lambda m: " " * len(m.group()), text)
    return get_tokenizer()(text)


@patterns.cached
def get_term_matcher():
    from opnote_audit.matching import TermMatcher

    return TermMatcher(get_tokenizer())
