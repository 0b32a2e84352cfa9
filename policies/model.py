"""The policy catalogue as data: pydantic models, the loader and the legal-hold list.

A catalogue file (``policies/catalogue.yml``) is a list of policies::

    version: 1
    policies:
      - name: stale                       # lower-case identifier, unique
        description: Not modified in N days.
        action: review                    # archive | review | delete | keep | hold
        severity: low                     # low | medium | high | critical
        requires: []                      # inputs the policy needs: duplicates | users | holds
        parameters: {stale_days: 1825}
        predicate: days_since_modified > {stale_days}
        reason: format_string('not modified for %s days', format_number(days_since_modified, 0))

``predicate`` (boolean) and ``reason`` (string) are Spark SQL expressions over the evaluation view
(see :mod:`file_records.policies.evaluate`). ``{name}`` placeholders are replaced by the *validated, typed* value of
the parameter ``name``, rendered as a SQL literal (strings are quoted and escaped, lists become
``array(...)``); ``{name*}`` spreads a list parameter into its literals separated by commas, for
``IN (...)`` and ``LIKE ANY (...)``; ``{{`` and ``}}`` stand for literal braces. Parameters are never
spliced in as raw text, so a parameter value cannot change the shape of the SQL.

Parameter conventions, checked at load time: names ending in ``_days``, ``_years``, ``_months`` or
``_count`` must be non-negative integers; ``_bytes`` accepts an integer or a size such as ``"5 GiB"``.
Every placeholder must name a parameter and every parameter must be used.

Anything wrong raises :class:`PolicyConfigError` naming the file, the policy and the field.
This module is pure Python (no Spark).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Optional, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from file_records.errors import ConfigError, describe_validation_error

__all__ = [
    "ACTIONS",
    "DEFAULT_CATALOGUE",
    "DEFAULT_HOLDS",
    "DESTRUCTIVE_ACTIONS",
    "HOLD_COLUMNS",
    "HOLD_MATCH_TYPES",
    "SEVERITIES",
    "SUPPRESSING_ACTIONS",
    "Catalogue",
    "Hold",
    "Policy",
    "PolicyConfigError",
    "load_catalogue",
    "load_holds",
    "parse_catalogue",
    "parse_overrides",
    "render_template",
    "sql_literal",
]

DEFAULT_CATALOGUE = Path(__file__).with_name("catalogue.yml")
DEFAULT_HOLDS = Path(__file__).with_name("legal_holds.csv")

Action = Literal["archive", "review", "delete", "keep", "hold"]
Severity = Literal["low", "medium", "high", "critical"]
Requirement = Literal["duplicates", "users", "holds"]

ACTIONS: tuple[str, ...] = ("archive", "review", "delete", "keep", "hold")
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
#: Actions that remove a file from where it is; a hold or keep flag on the same file suppresses them.
DESTRUCTIVE_ACTIONS = frozenset({"archive", "delete"})
#: Actions whose flag suppresses destructive ones, in precedence order (a hold outranks a keep).
SUPPRESSING_ACTIONS: tuple[str, ...] = ("hold", "keep")

HOLD_MATCH_TYPES: tuple[str, ...] = ("file_id", "path_prefix", "path_glob", "content_sha256")
HOLD_COLUMNS: tuple[str, ...] = ("hold_id", "match_type", "value", "reason", "added_by", "added_on")

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_PARAM_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_TOKEN_RE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|\{|\}")
_INT_SUFFIXES = ("_days", "_years", "_months", "_count")
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?i?b?)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "kib": 1024, "ki": 1024,
    "m": 1000**2, "mb": 1000**2, "mib": 1024**2, "mi": 1024**2,
    "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "gi": 1024**3,
    "t": 1000**4, "tb": 1000**4, "tib": 1024**4, "ti": 1024**4,
    "p": 1000**5, "pb": 1000**5, "pib": 1024**5, "pi": 1024**5,
}

ParamValue = Union[StrictBool, StrictInt, StrictFloat, str, list[str]]


class PolicyConfigError(ConfigError):
    """A policy catalogue or hold list is invalid. The message names the file, policy and field."""

    def __init__(self, message: str, *, file: Optional[str] = None, policy: Optional[str] = None,
                 field: Optional[str] = None):
        self.file = file
        self.policy = policy
        self.field = field
        self.detail = message
        where = []
        if file:
            where.append(str(file))
        if policy:
            where.append(f"policy {policy!r}")
        if field:
            where.append(f"field {field!r}")
        super().__init__((": ".join([", ".join(where), message])) if where else message)


# --------------------------------------------------------------------------- SQL rendering


def sql_literal(value: Any) -> str:
    """Render a validated parameter value as a Spark SQL literal."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return f"{value!r}D"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, (list, tuple)):
        if not value:
            return "CAST(array() AS ARRAY<STRING>)"
        return "array(" + ", ".join(sql_literal(v) for v in value) + ")"
    raise TypeError(f"cannot render {type(value).__name__} as SQL")


