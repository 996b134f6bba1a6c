"""Text to syntax tree, with syntax errors that read like a person wrote them.

The grammar (``topology.lark``, shipped in the package; ``spec/topology.lark``
is the same file) is compiled once per process and cached. A syntax error
becomes a ``syntax`` :class:`~checker.results.Result` at the exact line and
column, saying what was expected in words; after an error the parser blanks the
offending line and tries again, so one pass reports every independent mistake.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import lark
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .model import Span
from .results import Result, Severity, Status

MAX_SYNTAX_ERRORS = 20

KINDS = ("internet", "dns", "lb", "gateway", "web", "service", "db")
STATEMENT_KEYWORDS = ("topology", "zone", "cluster", "allow", "deny", "check") + KINDS
ATTRIBUTE_KEYWORDS = ("zone", "host", "address", "managed", "listen", "answer", "primary", "replica", "failover")

# Terminal names as a user would say them.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a quoted string like "my topology"',
    "PORT": "a port like tcp/443",
    "INT": "a number",
    "ADDRESS": "an address like 10.0.0.1 or 10.0.0.0/16",
    "_NL": "the end of the line",
    "$END": "the end of the file",
    "ANY": "'any'",
    "OPTIONAL": "'optional'",
    "PRIMARY": "'primary'",
    "REPLICA": "'replica'",
}

_UNCLOSED = "unclosed '{': a block must end with '}'"

# Common mistakes, recognised by the parser state they leave it in.
_EXAMPLES: dict[str, list[str]] = {
    "missing target after '->'": [
        "allow web1 ->\n",
        "allow web1 -> ;",
        "lb l { listen tcp/443 -> }",
        "lb l listen tcp/443 ->\n",
    ],
    "missing source before '->'": ["allow -> web1\n", "deny -> web1 tcp/443\n"],
    "missing '->' between the sources and the destinations of a rule": [
        "allow web1 db1\n",
        "allow web1\n",
        "allow internet lb1 tcp/443\n",
    ],
    "missing target after the verb": ["web1 writes\n", "web1 reads ;", "web1 uses\n"],
    "missing ',' between names, or a verb (reads, writes, uses) after them": [
        "web1 web2 writes db\n",
        "web1 db1\n",
    ],
    "missing name after the kind": ["web\n", "db ;", "lb {", "web zone a\n"],
    _UNCLOSED: [
        "web w {\n",
        "web w {\n zone a\n",
        "cluster c {\n db d {\n",
        "web w {\n zone a\nallow",
        "web w {\nweb",
        "web w {\n zone a\nx writes y",
        "cluster c {\n db d { primary }\nallow",
        "cluster c {\n db d {\nallow",
        "lb l {\n listen 443 -> a\ndeny",
    ],
    "missing the port after 'listen'": ["web w listen\n", "web w listen ;", "lb l listen -> a\n"],
}


@lru_cache(maxsize=1)
def grammar_text() -> str:
    """The grammar source, read from the installed package."""
    return resources.files("checker").joinpath("topology.lark").read_text(encoding="utf-8")


_LARK_OPTIONS = dict(parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The compiled LALR parser: built once per process, and kept between runs in
    the user's cache folder (see :func:`grammar_cache_path`), so a one-file run
    does not pay for compiling the grammar."""
    cache = grammar_cache_path()
    if cache is not None:
        try:
            with open(cache, "rb") as stored:
                return Lark.load(stored)
        except Exception:  # missing, truncated, or from another version: rebuild
            pass
    parser = Lark(grammar_text(), cache=False, **_LARK_OPTIONS)
    if cache is not None:
        _store(parser, cache)
    return parser


def grammar_cache_path() -> Path | None:
    """Where the compiled grammar is kept: ``$TOPOCHECK_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/topocheck``, else ``~/.cache/topocheck``; ``None`` when
    ``TOPOCHECK_CACHE_DIR`` is ``off``. The name carries a hash of the grammar,
    the options and the Lark and Python versions, so a stale file is never used."""
    folder = os.environ.get("TOPOCHECK_CACHE_DIR")
    if folder == "off":
        return None
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "topocheck")
    key = hashlib.sha256(
        "\0".join([grammar_text(), repr(sorted(_LARK_OPTIONS.items())), lark.__version__, sys.version]).encode()
    ).hexdigest()[:20]
    return Path(folder) / f"grammar-{key}.pickle"


def _store(parser: Lark, cache: Path) -> None:
    """Write the compiled parser atomically (a temporary file, then a rename), so
    concurrent runs never read half a file; a read-only home just skips the cache."""
    temporary = None
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".grammar-", dir=str(cache.parent))
        with os.fdopen(handle, "wb") as out:
            parser.save(out)
        os.replace(temporary, cache)
        temporary = None
    except OSError:
        pass
    finally:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass


@dataclass(frozen=True)
class ParseOutcome:
    tree: Tree | None
    errors: tuple[Result, ...]


