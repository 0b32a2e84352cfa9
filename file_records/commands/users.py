"""`file-records users`: the workspace's users (SCIM, deactivated ones included) to a CSV."""

from __future__ import annotations

import argparse

from rich.console import Console

from file_records.errors import UsageError


def users_command(args: argparse.Namespace, console: Console) -> int:
    from connectors.workspace.client import ApiError, WorkspaceAuth
    from connectors.workspace.users import list_users, write_users_csv

    from file_records.commands.run import load_workspace_settings

    settings = load_workspace_settings()
    if not settings.configured:
        raise UsageError("set DATABRICKS_HOST and DATABRICKS_TOKEN (or DATABRICKS_CONFIG_PROFILE) to list users")
    auth = WorkspaceAuth(
        host=settings.host,
        token=settings.token.get_secret_value() if settings.token is not None else None,
        profile=settings.profile,
    )
    try:
        users = list_users(auth, max_users=args.max_users)
    except ApiError as exc:
        console.print(f"[bold red]could not list users:[/] {exc}")
        return 1
    count = write_users_csv(users, args.out, header=not args.plain)
    inactive = sum(1 for user in users if user.active is False)
    console.print(f"{count} user(s) written to {args.out} ({inactive} deactivated)")
    return 0