def spread_literals(value: Any) -> str:
    """A list parameter as its SQL literals separated by commas (``{name*}``): patterns written out
    in ``LIKE ANY (...)`` are compiled once per query, where ``exists(array, p -> x LIKE p)``
    compiles each pattern again for every row. An empty list is one NULL, which matches nothing."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{{name*}} spreads a list, got {type(value).__name__}")
    return ", ".join(sql_literal(v) for v in value) if value else "CAST(NULL AS STRING)"


def _placeholder(inner: str) -> tuple[str, bool]:
    """``name`` or ``name*`` (spread) -> (name, spread)."""
    inner = inner.strip()
    spread = inner.endswith("*")
    return (inner[:-1].rstrip() if spread else inner), spread


def _placeholders(template: str) -> list[tuple[str, bool]]:
    """The (name, spread) of each placeholder of a template."""
    found = []
    for m in _TOKEN_RE.finditer(template):
        tok = m.group(0)
        if tok in ("{{", "}}"):
            continue
        if tok in ("{", "}"):
            raise ValueError(f"unbalanced {tok!r} at offset {m.start()}: write {tok * 2} for a literal brace")
        name, spread = _placeholder(m.group(1))
        if not _PARAM_RE.match(name):
            raise ValueError(f"placeholder {tok!r} is not a parameter name (lower-case identifier)")
        found.append((name, spread))
    return found


def render_template(template: str, parameters: Mapping[str, Any]) -> str:
    """Substitute ``{param}`` placeholders with SQL literals; ``{{``/``}}`` become braces."""

    def repl(m: re.Match) -> str:
        tok = m.group(0)
        if tok == "{{":
            return "{"
        if tok == "}}":
            return "}"
        if tok in ("{", "}"):
            raise ValueError(f"unbalanced {tok!r}")
        name, spread = _placeholder(m.group(1))
        if name not in parameters:
            raise KeyError(name)
        return spread_literals(parameters[name]) if spread else sql_literal(parameters[name])

    return _TOKEN_RE.sub(repl, template)


def _parse_size(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a size in bytes, not a boolean")
    if isinstance(value, int):
        n = value
    elif isinstance(value, str):
        m = _SIZE_RE.match(value)
        if not m:
            raise ValueError(f"{value!r} is not a size (e.g. 1048576, '500 MB', '5 GiB')")
        unit = (m.group(2) or "").lower()
        if unit not in _SIZE_UNITS:
            raise ValueError(f"unknown size unit in {value!r}")
        n = int(float(m.group(1)) * _SIZE_UNITS[unit])
    else:
        raise ValueError(f"must be a size in bytes, got {type(value).__name__}")
    if n < 0:
        raise ValueError(f"must not be negative, got {n}")
    return n


# --------------------------------------------------------------------------- models


class Policy(BaseModel):
    """One policy. ``predicate_sql`` / ``reason_sql`` are the rendered SQL the evaluator runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = Field(min_length=1)
    predicate: str = Field(min_length=1)
    reason: Optional[str] = None
    parameters: dict[str, ParamValue] = Field(default_factory=dict)
    action: Action
    severity: Severity
    requires: tuple[Requirement, ...] = ()
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME_RE.match(v):
            raise ValueError(f"{v!r} is not a lower-case identifier ([a-z][a-z0-9_]*, at most 63 characters)")
        return v

    @field_validator("description", "predicate")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()

    @field_validator("parameters")
    @classmethod
    def _params(cls, params: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in params.items():
            if not _PARAM_RE.match(key):
                raise ValueError(f"parameter name {key!r} is not a lower-case identifier")
            try:
                if key.endswith("_bytes"):
                    value = _parse_size(value)
                elif key.endswith(_INT_SUFFIXES):
                    if isinstance(value, bool) or not isinstance(value, int):
                        raise ValueError(f"must be an integer, got {value!r}")
                    if value < 0:
                        raise ValueError(f"must not be negative, got {value}")
                elif isinstance(value, float) and not math.isfinite(value):
                    raise ValueError("must be a finite number")
            except ValueError as exc:
                raise ValueError(f"parameter {key!r}: {exc}") from None
            out[key] = value
        return out

    @model_validator(mode="after")
    def _templates(self) -> "Policy":
        used: set[str] = set()
        for field_name in ("predicate", "reason"):
            template = getattr(self, field_name)
            if template is None:
                continue
            try:
                found = _placeholders(template)
            except ValueError as exc:
                raise ValueError(f"{field_name}: {exc}") from None
            names = {name for name, _ in found}
            missing = sorted(names - set(self.parameters))
            if missing:
                raise ValueError(f"{field_name}: placeholder(s) {', '.join('{' + n + '}' for n in missing)} "
                                 f"name no parameter (declared: {sorted(self.parameters) or 'none'})")
            not_lists = sorted({name for name, spread in found
                                if spread and not isinstance(self.parameters[name], (list, tuple))})
            if not_lists:
                raise ValueError(f"{field_name}: {', '.join('{' + n + '*}' for n in not_lists)} spreads a list, "
                                 "but that parameter is not a list: write {name} for a single value")
            used.update(names)
        unused = sorted(set(self.parameters) - used)
        if unused:
            raise ValueError(f"parameters: {', '.join(unused)} declared but used by neither predicate nor reason")
        return self

    @property
    def predicate_sql(self) -> str:
        return render_template(self.predicate, self.parameters)

    @property
    def reason_sql(self) -> str:
        if self.reason is None:
            return sql_literal(f"caught by policy {self.name}")
        return render_template(self.reason, self.parameters)

    @property
    def destructive(self) -> bool:
        return self.action in DESTRUCTIVE_ACTIONS

    def with_parameters(self, **overrides: Any) -> "Policy":
        """A copy with some parameters replaced (validated again)."""
        unknown = sorted(set(overrides) - set(self.parameters))
        if unknown:
            raise PolicyConfigError(f"unknown parameter(s) {', '.join(unknown)}", policy=self.name,
                                    field="parameters")
        data = self.model_dump()
        data["parameters"] = {**self.parameters, **overrides}
        try:
            return Policy.model_validate(data)
        except ValidationError as exc:
            raise PolicyConfigError(_format_errors(exc), policy=self.name) from None


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    policies: tuple[Policy, ...]
    source: Optional[str] = Field(default=None, exclude=True)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.policies]

    def get(self, name: str) -> Policy:
        for p in self.policies:
            if p.name == name:
                return p
        raise KeyError(name)

    def enabled(self) -> list[Policy]:
        return [p for p in self.policies if p.enabled]


