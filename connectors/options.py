"""Data source options arrive as strings; one place turns them into a validated model."""

from __future__ import annotations

from typing import Iterable, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


def parse_options(model: type[Model], options: dict, source: str, json_lists: Iterable[str] = ()) -> Model:
    """Empty strings are unset; `json_lists` options hold JSON lists; a bad value is a ValueError
    naming the data source and the option."""
    raw = {key: value for key, value in dict(options).items() if value not in (None, "")}
    for key in json_lists:
        if isinstance(raw.get(key), str):
            try:
                raw[key] = orjson.loads(raw[key])
            except orjson.JSONDecodeError:
                raise ValueError(f'{source} option "{key}" must be a JSON list of strings, e.g. ["a", "b"]') from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"invalid {source} data source options: {problems}") from None
