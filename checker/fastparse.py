"""The parser's fast path for well-formed files: Lark's tables, driven by one loop.

:func:`checker.parser.parse` parses with Lark's LALR parser and contextual
lexer. For a file with no syntax error, this module gives *the same records*
(:class:`checker.parser._Records`) several times faster and in a fraction of
the memory, from the very objects Lark compiled:

* the lexer of each parser state is Lark's own compiled pattern for that
  state (the terminals it accepts, in Lark's priority order), with Lark's
  keyword re-typing (a ``NAME`` that spells a keyword the state accepts) and
  its ignored terminals (``WS``, ``COMMENT``); the run of blanks before a token
  is skipped by the same match when that changes no token (:func:`_blanks_first`);
* the shift/reduce decisions are Lark's parse table, and every reduction calls
  Lark's own callback for the rule (its child filter, then the ``_Records``
  method), so records are built by the same code;
* only the loop is ours: lexing and parsing are fused, without the generator,
  the line counter object and the per-token dictionary look-ups of the general
  driver.

**Statements seen before are replayed.** Between two statements the parser is
always in the same configuration (the same stack of states, the list of
statements on top), and from there what the table does is a function of the
token *types* alone: the callbacks build tuples and lists from their children
and never look at a value. So the loop records, for each statement, the path
of its types in a trie (each node keeps the lexer of the state reached, the
end of the path where each token of the frozen statement comes from); the next
statement with the same types is lexed along the trie and frozen directly, with
no shift, reduction or callback. A file of a few statement shapes repeated
(every large file) parses two to three times faster. A type the trie does not
know hands the statement's tokens back to the loop, which parses and records
it; the trie is per parse and bounded (:data:`_MAX_NODES`).

Anything unusual (a character no terminal of the state matches, a token the
table has no action for) abandons the fast path: :func:`parse_fast` returns
``None`` and the caller parses with Lark, which reports the error exactly as
always. The records are therefore identical whenever both succeed
(``tests/test_fastparse.py`` compares them token by token on every model and
on generated files).

**Memory.** A large file has millions of tokens; Lark's tokens (a string
subclass with eight attributes and their integers) cost about 200 bytes each,
so the records of a 100k-component file alone would take gigabytes. Here each
finished statement is *frozen* when the parser reduces it: its tokens go into
three flat arrays of the file (value, start offset, type code; values are
interned, so a name used a thousand times is stored once), and the statement
keeps only its shape and the offset of its first token. Reading a record
(:class:`Record`) thaws it into the usual nested tuples and lists of
:class:`Tok` tokens, made on demand with the attributes of Lark's tokens
(``type``, ``value``, ``line``, ``column``, ``end_line``, ``end_column``,
``start_pos``, ``end_pos``); the line of an offset is found by bisection in
the file's line starts.
"""

from __future__ import annotations

import bisect
import gc
import re
from array import array
from contextlib import contextmanager

from lark import Lark
from lark.lexer import PatternStr
from lark.parsers.lalr_analysis import Shift

try:  # the reader of regular expressions, to read a terminal's first character
    from re import _parser as _sre_parse  # Python 3.11 and later
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre_parse  # type: ignore[no-redef]

__all__ = ["Record", "Tok", "parse_fast", "paused_gc"]


@contextmanager
def paused_gc():
    """The cyclic garbage collector off for the block (and back as it was after).

    Parsing, building the model and the engines' indexes allocate millions of small
    objects that all live until the file is done; every full collection walks each
    of them, which cost a third of the checking time for nothing. What a file's
    work leaves behind is freed by reference counting: it makes no garbage cycles
    (``tests/test_no_cycles.py`` checks whole runs of every check)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Source:
    """One parsed text's line starts and its token arrays (shared by its records)."""

    __slots__ = ("line_starts", "numbers", "values", "starts", "types", "type_names")

    def __init__(self, text: str, type_names: tuple[str, ...]) -> None:
        starts = array("l", [0])
        find = text.find
        at = find("\n")
        while at >= 0:
            starts.append(at + 1)
            at = find("\n", at + 1)
        self.line_starts = starts
        # one int object per line number, made when a token of the line is first made and
        # then shared by every token and span on the line (a large file's spans otherwise
        # hold a new one each: 61k more ints at 30k components); a slot per line, as the
        # line starts (a file of blank lines makes none)
        self.numbers: list[int | None] = [None] * (len(starts) + 1)
        self.values: list[str] = []
        self.starts = array("i")
        self.types = bytearray()
        self.type_names = type_names