def enabled_policies(policies: Union[Catalogue, Iterable[Policy]]) -> list[Policy]:
    """The enabled policies of a catalogue, or of a list of policies."""
    return policies.enabled() if isinstance(policies, Catalogue) else [p for p in policies if p.enabled]


_FIELD_PREFIX_RE = re.compile(r"^([a-z_]+(?:\.[A-Za-z0-9_]+)*): ")


def _error_parts(err: Mapping[str, Any]) -> tuple[Optional[str], str]:
    loc = ".".join(str(x) for x in err.get("loc", ()) if x != "__root__")
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if not loc:  # model-level validators say which field in a "field: message" prefix
        m = _FIELD_PREFIX_RE.match(msg)
        if m:
            loc, msg = m.group(1), msg[m.end():]
    if loc == "parameters":  # "parameter 'x': ..." -> field parameters.x
        m = re.match(r"^parameter '([a-z0-9_]+)': ", msg)
        if m:
            loc, msg = f"parameters.{m.group(1)}", msg[m.end():]
    return (loc or None), msg


def _format_errors(exc: ValidationError) -> str:
    return describe_validation_error(exc, part=_error_parts, bare_single=True)


def _first_field(exc: ValidationError) -> Optional[str]:
    errs = exc.errors()
    if len(errs) != 1:
        return None
    return _error_parts(errs[0])[0]


def parse_catalogue(data: Any, *, source: str = "<catalogue>",
                    overrides: Optional[Mapping[str, Mapping[str, Any]]] = None) -> Catalogue:
    """Validate already-parsed catalogue data. ``overrides`` = {policy: {parameter: value}} (e.g. from
    pipeline configuration) replaces parameter values before validation."""
    if not isinstance(data, Mapping):
        raise PolicyConfigError("the top level must be a mapping with a 'policies' list", file=source)
    extra = sorted(set(data) - {"version", "policies"})
    if extra:
        raise PolicyConfigError(f"unknown top-level key(s) {', '.join(map(str, extra))}", file=source)
    if data.get("version", 1) != 1:
        raise PolicyConfigError(f"unsupported version {data.get('version')!r} (expected 1)", file=source,
                                field="version")
    raw = data.get("policies")
    if not isinstance(raw, list) or not raw:
        raise PolicyConfigError("'policies' must be a non-empty list", file=source, field="policies")
    overrides = dict(overrides or {})
    policies: list[Policy] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw, start=1):
        label = item.get("name") if isinstance(item, Mapping) and isinstance(item.get("name"), str) else f"#{i}"
        if not isinstance(item, Mapping):
            raise PolicyConfigError("each policy must be a mapping", file=source, policy=label)
        item = dict(item)
        if label in overrides:
            params = dict(item.get("parameters") or {})
            unknown = sorted(set(overrides[label]) - set(params))
            if unknown:
                raise PolicyConfigError(f"override names unknown parameter(s) {', '.join(unknown)}",
                                        file=source, policy=label, field="parameters")
            params.update(overrides[label])
            item["parameters"] = params
        try:
            policy = Policy.model_validate(item)
        except ValidationError as exc:
            raise PolicyConfigError(_format_errors(exc), file=source, policy=label,
                                    field=_first_field(exc)) from None
        if policy.name in seen:
            raise PolicyConfigError(f"duplicate policy name (also policy #{seen[policy.name]})", file=source,
                                    policy=policy.name, field="name")
        seen[policy.name] = i
        policies.append(policy)
    unknown_overrides = sorted(set(overrides) - set(seen))
    if unknown_overrides:
        raise PolicyConfigError(f"overrides name unknown policy(ies) {', '.join(unknown_overrides)}", file=source)
    return Catalogue(version=1, policies=tuple(policies), source=source)


