"""`file-records doctor`: what a run needs, checked in seconds and without Spark: Java, the
configuration, each configured source (reachable? token accepted?) and the state directory."""

from __future__ import annotations

import argparse
import fcntl
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from rich.console import Console
from rich.table import Table

from file_records.commands.run import SOURCES, add_state_dir

HELP = "check Java, the configuration, the sources and the state directory"

OK, PROBLEM, SKIPPED = "ok", "problem", "skipped"
DOCTOR_QUERY = 'fileName:"__file_records_doctor__"'
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 20.0


@dataclass
class Check:
    name: str
    status: str
    detail: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_dir(parser)
    parser.add_argument("--dxr-base-url", help="overrides DXR_BASE_URL")


def check_java() -> Check:
    from file_records.local.spark import check_java as find_java

    try:
        find_java()
    except Exception as exc:  # noqa: BLE001 - any failure is the check's answer
        return Check("java", PROBLEM, str(exc))
    return Check("java", OK, "Java 17 or newer found")


def check_dxr(settings) -> Check:
    import requests

    options = settings.dxr
    if not options.configured:
        return Check("dxr", SKIPPED, "not configured (DXR_BASE_URL)")
    if settings.dxr_token is None:
        if options.token_scope:
            return Check("dxr", SKIPPED, "the token is in a Databricks secret scope; checked only on Databricks")
        return Check("dxr", PROBLEM, f"{options.token_env} is not set (environment or .env)")
    verify = str(options.ca_bundle) if (options.verify_ssl and options.ca_bundle) else options.verify_ssl
    url = f"{options.base_url}/api/v1/files"
    try:
        response = requests.get(
            url,
            params={"q": DOCTOR_QUERY},
            headers={"Authorization": f"Bearer {settings.dxr_token.get_secret_value()}",
                     "User-Agent": options.user_agent, "Accept": "application/x-ndjson"},
            stream=True,
            timeout=(CONNECT_TIMEOUT, min(READ_TIMEOUT, options.http_timeout)),
            verify=verify,
        )
    except requests.exceptions.SSLError as exc:
        return Check("dxr", PROBLEM, f"TLS to {options.base_url} failed ({type(exc).__name__}): check the certificate "
                                     "or set DXR_CA_BUNDLE")
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        return Check("dxr", PROBLEM, f"could not connect to Data X-Ray at {options.base_url} ({type(exc).__name__}): "
                                     "check DXR_BASE_URL and the network")
    with response:  # headers are enough: the body is not read
        status = response.status_code
    if status in (401, 403):
        return Check("dxr", PROBLEM, f"{options.base_url} rejected the token (HTTP {status}): check {options.token_env}")
    if status >= 400:
        return Check("dxr", PROBLEM, f"{options.base_url} answered HTTP {status} to a test query")
    return Check("dxr", OK, f"{options.base_url} reachable, token accepted")


def check_workspace(settings, client_factory: Optional[Callable[..., object]] = None) -> Check:
    options = settings.workspace
    if not options.configured:
        return Check("workspace", SKIPPED, "not configured (DATABRICKS_HOST or DATABRICKS_CONFIG_PROFILE)")
    where = options.host or f"profile {options.profile}"
    if options.host and client_factory is None:
        unreachable = _tcp_problem(options.host)
        if unreachable:
            return Check("workspace", PROBLEM, f"could not connect to {options.host} ({unreachable}): check "
                                               "DATABRICKS_HOST and the network")
    try:
        if client_factory is None:
            from databricks.sdk import WorkspaceClient
            from databricks.sdk.config import Config

            def client_factory(**kwargs):
                return WorkspaceClient(config=Config(**kwargs))

        kwargs: dict = {"http_timeout_seconds": int(READ_TIMEOUT), "retry_timeout_seconds": 10}
        if options.host:
            kwargs["host"] = options.host
        if options.profile:
            kwargs["profile"] = options.profile
        if settings.workspace_token is not None:
            kwargs["token"] = settings.workspace_token.get_secret_value()
        me = client_factory(**kwargs).current_user.me()
    except Exception as exc:  # noqa: BLE001 - the SDK raises many kinds; each is the check's answer
        text = " ".join(str(exc).split()).split(" Config: ")[0][:300]  # the SDK appends its whole config
        status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
        auth_class = type(exc).__name__ in ("Unauthenticated", "PermissionDenied", "PermissionError")
        if auth_class or status in (401, 403) or "401" in text[:40] or "invalid access token" in text.lower():
            return Check("workspace", PROBLEM, f"{where} rejected the credentials: {text}")
        return Check("workspace", PROBLEM, f"{where}: {type(exc).__name__}: {text}")
    return Check("workspace", OK, f"{where} reachable, signed in as {getattr(me, 'user_name', None) or 'a user'}")


