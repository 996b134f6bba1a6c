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
import json
import os
import re
import stat
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import lark
from lark import Lark, Token, Transformer, Tree
from lark.grammar import Rule
from lark.lexer import TerminalDef
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .model import Span
from .results import Result, Severity, Status

MAX_SYNTAX_ERRORS = 20

KINDS = ("internet", "dns", "lb", "gateway", "web", "service", "db", "clients", "job", "external")
STATEMENT_KEYWORDS = ("topology", "zone", "region", "cluster", "allow", "deny", "check") + KINDS
ATTRIBUTE_KEYWORDS = ("zone", "host", "address", "managed", "listen", "answer", "primary", "replica", "failover",
                      "clients", "served-by", "egress", "availability", "quorum", "need", "replicas")

# Terminal names as a user would say them.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a quoted string like "my topology"',
    "PORT": "a port like tcp/443",
    "INT": "a number",
    "DECIMAL": "a number like 99.95",
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
    """The grammar source, read from the installed package (on Python 3.11 and later with
    ``STRING``'s repeats made possessive: see :func:`_possessive_strings`)."""
    text = resources.files("checker").joinpath("topology.lark").read_text(encoding="utf-8")
    return _possessive_strings(text) if sys.version_info >= (3, 11) else text


def _possessive_strings(grammar: str) -> str:
    """``grammar`` with the ``STRING`` terminal's repeats possessive (``*+``, Python 3.11's
    ``re``). The strings matched are the same (a run of plain characters is never given
    back: an escape starts with the backslash they exclude), but the regex engine keeps no
    backtracking state per escape: a 5 MB string of ``\\"`` costs 350 MB to match
    without, a few with. On Python 3.10 such a string costs that memory (--max-memory
    bounds it); a plain one costs nothing either way."""
    lines = grammar.split("\n")
    for at, line in enumerate(lines):
        if line.startswith("STRING: /") and line.endswith(')*"/'):
            lines[at] = line.replace("]*", "]*+").replace(')*"/', ')*+"/')
            return "\n".join(lines)
    raise ValueError("the grammar's STRING terminal is not in the expected form")


_LARK_OPTIONS = dict(parser="lalr", lexer="contextual", maybe_placeholders=False)