class Tok(str):
    """A token of a well-formed file, with the attributes of :class:`lark.Token`.

    ``str(tok)`` is the interned value, so names taken from tokens are shared. No
    token of a record spans lines (names, strings and numbers never hold a newline)."""

    __slots__ = ("type", "value", "start_pos", "line", "column")

    def __str__(self) -> str:
        return self.value

    @property
    def end_line(self) -> int:
        return self.line

    @property
    def end_column(self) -> int:
        return self.column + len(self.value)

    @property
    def end_pos(self) -> int:
        return self.start_pos + len(self.value)

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r})"

    def __reduce__(self):
        return (str, (self.value,))


class _LexTok(str):
    """A token as the fast lexer makes it: only what freezing keeps."""

    __slots__ = ("type", "value", "start_pos")


_new_str = str.__new__
_TOKEN = object()  # where a token goes in a frozen statement's shape


class _Shape:
    """The shape of a frozen statement, shared by statements alike: the nested
    tuples and lists with :data:`_TOKEN` for each token, and the index (from the
    statement's first token) where each top-level part's tokens start."""

    __slots__ = ("parts", "offsets", "count", "_items", "_tokens")

    def __init__(self, parts: tuple) -> None:
        self.parts = parts
        offsets = []
        count = 0
        for part in parts:
            offsets.append(count)
            count += _count(part)
        self.offsets = tuple(offsets)
        self.count = count  # of tokens
        self._items: dict[int, list[tuple[_Shape, int]]] | None = None
        self._tokens: dict[int, list[tuple]] | None = None  # see item_tokens

    def items(self, index: int) -> list[tuple[_Shape, int]]:
        """For a list part of statements (a cluster's members): each item's own shape,
        and where its tokens start from the part's first (once per shape)."""
        if self._items is None:
            self._items = {}
        hit = self._items.get(index)
        if hit is None:
            hit = self._items[index] = []
            count = 0
            for item in self.parts[index]:
                hit.append((_Shape(item), count))
                count += _count(item)
        return hit


    def item_tokens(self, index: int) -> list[tuple]:
        """See :meth:`Record.item_tokens` (once per shape)."""
        if self._tokens is None:
            self._tokens = {}
        hit = self._tokens.get(index)
        if hit is None:
            base = self.offsets[index]
            hit = self._tokens[index] = [
                tuple(base + offset + item.offsets[at] if part is _TOKEN
                      else part if part is None or part.__class__ is str else False
                      for at, part in enumerate(item.parts))
                for item, offset in self.items(index)]
        return hit


def _count(shape) -> int:
    if shape is _TOKEN:
        return 1
    if shape.__class__ is tuple or shape.__class__ is _ListShape:
        return sum(_count(part) for part in shape)
    return 0


class _ListShape(tuple):
    """The shape of a list in a frozen statement (a tuple of the items' shapes)."""

    __slots__ = ()


class Record:
    """A parsed statement, frozen: reads as the tuple :class:`checker.parser._Records`
    made (indexing, ``len``, iteration and unpacking thaw it into fresh tokens)."""

    __slots__ = ("_shape", "_first", "_source")

    def __init__(self, shape: _Shape, first: int, source: _Source) -> None:
        self._shape = shape
        self._first = first
        self._source = source

    def thaw(self) -> tuple:
        return _Thaw(self._source, self._first).value(self._shape.parts)

    def __getitem__(self, index):
        parts = self._shape.parts
        part = parts[index]
        if part is None or part.__class__ is str:
            return part  # the tag, or an empty slot: no tokens to make
        if index < 0:
            index += len(parts)
        return _Thaw(self._source, self._first + self._shape.offsets[index]).value(part)

    def __len__(self) -> int:
        return len(self._shape.parts)

    def length(self, index: int) -> int:
        """``len(self[index])`` for a list part, without thawing it."""
        return len(self._shape.parts[index])

    def flat(self) -> tuple[bytes, list[str], array, tuple[int, ...]]:
        """The statement's tokens without :class:`Tok` objects, for a caller that needs
        none: (their type codes (names in :attr:`type_names`), values and start
        offsets, in order; where each top-level part's tokens start). Positions by
        :meth:`position`."""
        first = self._first
        last = first + self._shape.count
        source = self._source
        return bytes(source.types[first:last]), source.values[first:last], source.starts[first:last], \
            self._shape.offsets

    @property
    def type_names(self) -> tuple[str, ...]:
        """The token type of each code :meth:`flat` gives."""
        return self._source.type_names

    def position(self, offset: int) -> tuple[int, int]:
        """The (line, column) of a start offset :meth:`flat` gave, as its token's."""
        line_starts = self._source.line_starts
        line = _number(self._source.numbers, bisect.bisect_right(line_starts, offset))
        return line, offset - line_starts[line - 1] + 1

    @property
    def shape(self) -> object:
        """A key shared by the statements of this one shape (the same parts, tags and
        tokens in the same places): what :meth:`item_tokens` gives depends on it alone."""
        return self._shape

    def item_tokens(self, index: int) -> list[tuple]:
        """For a list part (a component's attributes): per item, its parts, each as the
        place of its token in :meth:`flat` when it is one token, ``None`` when it is
        empty, ``False`` when it is anything else (several tokens); a tag is itself."""
        return self._shape.item_tokens(index)

    def positions(self, starts) -> list[tuple[int, int]]:
        """The (line, column) of each start offset :meth:`flat` gave, as :meth:`position`
        gives them (a start on the line of the one before needs no search)."""
        line_starts = self._source.line_starts
        numbers = self._source.numbers
        out = []
        begin = end = 0
        line = 1
        for start in starts:
            if not begin <= start < end:
                index = bisect.bisect_right(line_starts, start)
                line = _number(numbers, index)
                begin = line_starts[index - 1]
                end = line_starts[index] if index < len(line_starts) else 1 << 62
            out.append((line, start - begin + 1))
        return out

    def items(self, index: int) -> list[Record]:
        """The items of a list part of statements (a cluster's members), each a frozen
        record of its own: ``self[index]`` would thaw all of them at once."""
        first = self._first + self._shape.offsets[index]
        return [Record(shape, first + offset, self._source) for shape, offset in self._shape.items(index)]

    def __iter__(self):
        return iter(self.thaw())

    def __eq__(self, other) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, Record) else other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.thaw())


def _number(numbers: list[int | None], line: int) -> int:
    """The one int object of a line number (see :attr:`_Source.numbers`)."""
    shared = numbers[line]
    if shared is None:
        numbers[line] = shared = line
    return shared


class _Thaw:
    """Makes the tokens of a frozen statement in order (a token on the line of the one
    before needs no search for its line)."""

    __slots__ = ("values", "starts", "types", "names", "line_starts", "numbers", "index", "line", "next_line")

    def __init__(self, source: _Source, index: int) -> None:
        self.values, self.starts, self.types = source.values, source.starts, source.types
        self.names = source.type_names
        self.line_starts = source.line_starts
        self.numbers = source.numbers
        self.index = index
        line = _number(self.numbers, bisect.bisect_right(self.line_starts, self.starts[index])) \
            if index < len(self.starts) else 1
        self.line = line
        self.next_line = self.line_starts[line] if line < len(self.line_starts) else 1 << 62

    def value(self, shape):
        if shape is _TOKEN:
            return self.token()
        cls = shape.__class__
        if cls is tuple or cls is _ListShape:
            items = [self.token() if part is _TOKEN
                     else part if part is None or part.__class__ is str
                     else self.value(part)
                     for part in shape]
            return items if cls is _ListShape else tuple(items)
        return shape  # None or a tag

    def token(self) -> Tok:
        index = self.index
        self.index = index + 1
        pos = self.starts[index]
        if pos >= self.next_line or pos < self.line_starts[self.line - 1]:  # not on the line of the one before
            self.line = _number(self.numbers, bisect.bisect_right(self.line_starts, pos))
            self.next_line = self.line_starts[self.line] if self.line < len(self.line_starts) else 1 << 62
        value = self.values[index]
        tok = _new_str(Tok, value)
        tok.value = value
        tok.type = self.names[self.types[index]]
        tok.start_pos = pos
        tok.line = self.line
        tok.column = pos - self.line_starts[self.line - 1] + 1
        return tok


