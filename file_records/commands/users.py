"""`file-records users`: the workspace's users (SCIM, deactivated ones included) to a CSV."""

from __future__ import annotations

import argparse

from rich.console import Console

from file_records.errors import UsageError

HELP = "export the workspace's users (SCIM) to a CSV"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output CSV path")
    parser.add_argument("--max-users", type=int, default=None)
    parser.add_argument("--plain", action="store_true", help="one user name per line, no header (the predecessor's format)")


def run(args: argparse.Namespace, console: Console) -> int:
    from file_records.connectors.workspace.client import WorkspaceAuth
    from file_records.connectors.workspace.options import WorkspaceSourceOptions
    from file_records.connectors.workspace.users import list_users, write_users_csv
    from file_records.settings import WORKSPACE_TOKEN_ENV, load, secret

    settings = load(WorkspaceSourceOptions)
    if not settings.configured:
        raise UsageError("set DATABRICKS_HOST and DATABRICKS_TOKEN (or DATABRICKS_CONFIG_PROFILE) to list users")
    token = secret(WORKSPACE_TOKEN_ENV)
    auth = WorkspaceAuth(
        host=settings.host,
        token=token.get_secret_value() if token is not None else None,
        profile=settings.profile,
    )
    users = list_users(auth, max_users=args.max_users)
    count = write_users_csv(users, args.out, header=not args.plain)
    inactive = sum(1 for user in users if user.active is False)
    console.print(f"{count} user(s) written to {args.out} ({inactive} deactivated)")
    return 0