class _Records(Transformer):
    """Inline parser callbacks (Lark's ``transformer=``): each reduction makes a
    plain tuple, never a tree, and every span is later computed from tokens, so
    the parser needs no position propagation. A callback may read its children's
    shapes and token *types*, never a token's value: the fast path replays a
    statement from the types alone (:mod:`checker.fastparse`).

    Statements (``tag`` first; ``first``/``last`` are the tokens a span runs between):

    * ``("topology", keyword, STRING)``
    * ``("zone", keyword, NAME, [clause])``: a clause is ``(what, first, last,
      value)``, ``what`` one of ``region`` (value: the NAME), ``egress`` (the
      NAMEs) and ``availability`` (the number)
    * ``("region", keyword, NAME, number or None)``
    * ``("component", kind, NAME, [attribute], last)``
    * ``("cluster", keyword, NAME, [attribute], [component], closing brace)``
    * ``("requirement", [NAME], verb, [NAME], OPTIONAL or None)``
    * ``("rule", action, [endpoint token], [endpoint token], port token or None)``
    * ``("check", keyword, NAME, [(key, value)], last)``

    Attributes are ``(name, first, last, a, b, c)``: zone/host/address/availability
    ``a`` is the value token; listen ``a`` is the port, ``b`` the targets or None
    (each ``(selector, NAME, first token)``, the selector ``"primary"``,
    ``"replicas"`` or None), ``c`` ``(target port or None, need INT or None)``;
    answer/clients/served-by/egress ``a`` the names; role ``a`` the role token
    and ``b`` the ``of`` name or None; failover ``a`` the mode token; quorum and
    managed carry no value.
    """

    def start(self, c):
        for item in c:
            if item.__class__ is list:
                return item
        return []

    def statements(self, c):
        if len(c) == 1:
            return [c[0]]
        out = c[0]
        out.append(c[2])
        return out

    def sep(self, c):
        return None

    seps = sep

    def names(self, c):
        if len(c) == 1:
            return [c[0]]
        out = c[0]
        out.append(c[2])
        return out

    endpoints = names

    def kind(self, c):
        return c[0]

    verb = action = failover_mode = member_kind = kind

    def topology(self, c):
        return ("topology", c[0], c[1])

    def zone(self, c):
        return ("zone", c[0], c[1], c[2:])

    def zone_region(self, c):
        return ("region", c[0], c[1], c[1])

    def zone_egress(self, c):
        return ("egress", c[0], c[1][-1], c[1])

    def zone_availability(self, c):
        return ("availability", c[0], c[1], c[1])

    def region(self, c):
        return ("region", c[0], c[1], c[3] if len(c) > 3 else None)

    def attributes(self, c):
        if len(c) == 1:
            return [c[0]]
        out = c[0]
        out.append(c[1])
        return out

    def component(self, c):
        attributes = []
        last = c[1]
        for item in c[2:]:
            if item.__class__ is list:
                attributes = item
                last = item[-1][2]
            else:  # the block: its attributes, then its closing brace
                attributes = attributes + item[0] if attributes else item[0]
                last = item[1]
        return ("component", c[0], c[1], attributes, last)

    def block(self, c):
        return ([item for item in c[:-1] if item is not None], c[-1])

    def cluster(self, c):
        attributes = c[2] if len(c) > 3 else []
        inner, members, closing = c[-1]
        return ("cluster", c[0], c[1], attributes + inner, members, closing)

    def cluster_block(self, c):
        attributes, members = [], []
        for item in c[:-1]:
            if item.__class__ is list:
                attributes.extend(item)
            elif item is not None:  # a separator is None
                members.append(item)
        return (attributes, members, c[-1])

    def requirement(self, c):
        return ("requirement", c[0], c[1], c[2], c[3] if len(c) > 3 else None)

    def rule(self, c):
        return ("rule", c[0], c[1], c[3], c[4] if len(c) > 4 else None)

    def check(self, c):
        params = c[2:]
        last = params[-1][2] if params else c[1]
        return ("check", c[0], c[1], [(p[0], p[1]) for p in params], last)

    def param(self, c):
        return (c[0], c[1], c[1])

    def zone_attr(self, c):
        return ("zone", c[0], c[1], c[1], None, None)

    def host_attr(self, c):
        return ("host", c[0], c[1], c[1], None, None)

    def address_attr(self, c):
        return ("address", c[0], c[1], c[1], None, None)

    def managed_attr(self, c):
        return ("managed", c[0], c[0], None, None, None)

    def listen_attr(self, c):
        if len(c) == 2:
            return ("listen", c[0], c[1], c[1], None, None)
        port, need = None, None
        for item in c[4:]:
            if item.__class__ is tuple:
                need = item[1]
            else:
                port = item
        last = need or port or c[3][-1][1]
        return ("listen", c[0], last, c[1], c[3], (port, need))

    def targets(self, c):
        if len(c) == 1:
            return [c[0]]
        out = c[0]
        out.append(c[2])
        return out

    def target(self, c):
        if len(c) == 1:
            return (None, c[0], c[0])
        return ("primary" if c[0].type == "PRIMARY" else "replicas", c[2], c[0])

    def need(self, c):
        return ("need", c[1])

    def answer_attr(self, c):
        return ("answer", c[0], c[1][-1], c[1], None, None)

    def role_attr(self, c):
        if len(c) == 1:
            return ("role", c[0], c[0], c[0], None, None)
        return ("role", c[0], c[2], c[0], c[2], None)

    def failover_attr(self, c):
        return ("failover", c[0], c[1], c[1], None, None)

    def clients_attr(self, c):
        return ("clients", c[0], c[1][-1], c[1], None, None)

    def served_by_attr(self, c):
        return ("served-by", c[0], c[1][-1], c[1], None, None)

    def egress_attr(self, c):
        return ("egress", c[0], c[1][-1], c[1], None, None)

    def availability_attr(self, c):
        return ("availability", c[0], c[1], c[1], None, None)

    def quorum_attr(self, c):
        return ("quorum", c[0], c[0], None, None, None)


