"""Exports of policy flags: filters, CSV/JSON writers and spreadsheet-formula neutralisation.

- :func:`filter_flags` narrows ``gold_policy_flags`` by policy, action and owner (lazy).
- :func:`with_plan_columns` adds what remediation needs (``content_sha256``, ``datasource_name``,
  ``file_name``) from ``silver_all_files``; ``gold_policy_flags`` itself does not carry the hash.
- :func:`export_rows` streams rows (dicts or ``Row``) to CSV or JSON, atomically (temp file + rename).
- :func:`export_flags` = filter + stream a DataFrame with ``toLocalIterator`` (call from the CLI,
  never inside a pipeline query).

CSV cells that a spreadsheet would run as a formula (first character ``= + - @``, TAB or CR) are
prefixed with a single quote (OWASP "CSV injection"). So that the prefix can be undone exactly
(:func:`unneutralise_cell`, used when a plan is read back), a cell that already starts with a quote
is prefixed too; a spreadsheet shows it unchanged. JSON output is not neutralised.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import decimal
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence, Union

import orjson

__all__ = [
    "FORMULA_TRIGGERS",
    "build_parser",
    "main",
    "export_flags",
    "export_rows",
    "filter_flags",
    "neutralise_cell",
    "unneutralise_cell",
    "with_plan_columns",
]

FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"

StrOrList = Union[str, Sequence[str], None]


def neutralise_cell(value: Any) -> Any:
    """Prefix a string starting with ``= + - @`` TAB or CR (or a quote) with a single quote.

    Non-strings are returned unchanged (numbers cannot carry a formula).
    """
    if isinstance(value, str) and value and (value[0] in FORMULA_TRIGGERS or value[0] == _QUOTE):
        return _QUOTE + value
    return value


def unneutralise_cell(value: Any) -> Any:
    """Undo :func:`neutralise_cell` on a cell read back from one of our CSV exports."""
    if (
        isinstance(value, str)
        and len(value) >= 2
        and value[0] == _QUOTE
        and (value[1] in FORMULA_TRIGGERS or value[1] == _QUOTE)
    ):
        return value[1:]
    return value


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
    compare case-insensitively.
    """
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


def export_flags(df, out_path: Union[str, Path], fmt: str = "csv", *, policy: StrOrList = None,
                 action: StrOrList = None, owner: StrOrList = None, order_by: Sequence[str] = ("policy", "path")) -> int:
    """Filter, sort and stream a flags DataFrame to ``out_path``; returns the number of rows."""
    filtered = filter_flags(df, policy=policy, action=action, owner=owner)
    sort_columns = [c for c in order_by if c in filtered.columns]
    if sort_columns:
        filtered = filtered.orderBy(*sort_columns)
    columns = list(filtered.columns)
    return export_rows((r.asDict() for r in filtered.toLocalIterator()), fmt, out_path, columns=columns)


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


def export_rows(rows: Iterable[Any], fmt: str, out_path: Union[str, Path], *,
                columns: Optional[Sequence[str]] = None) -> int:
    """Write ``rows`` (dicts, ``Row`` objects or namedtuples) as ``csv`` or ``json`` to ``out_path``.

    CSV: a header row, UTF-8, RFC 4180 quoting, formula cells neutralised, lists/structs as JSON
    text, dates ISO-8601, nulls empty. JSON: one array of objects (no neutralisation). The file is
    written to a temporary name in the same directory and renamed into place, so a failed export never
    leaves a truncated file behind. ``out_path`` ``"-"`` writes to stdout. Returns the row count.
    """
    fmt = fmt.lower()
    if fmt not in ("csv", "json"):
        raise ValueError(f"unknown export format {fmt!r} (csv or json)")
    writer = _write_csv if fmt == "csv" else _write_json
    cols = list(columns) if columns else None
    it = iter(rows)
    if str(out_path) == "-":
        return writer(sys.stdout, it, cols)
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


def read_csv_rows(path: Union[str, Path]) -> tuple[list[str], list[dict[str, str]]]:
    """Read one of our CSV exports back: header and rows with neutralisation undone."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = [unneutralise_cell(h).strip() for h in next(reader)]
        except StopIteration:
            return [], []
        rows = []
        for raw in reader:
            if not any(cell.strip() for cell in raw):
                continue
            rows.append({h: unneutralise_cell(raw[i]) if i < len(raw) else "" for i, h in enumerate(header)})
    return header, rows


# --------------------------------------------------------------------------- CLI adapter


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="file-records export", description="Export policy flags (or any table) to CSV/JSON.")
    p.add_argument("table", help="table to export, e.g. gold_policy_flags")
    p.add_argument("--policy", action="append", help="policy name(s); repeatable or comma-separated")
    p.add_argument("--action", action="append", help="action(s): archive, review, delete, keep, hold")
    p.add_argument("--owner", action="append", help="owner(s), case-insensitive")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--out", required=True, help="output file ('-' for stdout)")
    p.add_argument("--files-table", help="table with content hashes (default: silver_all_files next to TABLE)")
    p.add_argument("--no-plan-columns", action="store_true",
                   help="do not add content_sha256/datasource_name/file_name (remediation needs them)")
    return p


def _split(values: Optional[list[str]]) -> Optional[list[str]]:
    if not values:
        return None
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def main(argv: Optional[Sequence[str]], read_table: Callable[[str], Any]) -> int:
    """``file-records export``: ``read_table(name) -> DataFrame`` is supplied by the CLI (it owns the
    Spark session). Exports of ``gold_policy_flags`` get the remediation columns from
    ``silver_all_files`` unless ``--no-plan-columns``. 0 on success, 2 on usage/table errors."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        df = read_table(args.table)
        if not args.no_plan_columns and args.table.rsplit(".", 1)[-1].strip("`") == "gold_policy_flags":
            prefix = args.table.rsplit(".", 1)[0] + "." if "." in args.table else ""
            files_table = args.files_table or prefix + "silver_all_files"
            try:
                df = with_plan_columns(df, read_table(files_table))
            except Exception as exc:  # best effort: the flags are still worth exporting
                if args.files_table:
                    raise
                print(f"file-records export: warning: no content_sha256 column ({files_table}: "
                      f"{_first_line(exc)}); remediation of this export needs --allow-unhashed", file=sys.stderr)
        n = export_flags(df, args.out, args.format, policy=_split(args.policy), action=_split(args.action),
                         owner=_split(args.owner))
    except Exception as exc:  # missing table, unreadable output path, ...
        print(f"file-records export: {_first_line(exc)}", file=sys.stderr)
        return 2
    if args.out != "-":
        print(f"{n} row(s) written to {args.out}", file=sys.stderr)
    return 0
