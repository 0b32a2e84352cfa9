"""One declaration of a component's settings, read from wherever they come.

A source's pydantic options model (``DxrOptions``, ``WorkspaceOptions``, ``PolicyOptions``) is the
single place that names its settings, their types, defaults and validation. Everything else is
derived from it here:

- data source options (strings, what ``spark.readStream.format("dxr").option(...)`` passes),
- environment variables and ``.env`` for the command line (``DXR_BASE_URL`` ...),
- pipeline configuration keys ``file_records.<component>.<field>`` (the bundle, the local runner).

Every way in is strings, so every way in goes through :meth:`OptionsModel.from_options`: one parser,
one set of error messages (naming the setting as the user wrote it, never repeating a value).
"""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Callable, ClassVar, Optional, TypeVar

import orjson
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError

from file_records.errors import ConfigError, describe_validation_error

PIPELINE_PREFIX = "file_records"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> timedelta:
    """'24h', '90m', '3600', 3600 or a timedelta -> timedelta; anything else is a clear error."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError("is not a duration; use a number with an optional unit s, m, h, d or w, e.g. '24h'")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def _strict_bool(value: Any) -> Any:
    # The predecessor treated anything but 0/false/no as true ("off" -> true); the README promises
    # true/false and nothing else.
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"true", "false"}:
            return lowered == "true"
        raise ValueError("must be true or false")
    return value


def _existing_file(value: Path) -> Path:
    if not value.is_file():
        raise ValueError(f"{str(value)!r} is not a readable file")
    return value


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
StrictBool = Annotated[bool, BeforeValidator(_strict_bool)]
ExistingFile = Annotated[Path, AfterValidator(_existing_file)]  # a file that is there now
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]  # a time without a zone is UTC

Model = TypeVar("Model", bound="OptionsModel")


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is list:
        return True
    return any(_is_list(arg) for arg in typing.get_args(annotation) if arg is not type(None))


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        return str(int(seconds)) if seconds.is_integer() else str(seconds)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return orjson.dumps(list(value)).decode()
    if isinstance(value, Path):
        return str(value)
    return str(value)


class OptionsModel(BaseModel):
    """Base of every options model. Subclasses set ``COMPONENT`` (the pipeline key segment and
    the name in messages) and ``ENV_PREFIX``; a field may name other environment variables with
    ``json_schema_extra={"env": [...]}`` (the first one wins)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    COMPONENT: ClassVar[str] = ""
    ENV_PREFIX: ClassVar[str] = ""

    # ---- names -------------------------------------------------------------------------------
    @classmethod
    def env_names(cls, field: str) -> list[str]:
        extra = cls.model_fields[field].json_schema_extra
        named = list(extra.get("env", [])) if isinstance(extra, dict) else []
        return named or [f"{cls.ENV_PREFIX}{field.upper()}"]

    @classmethod
    def conf_key(cls, field: str) -> str:
        return f"{PIPELINE_PREFIX}.{cls.COMPONENT}.{field}"

    @classmethod
    def conf_keys(cls) -> list[str]:
        return [cls.conf_key(field) for field in cls.model_fields]

    # ---- reading -----------------------------------------------------------------------------
    @classmethod
    def from_options(
        cls: type[Model], options: Mapping[str, Any], name: Optional[Callable[[str], str]] = None
    ) -> Model:
        """Strings (or typed values) -> the validated model. Empty strings are unset; list fields
        take JSON lists. A bad value raises :class:`ConfigError` naming each setting by ``name``
        (default: ``<component> option "<field>"``)."""
        name = name or (lambda field: f'{cls.COMPONENT} option "{field}"')
        raw: dict[str, Any] = {}
        for key, value in dict(options).items():
            if value is None or value == "":
                continue
            field = cls.model_fields.get(key)
            if field is not None and isinstance(value, str) and _is_list(field.annotation):
                try:
                    value = orjson.loads(value)
                except orjson.JSONDecodeError:
                    raise ConfigError(f'{name(key)} must be a JSON list of strings, e.g. ["a", "b"]') from None
            raw[key] = value
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(f"invalid {cls.COMPONENT} settings: {describe_validation_error(exc, name)}") from None

    @classmethod
    def from_env(
        cls: type[Model],
        environ: Optional[Mapping[str, str]] = None,
        dotenv: Optional[Mapping[str, Optional[str]]] = None,
        overrides: Optional[Mapping[str, Any]] = None,
    ) -> Model:
        """Flags (``overrides``, by field name), then the environment, then ``.env``."""
        environ = os.environ if environ is None else environ
        dotenv = dotenv or {}
        upper_env = {key.upper(): value for key, value in environ.items()}
        upper_dotenv = {key.upper(): value for key, value in dotenv.items() if value is not None}
        raw: dict[str, Any] = {}
        for field in cls.model_fields:
            for env_name in cls.env_names(field):
                if env_name in upper_env:
                    raw[field] = upper_env[env_name]
                    break
                if env_name in upper_dotenv:
                    raw[field] = upper_dotenv[env_name]
                    break
        raw.update({key: value for key, value in (overrides or {}).items() if value is not None})
        return cls.from_options(raw, name=lambda field: cls.env_names(field)[0] if field in cls.model_fields else field)

    @classmethod
    def from_pipeline_conf(cls: type[Model], conf_get: Callable[[str, Optional[str]], Optional[str]]) -> Model:
        """The model from the pipeline configuration (``spark.conf.get``); unset keys keep defaults."""
        raw = {field: conf_get(cls.conf_key(field), None) for field in cls.model_fields}
        return cls.from_options(raw, name=cls.conf_key)

    # ---- writing -----------------------------------------------------------------------------
    def to_options(self) -> dict[str, str]:
        """The settings that differ from the defaults, as data source option strings."""
        values = self.model_dump(exclude_defaults=True)
        return {key: _as_string(value) for key, value in values.items() if value is not None}

    def to_pipeline_conf(self) -> dict[str, str]:
        return {self.conf_key(key): value for key, value in self.to_options().items()}
