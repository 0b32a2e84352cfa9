"""Parser and evaluator for the subset of the Data X-Ray query language (``q`` of ``GET /api/v1/files``).

Grammar (the query language of ``docs/dxr-api.md`` §2.5)::

    query     := or_expr EOF
    or_expr   := and_expr ("OR" and_expr)*
    and_expr  := not_expr (["AND"] not_expr)*         # adjacent clauses = AND
    not_expr  := "NOT" not_expr | primary
    primary   := "(" or_expr ")" | clause
    clause    := FIELD ":" STRING                     # case-insensitive exact match, or wildcard with *
               | FIELD ":" "{" or_expr "}"            # one array element must satisfy the inner expression
               | FIELD CMP VALUE                      # CMP: > >= < <= = ; comparable fields only
    FIELD     := ident ("." ident)*
    STRING    := '"' ( [^"\\] | '\\"' | '\\\\' | '\\*' | '\\' any )* '"'
    VALUE     := number | ISO date-time (with time part) | now | now(+|-)N(s|m|h|d|w|M|y)

Precedence NOT > AND > OR. Keywords are uppercase only; ``and``/``or``/``not`` in any other case are errors.
Errors raise :class:`QuerySyntaxError` (a ``ValueError``) with an ANTLR-style message, e.g. ``line 1:5 no
viable alternative at input 'size:>'``.

Semantics decided here (the server is the authority on the real API):

* a dotted path walks nested objects; arrays anywhere on the path are flattened, and a term matches if ANY
  reached value matches (so ``labels.name:"A" AND labels.name:"B"`` = files having both);
* a quoted value without ``*`` is a case-insensitive exact match; with ``*`` it is a case-insensitive wildcard
  match over the whole value (``"*x*"`` = contains); ``"*"`` matches any present scalar value;
  case-insensitive means both sides are compared after ``str.lower()``; ``\\*`` is a literal asterisk; any
  other ``\\c`` is the literal ``c``;
* numbers/booleans are matched by their JSON text (``size:"1024"``, ``x:"true"``); objects/arrays never match
  a term; a missing field or ``null`` never matches;
* unknown field names are accepted and match nothing;
* comparisons are allowed only on ``size``, ``annotators.uniquePhrases``, ``createdAt``, ``lastModifiedAt``,
  ``coordinates.lat``/``lon``/``alt`` (paths inside ``{}`` are resolved relative to the enclosing field); date
  fields need an ISO date-time (``2026-03-12T00:00:00Z``; missing offset = UTC) or ``now[+-]N<unit>`` (``M``
  and ``y`` are calendar months/years); numeric fields need a number;
* ``_exists_`` is rejected.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import orjson

__all__ = ["QuerySyntaxError", "Predicate", "parse_query", "COMPARABLE_FIELDS", "is_match_all"]


class QuerySyntaxError(ValueError):
    """Query outside the supported subset; ``str(err)`` is the plain-text 400 body."""


NUMERIC_FIELDS = frozenset(
    {"size", "annotators.uniquePhrases", "coordinates.lat", "coordinates.lon", "coordinates.alt"}
)
DATE_FIELDS = frozenset({"createdAt", "lastModifiedAt"})
COMPARABLE_FIELDS = NUMERIC_FIELDS | DATE_FIELDS

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_WORD_RE = re.compile(r"[^\s(){}\":<>=]+")
_BARE_VALUE_RE = re.compile(r"[^\s(){}\"]+")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|z|[+-]\d{2}:?\d{2})?"
)
_DATE_ONLY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RELATIVE_RE = re.compile(r"now(?:([+-])(\d+)([smhdwMy]))?")
_KEYWORDS = ("AND", "OR", "NOT")
_CMP_OPS = (">=", "<=", ">", "<", "=")
_MATCH_ALL_RE = re.compile(r'\s*fileName\s*:\s*"\*"\s*')


def is_match_all(q: str | None) -> bool:
    """True for the conventional match-all query ``fileName:"*"`` (whitespace tolerated)."""
    return q is not None and _MATCH_ALL_RE.fullmatch(q) is not None


# -- Value access -----------------------------------------------------------------------------------------


def _make_getter(parts: tuple[str, ...]) -> Callable[[object], list]:
    """Return ``f(obj) -> list`` of the values reached by the path; arrays are flattened at every level."""

    def collect(obj, i, out):
        if isinstance(obj, list):
            for e in obj:
                collect(e, i, out)
            return
        if i == len(parts):
            if obj is not None:
                out.append(obj)
            return
        if isinstance(obj, dict):
            v = obj.get(parts[i])
            if v is not None:
                collect(v, i + 1, out)

    if len(parts) == 1:
        p0 = parts[0]

        def get1(obj):
            if isinstance(obj, dict):
                v = obj.get(p0)
                if v is None:
                    return []
                if isinstance(v, list):
                    out: list = []
                    collect(v, 1, out)
                    return out
                return [v]
            out = []
            collect(obj, 0, out)
            return out

        return get1

    def get(obj):
        out: list = []
        collect(obj, 0, out)
        return out

    return get


def _scalar_text(v) -> str | None:
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, int, float)):
        return orjson.dumps(v).decode()
    return None


# -- AST nodes: each compiles to a closure obj -> bool and can report the literals every match
# must contain (for the prefilter).


class _Node:
    def compile(self) -> Callable[[object], bool]:  # pragma: no cover - abstract
        raise NotImplementedError

    def required_literals(self) -> list[str]:
        """Literal substrings (original case) that every matching record's values must contain."""
        return []


