"""One way to print results: JSON for scripts (`--json`), rich tables for people."""

from __future__ import annotations

import functools
import json
import sys

from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


def emit(doc: dict, as_json: bool, title: str = "") -> None:
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n")
        sys.stdout.flush()
        return
    table = Table(title=title or None, show_header=False, box=None)
    table.add_column("field", style="bold cyan")
    table.add_column("value")
    for key, value in doc.items():
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False, default=str)
        table.add_row(str(key), str(value))
    console.print(table)


def emit_rows(rows: list[dict], columns: list[str], as_json: bool, title: str = "") -> None:
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2, sort_keys=True, default=str) + "\n")
        return
    table = Table(title=title or None)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    console.print(table)


def handles_errors(fn):
    """Configuration problems become one readable line and exit code 2."""
    import typer

    from ossbatch.cloud import ConfigError
    from ossbatch.config import EnvironmentFileError

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ConfigError, EnvironmentFileError) as exc:
            err_console.print(f"[red]error:[/] {exc}", soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper
