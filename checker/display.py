"""Text from the input, made safe to show to a person.

File names, comments, suppression reasons and syntax-error tokens come from the
repository being checked, which in CI is a pull request from anyone. Shown raw,
a control character can clear the terminal, write the clipboard (OSC 52), hide
a line behind a carriage return, or start a new line that a CI runner reads as
a command. Every human-readable format (text, GitHub annotations, Markdown,
diagram labels, messages on standard error) passes such text through
:func:`visible` first.
"""

from __future__ import annotations

import re

#: What :func:`visible` escapes: C0 controls (tab and line feed included), DEL and
#: C1 controls; the Unicode line and paragraph separators; the bidirectional
#: overrides and isolates (the "Trojan Source" characters); and the surrogate
#: escapes Python gives the undecodable bytes of a file name.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a file-name byte that is not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every :data:`UNSAFE` character written as an escape
    (``\\x1b``, ``\\u202e``); a file-name byte that is not UTF-8 shows as that
    byte (``\\xe9``).

    >>> visible("evil\\x1b[2J\\n.topo")
    'evil\\\\x1b[2J\\\\x0a.topo'
    """
    if UNSAFE.search(text) is None:  # the common case: one scan, no copy
        return text
    return UNSAFE.sub(_escape, text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def json_safe(document: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) made valid UTF-8: a file
    name byte that is not UTF-8 reaches JSON as a lone surrogate, which no UTF-8
    encoder writes; it becomes the text ``\\xNN``, as :func:`visible` shows it."""
    if _SURROGATE.search(document) is None:
        return document
    return _SURROGATE.sub(lambda match: "\\" + _escape(match), document)


def visible_lines(text: str) -> str:
    """:func:`visible` for each line of ``text``: its own line breaks are kept."""
    return "\n".join(visible(line) for line in text.split("\n"))
