"""The pipeline configuration: which components are on, and each component's settings.

Settings are not declared here: each component's options model is the one declaration
(``DxrSourceOptions``, ``WorkspaceSourceOptions``, ``PolicyOptions``), and its keys are
``file_records.<component>.<field>`` (:meth:`file_records.options.OptionsModel.conf_key`). This
module adds the one key per component that is the pipeline's own: ``file_records.<component>.enabled``.
The local runner writes these keys on the Spark session; the bundle's pipeline resource sets them
under ``configuration:``. Secrets are never among them: the pipeline gets the *name* of an
environment variable or a secret scope/key, and the connector resolves the token on the driver.
"""

from __future__ import annotations

from typing import Callable, Optional

from file_records.connectors.dxr.options import DxrSourceOptions
from file_records.connectors.workspace.options import WorkspaceSourceOptions
from file_records.errors import ConfigError
from file_records.options import PIPELINE_PREFIX, OptionsModel
from file_records.policies.options import PolicyOptions

COMPONENTS: dict[str, type[OptionsModel]] = {
    "dxr": DxrSourceOptions,
    "workspace": WorkspaceSourceOptions,
    "policies": PolicyOptions,
}
# Off unless switched on, but policies: they run whenever a source does.
ENABLED_BY_DEFAULT = {"dxr": False, "workspace": False, "policies": True}

ConfGetter = Callable[[str, Optional[str]], Optional[str]]


def enabled_key(component: str) -> str:
    return f"{PIPELINE_PREFIX}.{component}.enabled"


def all_keys() -> list[str]:
    """Every key the pipeline reads."""
    keys = []
    for component, model in COMPONENTS.items():
        keys.append(enabled_key(component))
        keys.extend(model.conf_keys())
    return keys


def enabled(conf_get: ConfGetter, component: str) -> bool:
    key = enabled_key(component)
    value = conf_get(key, None)
    if value is None or str(value).strip() == "":
        return ENABLED_BY_DEFAULT[component]
    lowered = str(value).strip().lower()
    if lowered not in ("true", "false"):
        raise ConfigError(f"{key} must be true or false")
    return lowered == "true"


def options(conf_get: ConfGetter, component: str) -> OptionsModel:
    """The component's validated settings from the pipeline configuration."""
    return COMPONENTS[component].from_pipeline_conf(conf_get)


def conf_for(component: str, settings: OptionsModel, enable: bool = True) -> dict[str, str]:
    """The pipeline configuration that runs ``component`` with ``settings`` (local runner)."""
    return {enabled_key(component): "true" if enable else "false", **settings.to_pipeline_conf()}