class _Freezer:
    """Turns statements into :class:`Record` objects, storing their tokens in the arrays."""

    def __init__(self, source: _Source, codes: dict[str, int]) -> None:
        self.source = source
        self.codes = codes
        self.shapes: dict[tuple, _Shape] = {}
        self.interned: dict[str, str] = {}

    def freeze(self, statement: tuple) -> Record:
        first = len(self.source.values)
        parts = self._shape(statement)
        shape = self.shapes.get(parts)
        if shape is None:
            shape = self.shapes[parts] = _Shape(parts)
        return Record(shape, first, self.source)

    def _shape(self, node):
        cls = node.__class__
        if cls is _LexTok:
            source = self.source
            value = node.value
            source.values.append(self.interned.setdefault(value, value))
            source.starts.append(node.start_pos)
            source.types.append(self.codes[node.type])
            return _TOKEN
        if cls is tuple:
            return tuple([self._shape(item) for item in node])
        if cls is list:
            return _ListShape([self._shape(item) for item in node])
        if node is None or cls is str:
            return node
        raise TypeError(f"unexpected {cls.__name__} in a parsed statement")


class _Unusual(Exception):
    """The fast path cannot go on: Lark parses the file instead."""


class FastParser:
    """The fused lexer and parser of one compiled Lark parser (see the module doc)."""

    def __init__(self, parser: Lark) -> None:
        frontend = parser.parser
        lexer = frontend.lexer
        lalr = frontend.parser.parser
        table = lalr.parse_table
        callbacks = lalr.callbacks
        if any(isinstance(key, str) for key in callbacks):
            raise _Unusual("terminal callbacks")
        names: dict[str, int] = {}
        # per state: (match, ignored types, types that may hold a newline, keyword re-typing)
        self.lexers: dict[int, tuple] = {}
        built: dict[int, tuple] = {}
        for state, state_lexer in lexer.lexers.items():
            hit = built.get(id(state_lexer))
            if hit is None:
                scanner = state_lexer.scanner
                if len(scanner._mres) != 1:
                    raise _Unusual("split scanner")
                retype: dict[str, str] = {}
                for type_, callback in state_lexer.callback.items():
                    if type_ != "NAME" or not hasattr(callback, "scanner"):
                        raise _Unusual(f"lexer callback for {type_}")
                    for terminal in callback.scanner.terminals:
                        if not isinstance(terminal.pattern, PatternStr) or terminal.pattern.flags:
                            raise _Unusual("keyword pattern")
                        retype[terminal.pattern.value] = terminal.name
                hit = built[id(state_lexer)] = (_blanks_first(scanner), state_lexer.ignore_types,
                                                state_lexer.newline_types, retype)
                for name in scanner.allowed_types | set(retype.values()):
                    names.setdefault(name, len(names))
            self.lexers[state] = hit
        self.type_names = tuple(names)
        self.codes = names
        # actions: shift -> the next state (an int); reduce -> (size, callback, rule origin)
        self.actions: dict[int, dict[str, object]] = {}
        self.gotos: dict[int, dict[str, int]] = {}
        for state, row in table.states.items():
            actions: dict[str, object] = {}
            gotos: dict[str, int] = {}
            for symbol, (action, arg) in row.items():
                if action is Shift:
                    actions[symbol] = arg
                    gotos[symbol] = arg
                else:
                    callback = callbacks[arg]
                    if arg.origin.name == "statements":
                        callback = _freezing(callback)
                    actions[symbol] = (len(arg.expansion), callback, arg.origin.name)
            self.actions[state] = actions
            self.gotos[state] = gotos
        self.start = table.start_states["start"]
        self.end = table.end_states["start"]
        self._freezer: _Freezer | None = None
        self._nodes = 0  # memo nodes of the parse in progress

    def parse(self, text: str) -> list | None:
        """The statement records of ``text`` (as :class:`Record` objects), or None when
        the fast path gives up (then Lark must parse it)."""
        source = _Source(text, self.type_names)
        self._freezer = _Freezer(source, self.codes)
        self._nodes = 0
        try:
            return self._run(text, source)
        except _Unusual:
            return None
        finally:
            self._freezer = None

    def _run(self, text: str, source: _Source):
        """Parse ``text``: Lark's loop (:meth:`_slow`) up to the first statement, then
        each statement whose token types were seen before replayed from the memo
        (:meth:`_replay`), the others parsed by the loop, which records them."""
        freezer = self._freezer
        _FREEZER[0] = freezer
        try:
            states, values = [self.start], []
            pending: list = []
            pos = 0
            roots: dict[tuple, _Node] = {}
            recording = None
            replayed = wasted = 0  # tokens of statements replayed, and walked in vain
            while True:
                pos, pending, boundary = self._slow(text, pos, states, values, pending, recording)
                if boundary is None:
                    return pending  # the end: the result
                # (a statement ends at its lookahead, so one token is pending); once more
                # tokens were walked in vain than were replayed, the loop parses the rest alone
                if len(pending) != 1 or wasted > max(_TRIAL, replayed):
                    recording = None
                    continue
                key = tuple(states)
                root = roots.get(key)
                if root is None:
                    root = roots[key] = _Node(self.lexers[states[-1]])
                if recording is not None and recording.root is root and boundary[1] is recording.statements:
                    self._remember(recording, boundary[1][-1], source)
                statements = values[-1]
                pos, pending, walked = self._replay(text, pos, root, pending[0], statements, source, freezer)
                replayed += walked
                wasted += len(pending)
                recording = _Recording(root, statements)
        finally:
            _FREEZER[0] = None

    def _slow(self, text: str, pos: int, states: list, values: list, pending: list, recording):
        """Lark's tables driven token by token, the tokens of ``pending`` (``(type, value,
        start)``) first, up to the next reduction of ``statements`` (then ``(pos, the
        tokens not consumed, the lookahead first, (children, result))``) or the end of
        the file (``(pos, the parse's result, None)``). With a ``recording``, each token
        and the state it is shifted into are noted for :meth:`_remember`."""
        lexers, actions_of, gotos = self.lexers, self.actions, self.gotos
        end_state = self.end
        state = states[-1]
        end = len(text)
        new, token_class = _new_str, _LexTok
        taken = 0
        seen = recording.tokens if recording is not None else None
        shifted = recording.states if recording is not None else None
        while True:
            if taken < len(pending):
                type_, value, start = pending[taken]
                taken += 1
            elif pos < end:  # lexed as in _replay, inline: a call per token costs a tenth of the parse
                match, ignored, newline, retype = lexers[state]
                found = match(text, pos)
                if found is None:
                    raise _Unusual("no terminal matches")
                type_ = found.lastgroup
                after = found.end()
                if type_ in ignored:
                    pos = after
                    continue
                value = found.group(type_)  # (after the blanks the pattern may skip: see _blanks_first)
                if type_ == "NAME":
                    type_ = retype.get(value, type_)
                start = after - len(value)
                pos = after
            else:
                type_, value, start = "$END", "", end
            if type_ == "$END":
                token = None
            else:
                token = new(token_class, value)
                token.value = value
                token.type = type_
                token.start_pos = start
            if seen is not None:
                seen.append((type_, value, start))
                if len(seen) > _MAX_RECORDED:  # not a statement worth a memo entry: forget it
                    seen.clear()
                    shifted.clear()
                    seen = shifted = None
            while True:
                action = actions_of[state].get(type_)
                if action is None:
                    raise _Unusual("no action")
                if action.__class__ is int:
                    states.append(action)
                    values.append(token)
                    state = action
                    if shifted is not None:
                        shifted.append(action)
                    break
                size, callback, origin = action
                if size:
                    children = values[-size:]
                    del values[-size:]
                    del states[-size:]
                else:
                    children = []
                result = callback(children)
                state = gotos[states[-1]].get(origin)
                if state is None:
                    raise _Unusual("no goto")
                if type_ == "$END" and state == end_state:
                    return pos, result, None
                states.append(state)
                values.append(result)
                if origin == "statements":
                    rest = [(type_, value, start), *pending[taken:]]
                    return pos, rest, (children, result)

    def _remember(self, recording: _Recording, record: Record, source: _Source) -> None:
        """Store the statement just parsed from ``recording.root``: the trie path of its
        token types (each node with the lexer of the state its token was shifted into),
        ending, at the lookahead's type, in where each frozen token comes from."""
        tokens, shifted = recording.tokens, recording.states
        if len(shifted) != len(tokens) - 1 or self._nodes > _MAX_NODES:
            return
        lexers = self.lexers
        node = recording.root
        for (type_, _, _), state in zip(tokens, shifted):
            child = node.next.get(type_)
            if child is None:
                child = node.next[type_] = _Node(lexers[state])
                self._nodes += 1
            elif child.__class__ is not _Node:
                return  # cannot happen: the parse is a function of the types
            node = child
        first = record._first
        index = {start: at for at, (_, _, start) in enumerate(tokens)}
        slots = tuple(index[start] for start in source.starts[first:])
        node.next[tokens[-1][0]] = _Done(record._shape, slots, bytes(source.types[first:]))

    def _replay(self, text: str, pos: int, root: _Node, lookahead: tuple, statements: list, source: _Source,
                freezer: _Freezer) -> tuple[int, list, int]:
        """Statements parsed from the memo, lexed with the lexer each trie node keeps,
        appended to ``statements`` as :meth:`_slow` would; at the first token the trie
        does not know, ``(pos, the statement's tokens so far, the number of tokens
        replayed)`` for :meth:`_slow`."""
        end = len(text)
        values, starts, types = source.values, source.starts, source.types
        intern = freezer.interned.setdefault
        append = statements.append
        node = root
        tokens: list = []
        token = lookahead
        walked = 0
        while True:
            if token is None:
                if pos < end:  # lexed as in _slow (see there)
                    match, ignored, newline, retype = node.lexer
                    found = match(text, pos)
                    if found is None:
                        raise _Unusual("no terminal matches")
                    type_ = found.lastgroup
                    after = found.end()
                    if type_ in ignored:
                        pos = after
                        continue
                    value = found.group(type_)  # (after the blanks the pattern may skip)
                    if type_ == "NAME":
                        type_ = retype.get(value, type_)
                    token = (type_, value, after - len(value))
                    pos = after
                else:
                    token = ("$END", "", end)
            step = node.next.get(token[0])
            if step is None:
                tokens.append(token)
                return pos, tokens, walked
            if step.__class__ is _Done:
                walked += len(tokens)
                first = len(values)
                for slot in step.slots:
                    value = tokens[slot][1]
                    values.append(intern(value, value))
                    starts.append(tokens[slot][2])
                types.extend(step.codes)
                append(Record(step.shape, first, source))
                node = root
                tokens = []
                continue  # the lookahead starts the next statement
            tokens.append(token)
            node = step
            token = None