def parse(text: str, path: str) -> ParseOutcome:
    """Parse ``text``; on errors, report each one (up to a limit) and give no tree."""
    parser = lark_parser()
    errors: list[Result] = []
    current = text
    seen: set[tuple[int, int]] = set()
    while True:
        try:
            tree = parser.parse(current)
        except UnexpectedInput as exc:
            result = _syntax_result(exc, current, path)
            key = (exc.line, exc.column)
            if key in seen:
                break
            seen.add(key)
            errors.append(result)
            if isinstance(exc, UnexpectedEOF) or exc.line in (None, -1) or len(errors) >= MAX_SYNTAX_ERRORS:
                break
            if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
                break
            if result.message.startswith(_UNCLOSED):
                break  # what follows an unclosed block cannot be read reliably
            current = _blank_line(current, exc.line)
            continue
        if errors:
            return ParseOutcome(None, tuple(errors))
        return ParseOutcome(tree, ())
    return ParseOutcome(None, tuple(errors))


def _blank_line(text: str, line: int) -> str:
    lines = text.split("\n")
    if 1 <= line <= len(lines):
        lines[line - 1] = " " * len(lines[line - 1].rstrip("\r"))
    return "\n".join(lines)


def _syntax_result(exc: UnexpectedInput, text: str, path: str) -> Result:
    line = exc.line if exc.line not in (None, -1) else max(1, text.count("\n") + 1)
    column = exc.column if exc.column not in (None, -1) else 1
    width = 1
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        width = max(1, len(str(exc.token)))
        found = _describe_token(exc.token)
    elif isinstance(exc, UnexpectedCharacters):
        found = f"'{text[exc.pos_in_stream]}'" if 0 <= exc.pos_in_stream < len(text) else "a character"
    else:
        found = "the end of the file"
    expected = _expected_words(exc)  # before match_examples, which re-parses
    label = _unclosed_block(exc) or _known_mistake(exc)
    if label:
        message = f"{label}; found {found}"
    elif expected:
        message = f"expected {expected}; found {found}"
    else:
        message = f"unexpected {found}"
    hint = _hint(exc, text)
    span = Span(path, line, column, line, column + width)
    return Result("syntax", Status.REFUTED, Severity.ERROR, message, span, "parser", hint=hint)


def _unclosed_block(exc: UnexpectedInput) -> str | None:
    """A statement (or the end of the file) where a block's '}' could still come."""
    if not isinstance(exc, UnexpectedToken) or "RBRACE" not in (exc.accepts or exc.expected or ()):
        return None
    token = exc.token
    if token.type == "$END" or (str(token) in STATEMENT_KEYWORDS and str(token) != "zone"):
        return _UNCLOSED
    return None


def _known_mistake(exc: UnexpectedInput) -> str | None:
    """The label of a common mistake that leaves the parser in the same state."""
    for use_accepts in (True, False):
        try:
            label = exc.match_examples(lark_parser().parse, _EXAMPLES, use_accepts=use_accepts)
        except Exception:  # it re-parses the examples; never let that hide the real error
            return None
        if label:
            return label
    return None


def _describe_token(token: Token) -> str:
    if token.type == "_NL":
        return "the end of the line"
    return f"'{token}'"


def _expected_words(exc: UnexpectedInput) -> str:
    # ``accepts`` (what the parser can really take here) is exact; ``expected``
    # may hold terminals of states the parser would only reach by reducing.
    names = getattr(exc, "accepts", None) or getattr(exc, "expected", None) or getattr(exc, "allowed", None) or set()
    words: list[str] = []
    for name in sorted(names):
        if name.startswith("__") or name in ("WS", "COMMENT"):
            continue
        word = _TERMINAL_WORDS.get(name)
        if word is None:
            try:
                pattern = lark_parser().get_terminal(name).pattern
                word = f"'{pattern.value}'" if pattern.type == "str" else name.lower()
            except KeyError:
                word = name.lower()
        if word not in words:
            words.append(word)
    if len(words) > 8:
        words = words[:8] + ["..."]
    if len(words) > 1:
        return ", ".join(words[:-1]) + " or " + words[-1]
    return words[0] if words else ""


def _hint(exc: UnexpectedInput, text: str) -> str | None:
    """A 'did you mean' for a misspelt keyword at the start of a statement or attribute."""
    if not isinstance(exc, UnexpectedToken) or exc.token.type == "$END":
        return None
    line_text = text.split("\n")[exc.line - 1] if exc.line and exc.line > 0 else ""
    words = line_text.split()
    if not words:
        return None
    first = words[0]
    if first not in STATEMENT_KEYWORDS and first not in ATTRIBUTE_KEYWORDS:
        close = difflib.get_close_matches(first, STATEMENT_KEYWORDS + ATTRIBUTE_KEYWORDS, n=1, cutoff=0.7)
        if close:
            return f"did you mean '{close[0]}' instead of '{first}'?"
    token = str(exc.token)
    close = difflib.get_close_matches(token, ATTRIBUTE_KEYWORDS + ("optional", "of"), n=1, cutoff=0.75)
    if close and close[0] != token:
        return f"did you mean '{close[0]}'?"
    if token == ":" or (":" in line_text and "/" not in line_text):
        return "ports are written protocol/port, as tcp/443"
    return None


def tree_span(tree: Tree | Token, path: str) -> Span:
    """The span of a tree or token (1-based, end column exclusive as Lark gives it)."""
    if isinstance(tree, Token):
        return Span(path, tree.line, tree.column, tree.end_line, tree.end_column)
    meta = tree.meta
    if getattr(meta, "empty", True):
        return Span(path, 1, 1, 1, 1)
    return Span(path, meta.line, meta.column, meta.end_line, meta.end_column)
