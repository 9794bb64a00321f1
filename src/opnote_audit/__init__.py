"""opnote-audit: documentation audit of operative notes for CPT 63101/63102/63103."""

__version__ = "0.1.0"
