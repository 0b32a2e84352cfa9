"""Data-quality rules as data: the YAML files under ``expectations/rules/``, their pydantic model,
the loader and its validation.

One file per guarded dataset, named after the dataset (``silver_file_records.yml``). Each file is a
YAML list of rules::

    - name: size_not_negative            # lower snake_case, unique in the file
      constraint: size IS NOT NULL AND size >= 0   # Spark SQL boolean, TRUE for a VALID row
      action: drop                       # warn | drop | fail
      description: The file size is known and not negative.

Everything that is wrong with a file -- an unknown dataset (file name), a duplicate rule name, SQL
that does not parse, an unknown action, a missing or unexpected key -- is reported together in one
:class:`ExpectationConfigError` whose every line names the file and the rule.

This module needs no Spark: :func:`validate_sql` uses Spark's own parser only when it is given a
classic (JVM-backed) session and otherwise falls back to a pure-Python sanity check.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Optional, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from file_records.datasets import DATASETS
from file_records.errors import ConfigError, describe_validation_error

__all__ = [
    "ACTIONS",
    "KNOWN_DATASETS",
    "RULES_DIR",
    "Action",
    "ExpectationConfigError",
    "Rule",
    "by_action",
    "check_rules",
    "load_all",
    "load_file",
    "load_rules",
    "rules_file",
    "sql_problem",
    "validate_sql",
]

RULES_DIR: Path = Path(__file__).resolve().parent / "rules"

Action = Literal["warn", "drop", "fail"]
ACTIONS: tuple[str, ...] = ("warn", "drop", "fail")

# Datasets that may carry rules (a rules file must be named after one of them): the guarded datasets
# of the registry, which also holds their key columns (file_records.datasets).
KNOWN_DATASETS: frozenset[str] = frozenset(DATASETS)

RULE_KEYS: frozenset[str] = frozenset({"name", "constraint", "action", "description"})
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_INLINE = "<inline rules>"


class ExpectationConfigError(ConfigError):
    """A rules file (or an inline rule list) is not valid. ``problems`` holds one line per problem,
    each naming the file and the rule."""

    def __init__(self, problems: Sequence[str] | str):
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems in expectation rules:\n" + "\n".join(
                f"  - {p}" for p in self.problems
            )
        super().__init__(message)


class Rule(BaseModel):
    """One named data-quality rule.

    ``constraint`` describes a VALID row. It should be null-explicit (never evaluate to NULL); the
    OSS engine treats a NULL result as a failure. ``dataset`` and ``source`` are filled in by the
    loader (not read from YAML) so that later messages can name the file.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=128)
    constraint: str = Field(min_length=1)
    action: Action
    description: str = Field(min_length=1)
    dataset: Optional[str] = None
    source: Optional[str] = None

    @field_validator("name")
    @classmethod
    def _snake_case(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError(f"rule name {value!r} must be lower snake_case ([a-z][a-z0-9_]*)")
        return value

    @field_validator("description")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value:
            raise ValueError("description must be a single line")
        return value

    @property
    def where(self) -> str:
        """``<file>: rule '<name>'`` -- the prefix of every message about this rule."""
        return f"{self.source or _INLINE}: rule '{self.name}'"


# --------------------------------------------------------------------------------------------
# SQL checks
# --------------------------------------------------------------------------------------------

_SELECT_RE = re.compile(r"\bselect\b", re.IGNORECASE)


def sql_problem(constraint: str) -> Optional[str]:
    """Pure-Python sanity check of a constraint; returns a description of the problem or None.

    Checks: not empty; quotes ('...', "...", `...`) closed; parentheses balanced; no ``;``; no
    ``SELECT`` outside string literals (Lakeflow expectations may not contain subqueries). It does
    not prove the SQL parses -- :func:`validate_sql` with a classic session does that.
    """
    if constraint is None or not str(constraint).strip():
        return "constraint is empty"
    text = str(constraint)
    depth = 0
    quote: Optional[str] = None
    outside: list[str] = []  # the text outside string literals, for keyword checks
    i = 0
    while i < len(text):
        ch = text[i]
        if quote is not None:
            if ch == "\\" and quote != "`":
                i += 2
                continue
            if ch == quote:
                if i + 1 < len(text) and text[i + 1] == quote:  # doubled quote inside a literal
                    i += 2
                    continue
                quote = None
            i += 1
            continue
        if ch in ("'", '"', "`"):
            quote = ch
            outside.append(" ")
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return f"unbalanced parentheses: unexpected ')' at character {i + 1}"
        elif ch == ";":
            return "constraint must be a single expression (found ';')"
        outside.append(ch)
        i += 1
    if quote is not None:
        return f"unterminated {quote} quote"
    if depth != 0:
        return f"unbalanced parentheses: {depth} '(' not closed"
    if _SELECT_RE.search("".join(outside)):
        return "constraint must not contain a subquery (SELECT); use a separate view for cross-row checks"
    return None


def _jvm_parser(spark: Any) -> Any:
    """Spark's SQL parser for a classic session, or None (no session, or Spark Connect)."""
    if spark is None:
        return None
    try:
        jsession = getattr(spark, "_jsparkSession", None)
        if jsession is None:
            return None
        return jsession.sessionState().sqlParser()
    except Exception:  # noqa: BLE001 - Connect sessions refuse JVM attributes
        return None


def _java_message(exc: BaseException) -> str:
    java = getattr(exc, "java_exception", None)
    if java is not None:
        try:
            return str(java.getMessage())
        except Exception:  # noqa: BLE001 - the JVM object may be gone; fall back to str()
            pass
    return str(exc)


def validate_sql(rules: Iterable[Rule], spark: Any = None) -> None:
    """Check every rule's constraint; raise :class:`ExpectationConfigError` listing all bad ones.

    Always runs :func:`sql_problem`; with a classic SparkSession it also parses each constraint
    with Spark's own expression parser (``sessionState().sqlParser().parseExpression``). With no
    session or a Spark Connect session (inside a pipeline run) only the pure-Python check runs;
    Spark then reports remaining syntax errors when it analyses the flow.
    """
    parser = _jvm_parser(spark)
    problems: list[str] = []
    for rule in rules:
        problem = sql_problem(rule.constraint)
        if problem is None and parser is not None:
            try:
                parsed = parser.parseExpression(rule.constraint)
            except Exception as exc:  # noqa: BLE001 - Py4JJavaError wrapping a ParseException
                first = _java_message(exc).strip().splitlines()
                problem = "invalid SQL: " + (first[0] if first else type(exc).__name__)
                rest = " ".join(line.strip() for line in first[1:4] if line.strip())
                if rest:
                    problem += f" ({rest})"
            else:
                # `size >= AND path` parses as `(size >= and) AS path`: an alias is never meant.
                if str(parsed.getClass().getSimpleName()) == "Alias":
                    problem = (
                        f"invalid SQL: the constraint parses as an alias ({parsed.toString()}); "
                        "a missing operator or quote?"
                    )
        if problem is not None:
            problems.append(f"{rule.where}: {problem}; constraint: {rule.constraint!r}")
    if problems:
        raise ExpectationConfigError(problems)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _entry_label(entry: Any, index: int) -> str:
    if isinstance(entry, Mapping) and isinstance(entry.get("name"), str) and entry["name"].strip():
        return f"rule '{entry['name'].strip()}'"
    return f"rule #{index + 1} (no valid name)"


def _rule_error_part(err: dict) -> tuple[str, str]:
    loc = ".".join(str(x) for x in err.get("loc", ())) or "rule"
    msg = err.get("msg", "invalid")
    if err.get("type") == "literal_error" and loc == "action":
        msg = f"unknown action {err.get('input')!r}; expected one of {', '.join(ACTIONS)}"
    return loc, msg


def _format_validation_error(exc: ValidationError) -> str:
    return describe_validation_error(exc, part=_rule_error_part)


def _parse_entries(entries: Any, *, source: str, dataset: Optional[str]) -> tuple[list[Rule], list[str]]:
    """Build rules from raw entries (YAML list or inline mappings); collect problems."""
    rules: list[Rule] = []
    problems: list[str] = []
    if not isinstance(entries, list):
        kind = "empty file" if entries is None else type(entries).__name__
        return [], [f"{source}: expected a YAML list of rules, got {kind}"]
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        label = f"{source}: {_entry_label(entry, index)}"
        if isinstance(entry, Rule):
            data = entry.model_dump(include=set(RULE_KEYS))
        elif isinstance(entry, Mapping):
            data = dict(entry)
        else:
            problems.append(f"{label}: expected a mapping with keys {sorted(RULE_KEYS)}, got {entry!r}")
            continue
        unknown = sorted(str(k) for k in data if k not in RULE_KEYS)
        if unknown:
            problems.append(f"{label}: unknown key(s) {unknown}; allowed: {sorted(RULE_KEYS)}")
            continue
        try:
            rule = Rule(**data, dataset=dataset, source=source)
        except ValidationError as exc:
            problems.append(f"{label}: {_format_validation_error(exc)}")
            continue
        if rule.name in seen:
            problems.append(
                f"{label}: duplicate rule name (also rule #{seen[rule.name] + 1}); "
                "names must be unique per dataset"
            )
            continue
        seen[rule.name] = index
        problem = sql_problem(rule.constraint)
        if problem is not None:
            problems.append(f"{rule.where}: {problem}; constraint: {rule.constraint!r}")
            continue
        rules.append(rule)
    return rules, problems


def check_rules(
    rules: Iterable[Rule | Mapping[str, Any]],
    dataset: Optional[str] = None,
    source: str = _INLINE,
    spark: Any = None,
) -> list[Rule]:
    """Validate an in-code rule list the way files are validated (names, actions, duplicates, SQL)."""
    built, problems = _parse_entries(list(rules), source=source, dataset=dataset)
    if problems:
        raise ExpectationConfigError(problems)
    validate_sql(built, spark)
    return built


def rules_file(dataset: str, rules_dir: Path | str | None = None) -> Path:
    """The rules file of ``dataset`` (``<dataset>.yml`` or ``.yaml``) in ``rules_dir``."""
    directory = Path(rules_dir) if rules_dir is not None else RULES_DIR
    if dataset not in KNOWN_DATASETS:
        raise ExpectationConfigError(
            f"{directory / (dataset + '.yml')}: unknown dataset {dataset!r}; "
            f"known datasets: {', '.join(sorted(KNOWN_DATASETS))}"
        )
    for suffix in (".yml", ".yaml"):
        candidate = directory / f"{dataset}{suffix}"
        if candidate.is_file():
            return candidate
    raise ExpectationConfigError(f"{directory / (dataset + '.yml')}: no rules file for dataset {dataset!r}")


def load_file(path: Path | str, spark: Any = None) -> list[Rule]:
    """Load and validate one rules file; the dataset is the file name without its suffix."""
    path = Path(path)
    source = str(path)
    dataset = path.stem
    problems: list[str] = []
    if dataset not in KNOWN_DATASETS:
        problems.append(
            f"{source}: unknown dataset {dataset!r} (the file name must be one of: "
            f"{', '.join(sorted(KNOWN_DATASETS))})"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExpectationConfigError(f"{source}: cannot read rules file: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ExpectationConfigError(f"{source}: not valid YAML: {exc}") from exc
    rules, entry_problems = _parse_entries(raw, source=source, dataset=dataset)
    problems.extend(entry_problems)
    if problems:
        raise ExpectationConfigError(problems)
    validate_sql(rules, spark)
    return rules


def load_rules(dataset: str, rules_dir: Path | str | None = None, spark: Any = None) -> list[Rule]:
    """Load the validated rules of one dataset (see :func:`validate_sql` for what ``spark`` adds)."""
    return load_file(rules_file(dataset, rules_dir), spark=spark)


def load_all(rules_dir: Path | str | None = None, spark: Any = None) -> dict[str, list[Rule]]:
    """Load every ``*.yml`` / ``*.yaml`` file in ``rules_dir``: ``{dataset: [Rule, ...]}``.

    All files are checked before raising, so one error lists every problem in the directory.
    """
    directory = Path(rules_dir) if rules_dir is not None else RULES_DIR
    if not directory.is_dir():
        raise ExpectationConfigError(f"{directory}: rules directory does not exist")
    result: dict[str, list[Rule]] = {}
    problems: list[str] = []
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in (".yml", ".yaml"))
    for path in files:
        if path.stem in result:
            problems.append(f"{path}: second rules file for dataset {path.stem!r}")
            continue
        try:
            result[path.stem] = load_file(path, spark=spark)
        except ExpectationConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ExpectationConfigError(problems)
    return result


def by_action(rules: Iterable[Rule]) -> dict[str, dict[str, str]]:
    """``{"warn": {name: constraint}, "drop": {...}, "fail": {...}}`` in rule order -- the dicts
    Lakeflow's ``expect_all`` / ``expect_all_or_drop`` / ``expect_all_or_fail`` take."""
    grouped: dict[str, dict[str, str]] = {action: {} for action in ACTIONS}
    for rule in rules:
        grouped[rule.action][rule.name] = rule.constraint
    return grouped
