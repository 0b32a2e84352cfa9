"""`file-records emulate`: serve the Data X-Ray API emulator for your own experiments."""

from __future__ import annotations

import argparse

from rich.console import Console

HELP = "serve the Data X-Ray API emulator on 127.0.0.1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from file_records.emulators.dxr_server import add_arguments as emulator_arguments

    emulator_arguments(parser)


def run(args: argparse.Namespace, console: Console) -> int:
    from file_records.emulators.dxr_server import serve

    return serve(args, announce=lambda line: console.print(line, soft_wrap=True)) or 0
