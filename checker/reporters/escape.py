"""Escaping what a topology file or a path brings into a report.

File names, titles and messages quote the user's input, which may hold control
characters (a terminal escape, a newline in a file name) or markup. Control
characters (C0, DEL, C1) are shown as ``\\x1b``; the invisible bidirectional
controls that can reorder text on screen as ``\\u202e``; a file name's byte that is
not UTF-8 as ``\\xe9`` (written raw, it would make the report invalid UTF-8). In
Markdown nothing is raw HTML: ``<``, ``>`` and ``&`` become entities, Markdown's own
punctuation is backslash-escaped, and ``@`` cannot start a mention.
"""

from __future__ import annotations

import re

from ..display import visible

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROL = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_BIDI}]")
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def control(text: str) -> str:
    """``text`` with control and bidirectional characters shown as escapes, and the
    rest of what :func:`checker.display.visible` escapes (the line and paragraph
    separators; a file-name byte that is not UTF-8 as ``\\xe9``, so the report is UTF-8)."""
    return visible(_CONTROL.sub(_escaped, text))


def markdown_text(text: str) -> str:
    """``text`` as inert Markdown prose (safe in a table cell too)."""
    text = _MARKDOWN.sub(r"\\\1", control(text))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("@", "@\u2060")  # a word joiner: no mention