class _Trees(Transformer):
    """Callbacks for the formatter's parse (:func:`parse_tree`): trees with
    positions, shaped as :mod:`checker.fmt` reads them (keywords and punctuation
    dropped; ``name_list``, ``endpoint_list``, ``*_endpoint``, ``block``...)."""

    def start(self, c):
        statements = next((item for item in c if item.__class__ is list), [])
        return Tree("start", statements)

    statements = _Records.statements
    sep = seps = _Records.sep

    def names(self, c):
        if len(c) == 1:
            return Tree("name_list", [c[0]])
        c[0].children.append(c[2])
        return c[0]

    def endpoints(self, c):
        if len(c) == 1:
            return Tree("endpoint_list", [self._endpoint(c[0])])
        c[0].children.append(self._endpoint(c[2]))
        return c[0]

    @staticmethod
    def _endpoint(token):
        alias = {"NAME": "named_endpoint", "ADDRESS": "network_endpoint", "INTERNET": "internet_endpoint"}
        return Tree(alias.get(token.type, "any_endpoint"), [] if token.type == "INTERNET" else [token])

    def topology(self, c):
        return Tree("topology", [c[1]])

    def zone(self, c):
        return Tree("zone", [c[1], *c[2:]])

    def zone_region(self, c):
        return Tree("zone_region", [c[1]])

    def zone_egress(self, c):
        return Tree("zone_egress", [c[1]])

    def zone_availability(self, c):
        return Tree("zone_availability", [c[1]])

    def region(self, c):
        return Tree("region", [c[1]] + ([c[3]] if len(c) > 3 else []))

    def targets(self, c):
        if len(c) == 1:
            return Tree("target_list", [c[0]])
        c[0].children.append(c[2])
        return c[0]

    def target(self, c):
        return Tree("target", [" ".join(str(t) for t in c)])

    def need(self, c):
        return Tree("need", [c[1]])

    def attributes(self, c):
        return c[0] + [c[1]] if len(c) > 1 else [c[0]]

    def component(self, c):
        children = [c[0], c[1]]
        for item in c[2:]:
            children.extend(item) if isinstance(item, list) else children.append(item)
        return Tree("component", children)

    def block(self, c):
        return Tree("block", [item for item in c if isinstance(item, Tree)])

    def cluster(self, c):
        return Tree("cluster", [c[1], *(c[2] if len(c) > 3 else []), c[-1]])

    def cluster_block(self, c):
        children = []
        for item in c:
            if isinstance(item, list):
                children.extend(item)
            elif isinstance(item, Tree):
                children.append(item)
        return Tree("cluster_block", children)

    def rule(self, c):
        return Tree("rule", [c[0], c[1], c[3], *c[4:]])

    def check(self, c):
        return Tree("check", c[1:])

    def _attribute(name):  # noqa: N805 - a factory used in the class body
        def make(self, c):
            return Tree(name, [x for x in c if not isinstance(x, Token) or x.type in _KEPT])

        return make

    zone_attr = _attribute("zone_attr")
    host_attr = _attribute("host_attr")
    address_attr = _attribute("address_attr")
    managed_attr = _attribute("managed_attr")
    listen_attr = _attribute("listen_attr")
    answer_attr = _attribute("answer_attr")
    role_attr = _attribute("role_attr")
    failover_attr = _attribute("failover_attr")
    clients_attr = _attribute("clients_attr")
    served_by_attr = _attribute("served_by_attr")
    egress_attr = _attribute("egress_attr")
    availability_attr = _attribute("availability_attr")
    quorum_attr = _attribute("quorum_attr")
    del _attribute


