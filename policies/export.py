"""Exports of policy flags: filters, CSV/JSON writers and spreadsheet-formula neutralisation.

- :func:`filter_flags` narrows ``gold_policy_flags`` by policy, action and owner (lazy).
- :func:`with_plan_columns` adds what remediation needs (``content_sha256``, ``datasource_name``,
  ``file_name``) from ``silver_all_files``; ``gold_policy_flags`` itself does not carry the hash.
- :func:`export_rows` streams rows (dicts or ``Row``) to CSV or JSON, atomically (temp file + rename).
- :func:`export_flags` = filter + stream a DataFrame with ``toLocalIterator`` (call from the CLI,
  never inside a pipeline query).
- :class:`SqlFrame`: a table read through a DB-API connection (the local DuckDB reader,
  :mod:`file_records.local.tables`); :func:`filter_flags`, :func:`with_plan_columns`,
  :func:`export_flags` and :func:`export_table` take one wherever they take a Spark DataFrame, with
  the same semantics (owners case-insensitive, a left join on source_system + file_id, sorted by
  policy then path with nulls first, as Spark sorts).
- :func:`export_table` = what ``file-records export TABLE`` does, given a way to read tables; it
  returns an :class:`ExportResult` and prints nothing (the command in
  ``file_records/commands/export.py`` owns the flags, the Spark session and the output).
  ``for_review=True`` makes a disposition review sheet of ``gold_policy_flags``: the columns
  ``decision``, ``reviewer`` and ``comment`` first, empty, for the records manager to fill in
  (see :mod:`file_records.remediation.review`).
- :func:`export_disposition_log` writes the proof-of-disposition log (JSON Lines, see
  :mod:`file_records.remediation.proof`) as CSV or JSON for auditors; no Spark.

CSV cells that a spreadsheet would run as a formula (first character ``= + - @``, TAB or CR) are
prefixed with a single quote (OWASP "CSV injection"). So that the prefix can be undone exactly
(:func:`unneutralise_cell`, used when a plan is read back), a cell that already starts with a quote
is prefixed too; a spreadsheet shows it unchanged. JSON output is not neutralised.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence, Union

import orjson

from file_records.errors import ConfigError
from file_records.spreadsheet import FORMULA_TRIGGERS, neutralise_cell, read_csv_rows, unneutralise_cell

__all__ = [
    "FILES_TABLE",
    "FLAGS_TABLE",
    "FORMATS",
    "FORMULA_TRIGGERS",
    "REVIEW_COLUMNS",
    "ExportResult",
    "SqlFrame",
    "export_flags",
    "export_rows",
    "export_table",
    "filter_flags",
    "neutralise_cell",
    "read_csv_rows",
    "unneutralise_cell",
    "with_plan_columns",
]

FORMATS: tuple[str, ...] = ("csv", "json")
# The columns a reviewer fills in on a sheet written with --for-review (remediation reads them back).
REVIEW_COLUMNS: tuple[str, ...] = ("decision", "reviewer", "comment")
FLAGS_TABLE = "gold_policy_flags"
FILES_TABLE = "silver_all_files"

StrOrList = Union[str, Sequence[str], None]
# A file path, or an open text stream (the command passes stdout for ``--out -``).
Destination = Union[str, Path, IO[str]]


# --------------------------------------------------------------------------- SQL side (DuckDB)


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


@dataclass(frozen=True)
class SqlFrame:
    """A lazy query over a DB-API connection (``execute(sql, params)``, ``description``,
    ``fetchmany``): the little of a DataFrame an export needs. ``order`` is applied last, when the
    rows are read, so filtering a sorted frame keeps its order."""

    con: Any
    sql: str
    params: tuple = ()
    order: tuple[str, ...] = ()

    @classmethod
    def table(cls, con: Any, name: str) -> SqlFrame:
        return cls(con, f"SELECT * FROM {_quote(name)}")

    @property
    def columns(self) -> list[str]:
        cursor = self.con.execute(f"SELECT * FROM ({self.sql}) AS _frame LIMIT 0", list(self.params))
        return [column[0] for column in cursor.description]

    def where(self, condition: str, *params: Any) -> SqlFrame:
        """Rows where ``condition`` (SQL with ``?`` placeholders for ``params``) holds. The
        columns are checked now, as Spark checks them when the filter is built."""
        frame = SqlFrame(self.con, f"SELECT * FROM ({self.sql}) AS _frame WHERE {condition}",
                         (*self.params, *params), self.order)
        frame.columns  # noqa: B018 - binds the condition: an unknown column fails here
        return frame

    def order_by(self, *columns: str) -> SqlFrame:
        """Sorted ascending, nulls first (Spark's ``orderBy``)."""
        return SqlFrame(self.con, self.sql, self.params, tuple(columns))

    def query(self) -> tuple[str, list]:
        order = ", ".join(f"{_quote(c)} ASC NULLS FIRST" for c in self.order)
        sql = f"SELECT * FROM ({self.sql}) AS _frame" + (f" ORDER BY {order}" if order else "")
        return sql, list(self.params)

    def iter_rows(self, batch: int = 1000) -> Iterator[dict]:
        sql, params = self.query()
        cursor = self.con.execute(sql, params)
        names = [column[0] for column in cursor.description]
        while True:
            rows = cursor.fetchmany(batch)
            if not rows:
                return
            for row in rows:
                yield dict(zip(names, row, strict=True))


def _sql_filter(frame: SqlFrame, policies, actions, owners) -> SqlFrame:
    def isin(expression: str, values: list[str]) -> tuple[str, list[str]]:
        return f"{expression} IN ({', '.join('?' for _ in values)})", [v.lower() for v in values]

    for expression, values in ((_quote("policy"), policies), (_quote("action"), actions),
                               (f"lower({_quote('owner')})", owners)):
        if values:
            condition, params = isin(expression, values)
            frame = frame.where(condition, *params)
    return frame


def _sql_plan_columns(flags: SqlFrame, files: SqlFrame) -> SqlFrame:
    if flags.con is not files.con:
        raise ConfigError("the flags and the files table must be read through the same connection")
    flag_columns = flags.columns
    files_sql = (f"SELECT source_system AS _ss, file_id AS _fid, content_sha256, datasource_name, file_name "
                 f"FROM ({files.sql}) AS _files")
    select = ", ".join([*(f"_f.{_quote(c)}" for c in flag_columns),
                        "_g.content_sha256", "_g.datasource_name", "_g.file_name"])
    sql = (f"SELECT {select} FROM ({flags.sql}) AS _f LEFT JOIN ({files_sql}) AS _g "
           "ON _f.source_system = _g._ss AND _f.file_id = _g._fid")
    joined = SqlFrame(flags.con, sql, (*flags.params, *files.params), flags.order)
    joined.columns  # noqa: B018 - a files table without those columns fails here, as in Spark
    return joined


# --------------------------------------------------------------------------- Spark side


def _as_list(v: StrOrList) -> Optional[list[str]]:
    if v is None:
        return None
    if isinstance(v, str):
        items = [x.strip() for x in v.split(",")]
    else:
        items = [str(x).strip() for x in v]
    items = [x for x in items if x]
    return items or None


def filter_flags(df, policy: StrOrList = None, action: StrOrList = None, owner: StrOrList = None):
    """Rows of ``df`` (policy flags) for the given policies / actions / owners (lazy).

    Each filter takes a name, a comma-separated string or a list; ``None`` means no filter. Owners
    compare case-insensitively. ``df``: a Spark DataFrame or a :class:`SqlFrame`.
    """
    if isinstance(df, SqlFrame):
        return _sql_filter(df, _as_list(policy), _as_list(action), _as_list(owner))
    from pyspark.sql import functions as F

    out = df
    policies = _as_list(policy)
    if policies:
        out = out.where(F.col("policy").isin(*[p.lower() for p in policies]))
    actions = _as_list(action)
    if actions:
        out = out.where(F.col("action").isin(*[a.lower() for a in actions]))
    owners = _as_list(owner)
    if owners:
        out = out.where(F.lower(F.col("owner")).isin(*[o.lower() for o in owners]))
    return out


def with_plan_columns(flags_df, files_df):
    """Flags plus ``content_sha256``, ``datasource_name`` and ``file_name`` from ``silver_all_files``
    (left join on source_system + file_id) — the columns a remediation plan needs (lazy)."""
    if isinstance(flags_df, SqlFrame):
        return _sql_plan_columns(flags_df, files_df)
    from pyspark.sql import functions as F

    files = files_df.select(
        F.col("source_system").alias("_ss"),
        F.col("file_id").alias("_fid"),
        "content_sha256",
        "datasource_name",
        "file_name",
    )
    joined = flags_df.join(
        files, (flags_df["source_system"] == files["_ss"]) & (flags_df["file_id"] == files["_fid"]), "left"
    )
    return joined.drop("_ss", "_fid")


def export_flags(df, out_path: Destination, fmt: str = "csv", *, policy: StrOrList = None,
                 action: StrOrList = None, owner: StrOrList = None, order_by: Sequence[str] = ("policy", "path"),
                 for_review: bool = False) -> int:
    """Filter, sort and stream a flags DataFrame to ``out_path``; returns the number of rows.
    ``for_review``: a review sheet, with empty ``decision``, ``reviewer``, ``comment`` columns first."""
    # Checked here too: toLocalIterator starts the Spark job before export_rows would look at it.
    fmt = _check_format(fmt)
    filtered = filter_flags(df, policy=policy, action=action, owner=owner)
    sort_columns = [c for c in order_by if c in filtered.columns]
    rows: Iterable[Mapping[str, Any]]
    if isinstance(filtered, SqlFrame):
        if sort_columns:
            filtered = filtered.order_by(*sort_columns)
        columns = list(filtered.columns)
        rows = filtered.iter_rows()
    else:
        if sort_columns:
            filtered = filtered.orderBy(*sort_columns)
        columns = list(filtered.columns)
        rows = (r.asDict() for r in filtered.toLocalIterator())
    if for_review:
        rows, columns = review_sheet(rows, columns)
    return export_rows(rows, fmt, out_path, columns=columns)


def review_sheet(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> tuple[Iterator[dict], list[str]]:
    """Rows and columns of a review sheet: ``decision``, ``reviewer``, ``comment`` (empty) first."""
    clash = [c for c in REVIEW_COLUMNS if c in columns]
    if clash:
        raise ConfigError(f"cannot make a review sheet: the table already has column(s) {', '.join(clash)}")
    blank = {c: "" for c in REVIEW_COLUMNS}
    return (({**blank, **_as_dict(r)}) for r in rows), [*REVIEW_COLUMNS, *columns]


# --------------------------------------------------------------------------- writers


def _as_dict(row: Any) -> Mapping[str, Any]:
    if isinstance(row, Mapping):
        return row
    if hasattr(row, "asDict"):
        return row.asDict(recursive=True)
    if hasattr(row, "_asdict"):
        return row._asdict()
    raise TypeError(f"cannot export a row of type {type(row).__name__}")


def _json_default(v: Any) -> Any:
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (set, frozenset, tuple)):
        return list(v)
    if hasattr(v, "asDict"):
        return v.asDict(recursive=True)
    raise TypeError(f"cannot serialise {type(v).__name__}")


def _csv_cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, (list, tuple, dict, set)) or hasattr(v, "asDict"):
        return neutralise_cell(orjson.dumps(v, default=_json_default).decode())
    if isinstance(v, (int, float, decimal.Decimal)):
        return v
    return neutralise_cell(str(v))


