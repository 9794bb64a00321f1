"""Errors the tool reports as one clear line and exit code 2 (never a traceback).

Messages never contain note text: they name files, keys and lines only.
"""


class OpnoteError(Exception):
    """Base class: a problem the user can fix. ``str(err)`` is the one-line message."""

    exit_code = 2


class InputError(OpnoteError):
    """A note that cannot be read: missing, binary, empty, too large, unreadable."""


class PatternError(OpnoteError):
    """A pattern or rule data file that is missing or malformed (names file and line)."""


class ConfigError(OpnoteError):
    """A configuration file or value that is not allowed."""


class UsageError(OpnoteError):
    """A command-line value that is not allowed (malformed --cpt, unknown --code...)."""