# The tokens of an attribute the formatter's trees keep (keywords and
# punctuation, kept by the grammar's '!' rules, are left out).
_KEPT = frozenset({"NAME", "ADDRESS", "PORT", "INT", "DECIMAL", "ANY", "PRIMARY", "REPLICA"})


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The LALR parser, building records (see :class:`_Records`) while it parses:
    built once per process, and kept between runs in the user's cache folder (see
    :func:`grammar_cache_path`), so a one-file run does not pay for compiling the
    grammar."""
    return _load_parser(transformer=_Records())


@lru_cache(maxsize=1)
def tree_parser() -> Lark:
    """The same parser building positioned trees, for the formatter only."""
    return _load_parser(transformer=_Trees(), propagate_positions=True)


def _load_parser(**options: object) -> Lark:
    """The compiled grammar from the cache with ``options`` (callbacks are not
    stored: the cache keeps the parse tables, and they are attached on load)."""
    cache = grammar_cache_path()
    stored = _read_cache(cache) if cache is not None else None
    if stored is not None:
        try:
            return Lark._load_from_dict(stored["data"], stored["memo"], **options)
        except Exception:  # tables of another shape: rebuild
            pass
    parser = Lark(grammar_text(), cache=False, **_LARK_OPTIONS)
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    if cache is not None:
        _store(_encode({"data": data, "memo": memo}), cache)
    return Lark._load_from_dict(data, memo, **options)


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
    return Path(folder) / f"grammar-{key}.json"


# The cache is JSON, which cannot run code when read (a pickle can). Lark's tables
# have integer keys and tuples, which JSON lacks: they are tagged.
_DICT, _TUPLE = "\u0000dict", "\u0000tuple"
#: Largest cache file read (the tables take about 100 KB).
_MAX_CACHE_BYTES = 4 * 1024 * 1024


def _encode(value: object) -> object:
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            return {key: _encode(item) for key, item in value.items()}
        return {_DICT: [[_encode(key), _encode(item)] for key, item in value.items()]}
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot store {type(value).__name__} in the grammar cache")


def _decode(value: dict) -> object:
    if _DICT in value:
        return {tuple(key) if isinstance(key, list) else key: item for key, item in value[_DICT]}
    if _TUPLE in value:
        return tuple(value[_TUPLE])
    return value


def _owned_and_private(info: os.stat_result) -> bool:
    """Ours alone: owned by this user and writable by nobody else."""
    owner = os.getuid() if hasattr(os, "getuid") else info.st_uid
    return info.st_uid == owner and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read_cache(cache: Path) -> dict | None:
    """The stored tables, or None to rebuild them: when the file is missing, damaged,
    too large, not a regular file (a FIFO is never waited on), or when it or its
    folder belongs to another user or can be written by others."""
    try:
        if not _owned_and_private(os.stat(cache.parent)):
            return None
        handle = os.open(cache, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode) or not _owned_and_private(info) or info.st_size > _MAX_CACHE_BYTES:
            return None
        with os.fdopen(handle, "rb") as stored:
            handle = -1
            data = json.loads(stored.read(_MAX_CACHE_BYTES + 1), object_hook=_decode)
        return data if isinstance(data, dict) and {"data", "memo"} <= set(data) else None
    except (OSError, ValueError, TypeError, RecursionError):
        return None
    finally:
        if handle >= 0:
            os.close(handle)


def _store(tables: object, cache: Path) -> None:
    """Write the compiled tables atomically (a temporary file, then a rename), so
    concurrent runs never read half a file. The folder is made private; a folder
    or an existing entry that is not ours (or not a regular file) is left alone,
    and a read-only home just skips the cache."""
    temporary = None
    try:
        cache.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _owned_and_private(os.stat(cache.parent)):
            return
        try:
            existing = os.lstat(cache)
            if not stat.S_ISREG(existing.st_mode) or not _owned_and_private(existing):
                return
        except FileNotFoundError:
            pass
        handle, temporary = tempfile.mkstemp(prefix=".grammar-", dir=str(cache.parent))
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(tables, out, separators=(",", ":"))
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
    statements: list | None  # the records of :class:`_Records`, in source order
    errors: tuple[Result, ...]


@dataclass(frozen=True)
class TreeOutcome:
    tree: Tree | None
    errors: tuple[Result, ...]


def parse(text: str, path: str) -> ParseOutcome:
    """Parse ``text`` into statement records; on errors, report each one (up to a
    limit) and give none. A well-formed file takes the fast path
    (:mod:`checker.fastparse`: the same records, as frozen :class:`~checker.fastparse.Record`
    objects); anything else, Lark's parser, which words the errors."""
    if _CONTROL.search(text) is None:
        from .fastparse import parse_fast

        fast = parse_fast(lark_parser(), text)
        if fast is not None:
            return ParseOutcome(fast, ())
    statements, errors = _parse_with(lark_parser(), text, path)
    return ParseOutcome(statements, errors)