def _write_csv(fh, rows: Iterator[Mapping[str, Any]], columns: Optional[list[str]]) -> int:
    writer = None
    n = 0
    for row in rows:
        d = _as_dict(row)
        if writer is None:
            columns = columns or list(d.keys())
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow([neutralise_cell(c) for c in columns])
        writer.writerow([_csv_cell(d.get(c)) for c in columns])
        n += 1
    if writer is None and columns:
        csv.writer(fh, lineterminator="\r\n").writerow([neutralise_cell(c) for c in columns])
    return n


def _write_json(fh, rows: Iterator[Mapping[str, Any]], columns: Optional[list[str]]) -> int:
    n = 0
    fh.write("[")
    for row in rows:
        d = _as_dict(row)
        if columns:
            d = {c: d.get(c) for c in columns}
        fh.write(",\n" if n else "\n")
        fh.write(orjson.dumps(d, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode())
        n += 1
    fh.write("\n]\n" if n else "]\n")
    return n


def _check_format(fmt: str) -> str:
    if str(fmt).lower() not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r} (csv or json)")
    return str(fmt).lower()


def export_rows(rows: Iterable[Any], fmt: str, out_path: Destination, *,
                columns: Optional[Sequence[str]] = None) -> int:
    """Write ``rows`` (dicts, ``Row`` objects or namedtuples) as ``csv`` or ``json`` to ``out_path``.

    CSV: a header row, UTF-8, RFC 4180 quoting, formula cells neutralised, lists/structs as JSON
    text, dates ISO-8601, nulls empty. JSON: one array of objects (no neutralisation). The file is
    written to a temporary name in the same directory and renamed into place, so a failed export never
    leaves a truncated file behind; an open text stream is written as is. Returns the row count.
    An unknown ``fmt`` raises :class:`~file_records.errors.ConfigError` (a ``ValueError``).
    """
    fmt = _check_format(fmt)
    writer = _write_csv if fmt == "csv" else _write_json
    cols = list(columns) if columns else None
    it = iter(rows)
    if not isinstance(out_path, (str, Path)):
        return writer(out_path, it, cols)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=str(out.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            n = writer(fh, it, cols)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return n


# --------------------------------------------------------------------------- one table


@dataclass
class ExportResult:
    table: str
    rows: int
    out: Optional[str]  # None when written to a stream
    # content_sha256 / datasource_name / file_name joined in from silver_all_files
    plan_columns: bool = False
    warnings: list[str] = field(default_factory=list)


def _short_name(table: str) -> str:
    return table.rsplit(".", 1)[-1].strip("`")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def export_table(read_table: Callable[[str], Any], table: str, out: Destination, fmt: str = "csv", *,
                 policy: StrOrList = None, action: StrOrList = None, owner: StrOrList = None,
                 files_table: Optional[str] = None, plan_columns: bool = True,
                 for_review: bool = False) -> ExportResult:
    """Export ``table`` (read with ``read_table(name) -> DataFrame``; the caller owns the Spark
    session) with the given filters.

    An export of ``gold_policy_flags`` is a remediation plan, so it gets ``content_sha256``,
    ``datasource_name`` and ``file_name`` from ``silver_all_files`` next to it (or ``files_table``)
    unless ``plan_columns=False``. If that default table cannot be read the flags are still
    exported, with a warning in the result; an explicit ``files_table`` that fails raises.
    Errors of ``read_table`` and of writing ``out`` propagate. ``for_review`` (``gold_policy_flags``
    only, else a :class:`ConfigError`): a review sheet (:func:`review_sheet`).
    """
    fmt = _check_format(fmt)
    if for_review and _short_name(table) != FLAGS_TABLE:
        raise ConfigError(f"a review sheet is made of {FLAGS_TABLE}, not {table}")
    df = read_table(table)
    result = ExportResult(table=table, rows=0, out=str(out) if isinstance(out, (str, Path)) else None)
    if plan_columns and _short_name(table) == FLAGS_TABLE:
        prefix = table.rsplit(".", 1)[0] + "." if "." in table else ""
        files_name = files_table or prefix + FILES_TABLE
        try:
            df = with_plan_columns(df, read_table(files_name))
            result.plan_columns = True
        except Exception as exc:  # best effort: the flags are still worth exporting
            if files_table:
                raise
            result.warnings.append(f"no content_sha256 column ({files_name}: {_first_line(exc)}); "
                                   "remediation of this export needs --allow-unhashed")
    result.rows = export_flags(df, out, fmt, policy=policy, action=action, owner=owner, for_review=for_review)
    return result