def _blanks_first(scanner):
    """The ``match`` of a state's lexer: Lark's compiled pattern, behind the ignored
    ``WS`` terminal's run of blanks when that changes no token.

    The text between two tokens is nearly always blanks, so the loop would match
    twice per token: the blanks (ignored), then the token. Lark tries a state's
    terminals in its order at each position. When no terminal of the state but
    ``WS`` can match text that starts with a blank, at a blank only ``WS`` matches,
    and it takes the whole run; so skipping the run first and matching Lark's
    pattern after it gives the same tokens at the same places, in one match (the
    token is the named group that matched; a failure after the run backs off to
    ``WS`` itself, as before). When a terminal might start with a blank, or ``WS``
    is not the pattern this assumes, Lark's pattern is used as it is."""
    compiled = scanner._mres[0]
    blanks = next((t for t in scanner.terminals if t.name == "WS"), None)
    if blanks is None or blanks.pattern.to_regexp() not in ("[ \t]+", "[ \\t]+") or blanks.pattern.flags:
        return compiled.match
    for terminal in scanner.terminals:
        if terminal is not blanks and _may_start_blank(terminal.pattern.to_regexp(), terminal.pattern.flags):
            return compiled.match
    return re.compile("[ \\t]*(?:" + compiled.pattern + ")", compiled.flags).match


