"""`file-records query` is read-only: the statements it runs are checked twice before Spark runs them.

1. :func:`check_read_only` (pure Python, before any JVM starts): comments (``--``, nested ``/* */``)
   and leading parentheses are stripped, string literals and back-quoted identifiers skipped, and

   - the statement must start with ``SELECT``, ``WITH``, ``VALUES``, ``TABLE``, ``SHOW``,
     ``DESCRIBE``/``DESC`` or ``EXPLAIN``;
   - ``WITH name AS (...), ...`` must be followed by a query (``SELECT``/``VALUES``/``TABLE``/``(``),
     not ``INSERT``/``MERGE``/... (Spark accepts ``WITH ... INSERT INTO``);
   - ``EXPLAIN`` is checked like the statement it explains: ``EXPLAIN INSERT ...`` would only plan
     the insert, but it is refused too, so the rule stays "only reads, also under EXPLAIN";
   - one statement only: a ``;`` outside literals is allowed only at the end.

2. :func:`check_plan` (defence in depth, inside the session): ``spark.sql()`` executes commands
   eagerly, so the statement is first *parsed* by the session's own parser (nothing runs) and the
   logical plan is checked: a query's plan must contain no command, parsed statement or write node
   (e.g. ``InsertIntoDir``, which is not a ``Command``); ``SHOW``/``DESCRIBE`` must be a ``Show*``/
   ``Describe*`` node; ``EXPLAIN`` must explain a plan that passes these checks.

Both raise :class:`ReadOnlyError` (a :class:`~file_records.errors.UsageError`: one line, exit 2).
"""

from __future__ import annotations

import re
from typing import Any, Optional

from file_records.errors import UsageError

QUERY_KEYWORDS = ("SELECT", "WITH", "VALUES", "TABLE")
INSPECT_KEYWORDS = ("SHOW", "DESCRIBE", "DESC")
ALLOWED_KEYWORDS = (*QUERY_KEYWORDS, *INSPECT_KEYWORDS, "EXPLAIN")
_ALLOWED_TEXT = "SELECT, WITH, VALUES, TABLE, SHOW, DESCRIBE or EXPLAIN"
# EXPLAIN [LOGICAL | FORMATTED | EXTENDED | CODEGEN | COST] statement
_EXPLAIN_MODES = frozenset({"LOGICAL", "FORMATTED", "EXTENDED", "CODEGEN", "COST"})
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Statements Spark (and Delta) know that are not reads: named as refused; any other first word is
# reported as not a statement at all (a typo such as SELEC).
_KNOWN_STATEMENTS = frozenset({
    "ADD", "ALTER", "ANALYZE", "BEGIN", "CACHE", "CALL", "CLEAR", "CLONE", "COMMENT", "COMMIT", "CONVERT",
    "COPY", "CREATE", "DECLARE", "DELETE", "DROP", "EXECUTE", "EXPORT", "FROM", "FSCK", "GENERATE", "GRANT",
    "IMPORT", "INSERT", "LIST", "LOAD", "LOCK", "MAP", "MERGE", "MSCK", "OPTIMIZE", "REDUCE", "REFRESH",
    "REORG", "REPAIR", "REPLACE", "RESET", "RESTORE", "REVOKE", "ROLLBACK", "SET", "TRUNCATE", "UNCACHE",
    "UNLOCK", "UNSET", "UPDATE", "USE", "VACUUM",
})


class ReadOnlyError(UsageError):
    """A statement `query` does not run because it is not a read (or is more than one statement)."""


def _refuse(what: str) -> ReadOnlyError:
    return ReadOnlyError(f"query is read-only: {what}; only {_ALLOWED_TEXT} statements run (nothing was changed)")


# --------------------------------------------------------------------------- lexical check