def parse_tree(text: str, path: str) -> TreeOutcome:
    """Parse ``text`` into a positioned tree (for the formatter), with the same errors as :func:`parse`."""
    tree, errors = _parse_with(tree_parser(), text, path)
    return TreeOutcome(tree, errors)


# Characters no topology may hold, even in a comment or a string (the grammar's
# STRING and COMMENT exclude them too): C0 controls but tab and line feed, a
# carriage return not ending a line, DEL, C1, the line and paragraph separators,
# and the bidi overrides and isolates. Shown in a terminal or a review, they can
# clear the screen, hide the rest of a line or reorder what a reader sees.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]|\r(?!\n)")


def _control_characters(text: str, path: str) -> tuple[list[Result], str]:
    """A syntax error at the first control character of each line that has one
    (up to the error limit), and the text with those lines blanked, so the parser
    goes on to find the other mistakes."""
    if _CONTROL.search(text) is None:  # the common case: one scan
        return [], text
    errors: list[Result] = []
    blank: set[int] = set()
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        found = _CONTROL.search(line + ("\n" if number < len(lines) else ""))
        if found is None:
            continue
        column = found.start() + 1
        errors.append(Result(
            "syntax", Status.REFUTED, Severity.ERROR,
            f"control character U+{ord(found.group()):04X} is not allowed in a topology file",
            Span(path, number, column, number, column + 1), "parser",
            hint="delete it; only tabs and line ends may appear besides printable text",
        ))
        blank.add(number - 1)
        if len(errors) >= MAX_SYNTAX_ERRORS:
            break
    for index in blank:
        lines[index] = " " * len(lines[index].rstrip("\r"))
    return errors, "\n".join(lines)


def _parse_with(parser: Lark, text: str, path: str) -> tuple[object, tuple[Result, ...]]:
    errors, current = _control_characters(text, path)
    if len(errors) >= MAX_SYNTAX_ERRORS:
        return None, tuple(errors)
    seen: set[tuple[int, int]] = set()
    while True:
        try:
            built = parser.parse(current)
        except UnexpectedInput as exc:
            result = _unclosed_brace(exc, current, path) or _syntax_result(exc, current, path)
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
            break
        return built, ()
    errors.sort(key=lambda r: (r.span.line, r.span.column))
    return None, tuple(errors)


def token_span(first: Token, last: Token, path: str) -> Span:
    """The span from the start of ``first`` to the end of ``last``."""
    return Span(path, first.line, first.column, last.end_line, last.end_column)


def declarations(statements: list, path: str):
    """``(what, span)`` for every declaration that counts against a limit
    (``component``, ``cluster``, ``requirement``, ``rule``, ``check``), in source
    order; a cluster comes before its members."""
    for stmt in statements:
        tag = stmt[0]
        if tag == "component":
            yield tag, token_span(stmt[1], stmt[4], path)
        elif tag == "cluster":
            yield tag, token_span(stmt[1], stmt[5], path)
            for member in stmt[4]:
                yield "component", token_span(member[1], member[4], path)
        elif tag == "requirement":
            yield tag, token_span(stmt[1][0], stmt[4] or stmt[3][-1], path)
        elif tag == "rule":
            yield tag, token_span(stmt[1], stmt[4] or stmt[3][-1], path)
        elif tag == "check":
            yield tag, token_span(stmt[1], stmt[4], path)


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