class _Term(_Node):
    def __init__(self, path: str, segments: list):
        self.path = path
        self.segments = segments  # list of str and None (None = '*')

    def compile(self):
        getter = _make_getter(tuple(self.path.split(".")))
        segs = self.segments
        if all(s is None for s in segs):  # "*" (or "**"): any present scalar

            def match_any(obj):
                for v in getter(obj):
                    if _scalar_text(v) is not None:
                        return True
                return False

            return match_any
        if None not in segs:
            target = "".join(segs).lower()

            def match_exact(obj):
                for v in getter(obj):
                    if isinstance(v, str):
                        if v.lower() == target:
                            return True
                    else:
                        t = _scalar_text(v)
                        if t is not None and t.lower() == target:
                            return True
                return False

            return match_exact
        # Case-insensitivity = compare lower-cased text (same rule as the exact match; no re.IGNORECASE, whose
        # extra equivalences such as "ſ" ~ "s" would differ from str.lower()).
        pattern = "".join(".*" if s is None else re.escape(s.lower()) for s in segs)
        fullmatch = re.compile(pattern, re.DOTALL).fullmatch

        def match_wild(obj):
            for v in getter(obj):
                t = v if isinstance(v, str) else _scalar_text(v)
                if t is not None and fullmatch(t.lower()) is not None:
                    return True
            return False

        return match_wild

    def required_literals(self):
        return [s for s in self.segments if s]


class _Compare(_Node):
    def __init__(self, path: str, op: str, value: float | datetime, is_date: bool):
        self.path = path
        self.op = op
        self.value = value
        self.is_date = is_date

    def compile(self):
        getter = _make_getter(tuple(self.path.split(".")))
        op = self.op
        if self.is_date:
            target = self.value.timestamp()

            def conv(v):
                if not isinstance(v, str):
                    return None
                try:
                    d = datetime.fromisoformat(v)
                except ValueError:
                    return None
                if d.tzinfo is None:
                    d = d.replace(tzinfo=timezone.utc)
                return d.timestamp()

        else:
            target = self.value

            def conv(v):
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    return None
                return v

        if op == ">":
            cmp = lambda x: x > target  # noqa: E731
        elif op == ">=":
            cmp = lambda x: x >= target  # noqa: E731
        elif op == "<":
            cmp = lambda x: x < target  # noqa: E731
        elif op == "<=":
            cmp = lambda x: x <= target  # noqa: E731
        else:
            cmp = lambda x: x == target  # noqa: E731

        def match(obj):
            for v in getter(obj):
                x = conv(v)
                if x is not None and cmp(x):
                    return True
            return False

        return match


class _Nested(_Node):
    def __init__(self, path: str, inner: _Node):
        self.path = path
        self.inner = inner

    def compile(self):
        getter = _make_getter(tuple(self.path.split(".")))
        inner = self.inner.compile()

        def match(obj):
            for el in getter(obj):
                if isinstance(el, dict) and inner(el):
                    return True
            return False

        return match

    def required_literals(self):
        return self.inner.required_literals()


class _And(_Node):
    def __init__(self, items: list[_Node]):
        self.items = items

    def compile(self):
        fns = [n.compile() for n in self.items]
        if len(fns) == 2:
            a, b = fns
            return lambda obj: a(obj) and b(obj)
        return lambda obj: all(f(obj) for f in fns)

    def required_literals(self):
        out = []
        for n in self.items:
            out.extend(n.required_literals())
        return out


class _Or(_Node):
    def __init__(self, items: list[_Node]):
        self.items = items

    def compile(self):
        fns = [n.compile() for n in self.items]
        return lambda obj: any(f(obj) for f in fns)


class _Not(_Node):
    def __init__(self, item: _Node):
        self.item = item

    def compile(self):
        f = self.item.compile()
        return lambda obj: not f(obj)