def _tokens(sql: str) -> list[tuple[str, str]]:
    """``(kind, text)`` tokens: ``word``, ``(``, ``)``, ``,``, ``;``, ``lit`` (a string literal or
    quoted identifier) and ``other``. Comments and whitespace are dropped."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c.isspace():
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            depth, i = 1, i + 2  # Spark's bracketed comments nest
            while i < n and depth:
                if sql.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif sql.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            if depth:
                raise _refuse("an unterminated /* comment")
        elif c in "'\"`":
            j = i + 1
            while j < n:
                if sql[j] == "\\" and c != "`":
                    j += 2
                    continue
                if sql[j] == c:
                    if c == "`" and sql.startswith("``", j):  # `` inside a quoted identifier
                        j += 2
                        continue
                    break
                j += 1
            if j >= n:
                raise _refuse(f"an unterminated {c} quote")
            out.append(("lit", sql[i:j + 1]))
            i = j + 1
        elif c in "(),;":
            out.append((c, c))
            i += 1
        else:
            m = _WORD_RE.match(sql, i)
            if m:
                out.append(("word", m.group().upper()))
                i = m.end()
            else:
                out.append(("other", c))
                i += 1
    return out


def _skip_group(tokens: list[tuple[str, str]], i: int) -> int:
    """``tokens[i]`` is ``(``: the index after its matching ``)``."""
    depth = 0
    while i < len(tokens):
        kind = tokens[i][0]
        if kind == "(":
            depth += 1
        elif kind == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def _after_ctes(tokens: list[tuple[str, str]], i: int) -> Optional[int]:
    """``tokens[i]`` is WITH: the index of the statement after ``WITH [RECURSIVE] name [(cols)] [AS]
    (query), ...``, or None when the CTE list does not have that shape."""
    i += 1
    if i < len(tokens) and tokens[i] == ("word", "RECURSIVE"):
        i += 1
    while True:
        if i >= len(tokens) or tokens[i][0] not in ("word", "lit"):
            return None
        i += 1  # the name
        if i < len(tokens) and tokens[i][0] == "(" and not (
            i + 1 < len(tokens) and tokens[i + 1][1] in ("SELECT", "WITH", "VALUES", "TABLE", "FROM", "(")
        ):
            i = _skip_group(tokens, i)  # a column list
        if i < len(tokens) and tokens[i] == ("word", "AS"):
            i += 1
        if i >= len(tokens) or tokens[i][0] != "(":
            return None
        i = _skip_group(tokens, i)
        if i < len(tokens) and tokens[i][0] == ",":
            i += 1
            continue
        return i


def _check_statement(tokens: list[tuple[str, str]], i: int) -> str:
    while i < len(tokens) and tokens[i][0] == "(":
        i += 1
    if i >= len(tokens):
        raise _refuse("the statement is empty")
    kind, text = tokens[i]
    if kind != "word":
        raise _refuse(f"it does not start with a keyword ({text[:20]!r})")
    if text not in ALLOWED_KEYWORDS:
        if text in _KNOWN_STATEMENTS:
            raise _refuse(f"{text} statements are refused")
        raise _refuse(f"{text} does not start a statement (a typo?)")
    if text == "WITH":
        j = _after_ctes(tokens, i)
        if j is None:
            raise _refuse("the WITH clause could not be read")
        while j < len(tokens) and tokens[j][0] == "(":
            j += 1
        main = tokens[j][1] if j < len(tokens) else ""
        if main not in ("SELECT", "VALUES", "TABLE", "WITH"):
            raise _refuse(f"WITH ... {main or '(nothing)'} is not a query")
        if main == "WITH":
            _check_statement(tokens, j)
    elif text == "EXPLAIN":
        j = i + 1
        if j < len(tokens) and tokens[j][1] in _EXPLAIN_MODES:
            j += 1
        inner = _check_statement(tokens, j)
        if inner == "EXPLAIN":
            raise _refuse("EXPLAIN EXPLAIN")
    return text


def check_read_only(sql: str) -> str:
    """Raise :class:`ReadOnlyError` unless ``sql`` is one reading statement; returns its first
    keyword (``DESC`` is returned as ``DESCRIBE``)."""
    tokens = _tokens(sql)
    semis = [k for k, (kind, _) in enumerate(tokens) if kind == ";"]
    if semis:
        first = semis[0]
        if any(kind != ";" for kind, _ in tokens[first:]):
            raise _refuse("one statement at a time (a ';' separates statements)")
        tokens = tokens[:first]
    keyword = _check_statement(tokens, 0)
    return "DESCRIBE" if keyword == "DESC" else keyword


# --------------------------------------------------------------------------- plan check (Spark)

_WRITE_TYPES = frozenset({"Command", "ParsedStatement", "TransactionalWrite", "V2WriteCommand"})
_WRITE_NAME_RE = re.compile(r"Insert|Write|Merge|Update|Delete|Overwrite|Append|Replace|Create|Drop|Alter|Cache|Truncate")


def _type_names(obj: Any) -> tuple[str, set[str]]:
    """The simple class name of a JVM object and those of all its superclasses and interfaces."""
    cls = obj.getClass()
    own = cls.getName().rsplit(".", 1)[-1].rstrip("$")
    seen: set[str] = set()
    stack = [cls]
    while stack:
        c = stack.pop()
        if c is None:
            continue
        name = c.getName()
        if name in seen:
            continue
        seen.add(name)
        stack.append(c.getSuperclass())
        stack.extend(c.getInterfaces())
    return own, {name.rsplit(".", 1)[-1] for name in seen}


def _children(plan: Any) -> list[Any]:
    seq = plan.children()
    return [seq.apply(k) for k in range(seq.size())]


def _check_query_plan(plan: Any, depth: int = 0) -> None:
    own, types = _type_names(plan)
    if types & _WRITE_TYPES or _WRITE_NAME_RE.search(own):
        raise _refuse(f"the statement parses to {own}, not a query")
    if depth > 200:  # a plan this deep is not something an operator types
        raise _refuse("the query plan is too deep to check")
    for child in _children(plan):
        _check_query_plan(child, depth + 1)


def _check_parsed(plan: Any, nested: int = 0) -> None:
    own, types = _type_names(plan)
    if own == "ExplainCommand":
        if nested:
            raise _refuse("EXPLAIN EXPLAIN")
        _check_parsed(plan.logicalPlan(), nested + 1)
    elif own.startswith(("Show", "Describe")) and "Command" in types:
        if own == "DescribeQueryCommand":
            _check_query_plan(plan.plan())
    else:
        _check_query_plan(plan)


def check_plan(spark: Any, sql: str) -> None:
    """Parse ``sql`` with the session's parser (nothing is executed) and raise
    :class:`ReadOnlyError` unless the plan only reads. A statement that does not parse raises
    :class:`UsageError` with the parser's reason. Without a classic session (no JVM handle) the
    lexical :func:`check_read_only` is the only check."""
    jsession = getattr(spark, "_jsparkSession", None)
    if jsession is None:
        return
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    try:
        plan = jsession.sessionState().sqlParser().parsePlan(sql)
    except (Py4JJavaError, PySparkException) as exc:  # pyspark converts most JVM errors (ParseException)
        raise UsageError(f"the query failed: {first_line(exc)}") from None
    _check_parsed(plan)


def first_line(exc: Any) -> str:
    """The first non-empty line of an error's message (Spark's often start with a blank line; a
    Py4JJavaError's is the Java exception's), else the exception's class name."""
    from py4j.protocol import Py4JJavaError

    message: Any = str(exc)
    if isinstance(exc, Py4JJavaError):
        try:
            message = exc.java_exception.getMessage() or ""
        except Exception:  # noqa: BLE001 - the reason is only for the message
            pass
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