def _may_start_blank(pattern: str, flags) -> bool:
    """Whether a match of ``pattern`` may start with a space or a tab (True when the
    pattern holds something this reading does not know)."""
    if flags:
        return True
    try:
        parsed = _sre_parse.parse(pattern)
    except Exception:  # noqa: BLE001 - unreadable here: assume the worst
        return True
    return _first(list(parsed))[0]


_BLANKS = (ord(" "), ord("\t"))


def _first(items: list) -> tuple[bool, bool]:
    """(whether the sequence of regex items may match starting with a blank, whether
    it may match the empty string)."""
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            return av in _BLANKS, False
        if name == "IN":
            return _class_has_blank(av), False
        if name == "SUBPATTERN":
            blank, empty = _first(list(av[-1]))
        elif name == "BRANCH":
            results = [_first(list(branch)) for branch in av[1]]
            blank, empty = any(r[0] for r in results), any(r[1] for r in results)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            blank, empty = _first(list(av[2]))
            empty = empty or av[0] == 0
        elif name == "AT":
            blank, empty = False, True
        else:  # anything else (any character, a back reference, a look-around...)
            return True, True
        if blank:
            return True, empty
        if not empty:
            return False, False
    return False, True


def _class_has_blank(items) -> bool:
    """Whether a character class (the items of an ``IN``) holds a blank."""
    negated = False
    found = {code: False for code in _BLANKS}
    for op, av in items:
        name = str(op)
        if name == "NEGATE":
            negated = True
        elif name == "LITERAL":
            if av in found:
                found[av] = True
        elif name == "RANGE":
            for code in found:
                found[code] = found[code] or av[0] <= code <= av[1]
        else:  # a category (\\s, \\w...): assume it may
            return True
    return any(not hit for hit in found.values()) if negated else any(found.values())