def load_catalogue(path: Union[str, Path, None] = None, *,
                   overrides: Optional[Mapping[str, Mapping[str, Any]]] = None) -> Catalogue:
    """Load and validate a catalogue file (default: the packaged ``policies/catalogue.yml``)."""
    path = Path(path) if path is not None else DEFAULT_CATALOGUE
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyConfigError(f"cannot read: {exc.strerror or exc}", file=source) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise PolicyConfigError(f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}",
                                file=source) from None
    return parse_catalogue(data, source=source, overrides=overrides)


# --------------------------------------------------------------------------- legal holds


class Hold(BaseModel):
    """One row of the editable hold list.

    Matching (done in Spark by :func:`file_records.policies.evaluate.policy_flags`) deliberately over-matches, since
    a missed hold is the costly mistake: paths compare case-insensitively and ignore leading ``/``;
    ``path_prefix`` matches the path itself or anything below it (component boundary, so ``/Legal``
    does not catch ``/Legal2``); ``path_glob`` uses ``*`` (any characters, ``/`` included) and ``?``;
    ``file_id`` is exact; ``content_sha256`` is case-insensitive.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    hold_id: str = Field(min_length=1)
    match_type: Literal["file_id", "path_prefix", "path_glob", "content_sha256"]
    value: str = Field(min_length=1)
    reason: str = ""
    added_by: str = ""
    added_on: Optional[dt.date] = None

    @field_validator("hold_id", "value")
    @classmethod
    def _strip(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("must not be blank")
        return v

    @field_validator("match_type", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("added_on", mode="before")
    @classmethod
    def _empty_date(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @model_validator(mode="after")
    def _value(self) -> "Hold":
        if self.match_type == "content_sha256" and not _SHA256_RE.match(self.value.lower()):
            raise ValueError("value: a content_sha256 hold needs 64 hexadecimal characters")
        return self


def load_holds(path: Union[str, Path, None] = None) -> list[Hold]:
    """Validate a hold-list CSV (pure Python; use it at pipeline start so a typo fails loudly).

    Spark reads the same file with :func:`file_records.policies.evaluate.read_holds`.
    """
    path = Path(path) if path is not None else DEFAULT_HOLDS
    source = str(path)
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise PolicyConfigError(f"cannot read: {exc.strerror or exc}", file=source) from None
    holds: list[Hold] = []
    with fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in ("hold_id", "match_type", "value") if c not in header]
        if missing:
            raise PolicyConfigError(f"missing column(s) {', '.join(missing)} (expected {', '.join(HOLD_COLUMNS)})",
                                    file=source)
        unknown = [c for c in header if c not in HOLD_COLUMNS]
        if unknown:
            raise PolicyConfigError(f"unknown column(s) {', '.join(unknown)}", file=source)
        seen: set[str] = set()
        for row in reader:
            line = reader.line_num
            clean = {(k or "").strip(): (v if v is not None else "") for k, v in row.items() if k is not None}
            if not any(str(v).strip() for v in clean.values()):
                continue  # blank line
            try:
                hold = Hold.model_validate(clean)
            except ValidationError as exc:
                raise PolicyConfigError(f"line {line}: {_format_errors(exc)}", file=source,
                                        policy=clean.get("hold_id") or None, field=_first_field(exc)) from None
            key = f"{hold.hold_id}\x00{hold.match_type}\x00{hold.value}"
            if key in seen:
                raise PolicyConfigError(f"line {line}: duplicate hold row", file=source, policy=hold.hold_id)
            seen.add(key)
            holds.append(hold)
    return holds


def parse_overrides(items: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Parse ``policy.parameter=value`` strings (values as YAML scalars) into catalogue overrides."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        policy, dot, param = key.strip().partition(".")
        if not sep or not dot or not policy or not param:
            raise PolicyConfigError(f"override {item!r} is not policy.parameter=value")
        out.setdefault(policy, {})[param] = yaml.safe_load(raw) if raw.strip() else ""
    return out