class Predicate:
    """A compiled query: ``predicate(record_dict) -> bool``."""

    def __init__(self, query: str, root: _Node):
        self.query = query
        self._root = root
        self._fn = root.compile()

    def __call__(self, record: dict) -> bool:
        return bool(self._fn(record))

    def required_literals(self) -> list[str]:
        """Literal substrings the value text of any matching record must contain (for cheap prefiltering)."""
        return self._root.required_literals()

    def __repr__(self) -> str:
        return f"Predicate({self.query!r})"


# -- Parser (scannerless recursive descent; positions are 0-based columns as in ANTLR messages) ----------


def _add_months(d: datetime, months: int) -> datetime:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return d.replace(year=year, month=month, day=day)


class _Parser:
    def __init__(self, text: str, now: datetime):
        if "\n" in text or "\r" in text:
            text = text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
        self.s = text
        self.n = len(text)
        self.pos = 0
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        self.now = now

    # -- helpers ---------------------------------------------------------------------------------------------
    def error(self, pos: int, msg: str):
        raise QuerySyntaxError(f"line 1:{pos} {msg}")

    def ws(self):
        s, n, p = self.s, self.n, self.pos
        while p < n and s[p].isspace():
            p += 1
        self.pos = p

    def token_at(self, p: int) -> str:
        """Text of the token starting at ``p`` (for messages)."""
        s = self.s
        if p >= self.n:
            return "<EOF>"
        c = s[p]
        if c in "(){}:":
            return c
        if c == '"':
            end = p + 1
            while end < self.n and s[end] != '"':
                end += 2 if s[end] == "\\" else 1
            return s[p : min(end + 1, self.n)]
        if s.startswith(">=", p) or s.startswith("<=", p):
            return s[p : p + 2]
        if c in "<>=":
            return c
        m = _WORD_RE.match(s, p)
        return m.group(0) if m else c

    def no_viable(self, start: int, bad: int):
        text = self.s[start:bad] + (self.token_at(bad) if bad < self.n else "")
        if bad >= self.n and not text:
            text = "<EOF>"
        self.error(bad, f"no viable alternative at input '{text}'")

    def keyword_at(self, p: int) -> str | None:
        m = _IDENT_RE.match(self.s, p)
        if m and m.group(0) in _KEYWORDS:
            return m.group(0)
        return None

    # -- grammar ---------------------------------------------------------------------------------------------
    def parse(self) -> _Node:
        self.ws()
        if self.pos >= self.n:
            self.error(self.pos, "mismatched input '<EOF>' expecting {'(', 'NOT', FIELD}")
        node = self.parse_or("")
        self.ws()
        if self.pos < self.n:
            self.error(self.pos, f"extraneous input '{self.token_at(self.pos)}' expecting <EOF>")
        return node

    def parse_or(self, prefix: str) -> _Node:
        items = [self.parse_and(prefix)]
        while True:
            self.ws()
            if self.keyword_at(self.pos) == "OR":
                self.pos += 2
                items.append(self.parse_and(prefix))
            else:
                break
        return items[0] if len(items) == 1 else _Or(items)

    def parse_and(self, prefix: str) -> _Node:
        items = [self.parse_not(prefix)]
        while True:
            self.ws()
            p = self.pos
            if p >= self.n or self.s[p] in ")}":
                break
            kw = self.keyword_at(p)
            if kw == "OR":
                break
            if kw == "AND":
                self.pos += 3
            items.append(self.parse_not(prefix))
        return items[0] if len(items) == 1 else _And(items)

    def parse_not(self, prefix: str) -> _Node:
        self.ws()
        if self.keyword_at(self.pos) == "NOT":
            self.pos += 3
            return _Not(self.parse_not(prefix))
        return self.parse_primary(prefix)

    def parse_primary(self, prefix: str) -> _Node:
        self.ws()
        p = self.pos
        if p >= self.n:
            self.error(p, "mismatched input '<EOF>' expecting {'(', 'NOT', FIELD}")
        if self.s[p] == "(":
            self.pos += 1
            node = self.parse_or(prefix)
            self.ws()
            if self.pos >= self.n or self.s[self.pos] != ")":
                self.error(self.pos, f"mismatched input '{self.token_at(self.pos)}' expecting ')'")
            self.pos += 1
            return node
        return self.parse_clause(prefix)

    def parse_clause(self, prefix: str) -> _Node:
        s = self.s
        start = self.pos
        m = _IDENT_RE.match(s, start)
        if not m:
            tok = self.token_at(start)
            if tok in (")", "}"):
                self.error(start, f"extraneous input '{tok}' expecting {{'(', 'NOT', FIELD}}")
            self.no_viable(start, start)
        field = m.group(0)
        if field in _KEYWORDS:
            self.error(start, f"mismatched input '{field}' expecting {{'(', FIELD}}")
        if field.lower() in ("and", "or", "not"):
            self.no_viable(start, start)
        if field == "_exists_" or field.startswith("_exists_."):
            self.error(start, f"no viable alternative at input '{field}' (_exists_ is not supported)")
        self.pos = m.end()
        full = f"{prefix}.{field}" if prefix else field
        self.ws()
        p = self.pos
        if p >= self.n:
            self.no_viable(start, p)
        c = s[p]
        if c == ":":
            self.pos = p + 1
            self.ws()
            q = self.pos
            if q < self.n and s[q] == '"':
                return _Term(field, self.parse_string())
            if q < self.n and s[q] == "{":
                self.pos = q + 1
                self.ws()
                if self.pos < self.n and s[self.pos] == "}":
                    self.error(self.pos, "mismatched input '}' expecting {'(', 'NOT', FIELD}")
                inner = self.parse_or(full)
                self.ws()
                if self.pos >= self.n or s[self.pos] != "}":
                    self.error(self.pos, f"mismatched input '{self.token_at(self.pos)}' expecting '}}'")
                self.pos += 1
                return _Nested(field, inner)
            self.no_viable(start, q)
        for op in _CMP_OPS:
            if s.startswith(op, p):
                self.pos = p + len(op)
                return self.parse_comparison(start, field, full, op)
        self.no_viable(start, p)
        raise AssertionError("unreachable")

    def parse_string(self) -> list:
        """Parse a double-quoted value at ``self.pos``; returns segments (str literals and None for ``*``)."""
        s, n = self.s, self.n
        start = self.pos
        p = start + 1
        segs: list = []
        buf: list[str] = []
        while True:
            if p >= n:
                self.error(start, f"token recognition error at: '{s[start:]}'")
            c = s[p]
            if c == '"':
                p += 1
                break
            if c == "\\":
                if p + 1 >= n:
                    self.error(start, f"token recognition error at: '{s[start:]}'")
                buf.append(s[p + 1])
                p += 2
                continue
            if c == "*":
                if buf:
                    segs.append("".join(buf))
                    buf = []
                if not segs or segs[-1] is not None:
                    segs.append(None)
                p += 1
                continue
            buf.append(c)
            p += 1
        if buf:
            segs.append("".join(buf))
        if not segs:
            segs.append("")
        self.pos = p
        return segs

    def parse_comparison(self, start: int, field: str, full: str, op: str) -> _Node:
        s = self.s
        self.ws()
        vpos = self.pos
        if vpos >= self.n:
            self.no_viable(start, vpos)
        if s[vpos] == '"' or s[vpos] in "(){}":
            self.no_viable(start, vpos)
        m = _BARE_VALUE_RE.match(s, vpos)
        raw = m.group(0)
        self.pos = m.end()
        if full not in COMPARABLE_FIELDS:
            self.error(
                start,
                f"no viable alternative at input '{s[start : self.pos]}' "
                f"(range comparison is not supported on field '{full}')",
            )
        if full in DATE_FIELDS:
            return _Compare(field, op, self.parse_date(raw, vpos), True)
        if not _NUMBER_RE.fullmatch(raw):
            self.error(vpos, f"mismatched input '{raw}' expecting NUMBER")
        value = float(raw) if any(ch in raw for ch in ".eE") else int(raw)
        return _Compare(field, op, value, False)

    def parse_date(self, raw: str, pos: int) -> datetime:
        m = _RELATIVE_RE.fullmatch(raw)
        if m:
            sign, num, unit = m.groups()
            if sign is None:
                return self.now
            k = int(num) * (1 if sign == "+" else -1)
            if unit == "M":
                return _add_months(self.now, k)
            if unit == "y":
                return _add_months(self.now, 12 * k)
            secs = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
            return self.now + timedelta(seconds=k * secs)
        m = _DATETIME_RE.fullmatch(raw)
        if m:
            text = raw
            if m.group(8) is None:
                text = raw + "+00:00"
            elif m.group(8) in ("Z", "z"):
                text = raw[:-1] + "+00:00"
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                self.error(pos, f"invalid date-time value '{raw}'")
        if _DATE_ONLY_RE.fullmatch(raw):
            self.error(
                pos,
                f"mismatched input '{raw}' expecting DATETIME (a full date-time such as "
                f"{raw}T00:00:00Z, or now-<n><unit>)",
            )
        self.error(pos, f"mismatched input '{raw}' expecting DATETIME")
        raise AssertionError("unreachable")


def parse_query(q: str, now: datetime) -> Predicate:
    """Parse ``q``; return a :class:`Predicate`. Relative dates (``now-30d``) are resolved against ``now``."""
    if q is None:
        raise QuerySyntaxError("line 1:0 mismatched input '<EOF>' expecting {'(', 'NOT', FIELD}")
    root = _Parser(q, now).parse()
    return Predicate(q, root)