# (the unrolled form: a run of plain characters is one single-character repeat, so a
# long string costs the regex engine no memory per character)
_STRING_OR_COMMENT = re.compile(r'"[^"\\\n]*(?:\\["\\][^"\\\n]*)*"|#[^\n]*')


_BRACES = re.compile("[{}]")
_FIRST_WORDS = re.compile(r"\s*\S+(?:\s+\S+)?")


@dataclass(frozen=True)
class _Brace:
    line: int
    column: int
    indent: int
    owner: str  # the words before it on its line: "db db3"
    seen_open_at: int | None = None  # the line whose indentation shows the block had ended


def _unclosed_brace(exc: UnexpectedInput, text: str, path: str) -> Result | None:
    """A syntax error inside a block of a file with more '{' than '}', reported once at
    the brace that was not closed rather than at the lines after it.

    Which brace is read from the layout: a block's lines are indented deeper than the
    line that opens it and its '}' starts a line at that line's indentation, or ends a
    line of its own. A brace is taken as unclosed when a later line that is not deeper
    (or a '}' less indented) shows its block had ended. Of those, the last one before
    the error that opens at or after the outermost block still open where the parser
    stopped is the one reported; with none (a file without indentation, say) the error
    is reported where the parser stopped, as any other. A brace left open only at the
    end of the file is the one reported only when the parser stopped there.
    """
    if exc.line in (None, -1):
        stop = (text.count("\n") + 2, 0)
    else:
        stop = (exc.line, exc.column)
    lines = [_STRING_OR_COMMENT.sub(lambda m: " " * len(m.group()), line) for line in text.split("\n")]
    if sum(line.count("{") for line in lines) <= sum(line.count("}") for line in lines):
        return None
    plain: list[tuple[int, int]] = []  # braces open where the parser stopped, matched plainly
    laid: list[_Brace] = []  # braces open by the layout
    unclosed: list[_Brace] = []
    for number, raw in enumerate(lines, 1):
        code = raw.expandtabs(8)
        content = code.lstrip()
        if not content.strip():
            continue
        indent = len(code) - len(content)
        if content[0] != "}":
            while laid and laid[-1].line < number and laid[-1].indent >= indent:
                unclosed.append(_seen_at(laid.pop(), number))
        # (each brace read in constant time: a line of a million braces is read in one pass)
        first_words = _FIRST_WORDS.match(raw)
        words_end = first_words.end() if first_words else 0  # the line's first two words end here
        leading = len(raw) - len(raw.lstrip())
        for found in _BRACES.finditer(raw):
            offset = found.start() + 1
            before_stop = (number, offset) < stop
            if found.group() == "{":
                if before_stop:
                    plain.append((number, offset))
                owner = " ".join(raw[: min(offset - 1, words_end)].split()[:2])  # the words before it
                laid.append(_Brace(number, offset, indent, owner))
            else:
                if before_stop and plain:
                    plain.pop()
                if offset - 1 <= leading:  # a '}' that starts its line
                    while laid and laid[-1].indent > indent:
                        unclosed.append(_seen_at(laid.pop(), number))
                if laid:
                    laid.pop()
    unclosed.extend(laid)  # still open at the end of the file
    if not plain:
        return None  # the parser did not stop inside a block
    at_end = isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END")
    candidates = [b for b in unclosed if plain[0] <= (b.line, b.column) < stop
                  and (b.seen_open_at <= stop[0] if b.seen_open_at else at_end)]
    if not candidates:
        return None
    brace = max(candidates, key=lambda b: (b.line, b.column))
    where = f", by the indentation before line {brace.seen_open_at}" if brace.seen_open_at else ""
    owner = f" of '{brace.owner}'" if brace.owner else ""
    return Result("syntax", Status.REFUTED, Severity.ERROR, f"{_UNCLOSED}; the '{{'{owner} is never closed",
                  Span(path, brace.line, brace.column, brace.line, brace.column + 1), "parser",
                  hint=f"add '}}' where its block ends{where}")


def _seen_at(brace: _Brace, line: int) -> _Brace:
    return _Brace(brace.line, brace.column, brace.indent, brace.owner, line)


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