# Tokens walked in vain (a statement that leaves the memo is walked, then parsed by the loop)
# before the memo is judged: past them, when more were walked in vain than were replayed, the
# memo is dropped for the rest of the file (statements each one token longer than the last).
_TRIAL = 4096

# A statement of more tokens than this is not remembered (nor are its tokens kept while it is
# read): a run of a million separators between two statements would otherwise be kept whole.
_MAX_RECORDED = 4096

# At most this many memo nodes per parser (a file of statements all unlike each other
# would otherwise keep a node per token).
_MAX_NODES = 50_000


class _Node:
    """A memo node: the lexer of the parser's state here, and the next node (or the
    statement's end, :class:`_Done`) for each token type."""

    __slots__ = ("lexer", "next")

    def __init__(self, lexer: tuple) -> None:
        self.lexer = lexer
        self.next: dict[str, _Node | _Done] = {}


class _Done:
    """A statement parsed before: its frozen shape, which of its tokens fills each
    frozen slot, and the slots' type codes."""

    __slots__ = ("shape", "slots", "codes")

    def __init__(self, shape: _Shape, slots: tuple[int, ...], codes: bytes) -> None:
        self.shape, self.slots, self.codes = shape, slots, codes


class _Recording:
    """The tokens :meth:`FastParser._slow` reads from a statement boundary, and the
    state each is shifted into."""

    __slots__ = ("root", "statements", "tokens", "states")

    def __init__(self, root: _Node, statements: list) -> None:
        self.root, self.statements = root, statements
        self.tokens: list = []
        self.states: list = []


# The freezer of the parse in progress (a parse runs to its end before another starts).
_FREEZER: list = [None]


def _freezing(callback):
    """Lark's callback for ``statements``, freezing the statement it has just appended."""

    def reduce(children):
        out = callback(children)
        out[-1] = _FREEZER[0].freeze(out[-1])
        return out

    return reduce


_PARSERS: dict[int, FastParser | None] = {}


def parse_fast(parser: Lark, text: str) -> list | None:
    """The records of ``text`` through the fast path of ``parser``, or None (see the module doc)."""
    fast = _PARSERS.get(id(parser), False)
    if fast is False:
        try:
            fast = FastParser(parser)
        except _Unusual:
            fast = None
        _PARSERS[id(parser)] = fast
    if fast is None:
        return None
    return fast.parse(text)