def _tcp_problem(url: str) -> Optional[str]:
    """Why a TCP connection to the URL's host cannot be opened (None: it can), in seconds rather
    than after the SDK's retries."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url if "://" in url else f"https://{url}")
    port = parts.port or (80 if parts.scheme == "http" else 443)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=CONNECT_TIMEOUT):
            return None
    except OSError as exc:
        return type(exc).__name__


def check_state_dir(state_dir: Path) -> Check:
    from file_records.local.spark import StatePaths

    paths = StatePaths(state_dir.resolve())
    root = paths.root
    if root.exists() and not root.is_dir():
        return Check("state directory", PROBLEM, f"{state_dir} is a file, not a directory")
    if not root.exists():
        parent = next((p for p in root.parents if p.exists()), None)
        if parent is None or not os.access(parent, os.W_OK | os.X_OK):
            return Check("state directory", PROBLEM, f"{state_dir} does not exist and {parent} is not writable")
        return Check("state directory", OK, f"{state_dir} does not exist yet; the first run creates it")
    try:
        with tempfile.NamedTemporaryFile(dir=root, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check("state directory", PROBLEM, f"{state_dir} is not writable: {exc.strerror or exc}")
    if paths.lock.exists():
        try:
            with open(paths.lock, "a+") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return Check("state directory", PROBLEM,
                                 f"{state_dir} is in use by another file-records process (a run, query or report)")
        except OSError as exc:
            return Check("state directory", PROBLEM, f"{paths.lock} cannot be opened: {exc.strerror or exc}")
    state = "holds pipeline state" if paths.exists() else "has no pipeline state yet"
    return Check("state directory", OK, f"{state_dir} is writable, not locked, {state}")


def run_checks(args: argparse.Namespace, environ=None) -> list[Check]:
    from file_records.settings import load_settings

    checks = [check_java()]
    try:
        settings = load_settings({"base_url": getattr(args, "dxr_base_url", None)}, environ=environ)
    except Exception as exc:  # noqa: BLE001 - ConfigError: reported, not raised
        checks.append(Check("configuration", PROBLEM, " ".join(str(exc).split())))
        checks.extend(Check(source, SKIPPED, "the configuration is invalid") for source in SOURCES)
    else:
        configured = [s for s in SOURCES if getattr(settings, s).configured]
        detail = f"sources configured: {', '.join(configured)}" if configured else (
            "no source configured: set DXR_BASE_URL and DXR_BEARER_TOKEN and/or DATABRICKS_HOST and "
            "DATABRICKS_TOKEN, or use `file-records run --demo`")
        checks.append(Check("configuration", OK if configured else PROBLEM, detail))
        checks.append(check_dxr(settings))
        checks.append(check_workspace(settings))
    checks.append(check_state_dir(args.state_dir))
    return checks


_STYLE = {OK: "green", PROBLEM: "bold red", SKIPPED: "dim"}


def run(args: argparse.Namespace, console: Console) -> int:
    with (console.status("checking…") if console.is_terminal else _Quiet()):
        checks = run_checks(args)
    table = Table(title="file-records doctor")
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    for check in checks:
        table.add_row(check.name, f"[{_STYLE[check.status]}]{check.status}[/]", check.detail)
    Console(highlight=False).print(table)
    problems = [c for c in checks if c.status == PROBLEM]
    if problems:
        console.print(f"[bold red]{len(problems)} problem{'s' if len(problems) > 1 else ''}[/]: "
                      + ", ".join(c.name for c in problems))
        return 1
    return 0


class _Quiet:
    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        return None
