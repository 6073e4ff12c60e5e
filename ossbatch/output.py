"""One way to print results: JSON for scripts (`--json`), rich tables for people.

And one way to print errors: every failure a user can meet becomes one line on stderr
(`{"error", "detail", "exit_code"}` with `--json`) and a documented exit code; no
traceback reaches a user (OSSBATCH_DEBUG=1 shows it).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback

import typer
import typer.core
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

# exit codes (docs/operations.md)
EXIT_OK = 0
EXIT_FAILED_ITEMS = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_INTERNAL = 70  # a bug: the one-line message asks for a report

UNREACHABLE_HINT = (
    "run `ossbatch local up` (locally) or check the network/endpoint, "
    "then `ossbatch jobs resume <job-id>` for jobs that were running"
)
# a table this wide cuts nothing: ids (~40) and oss:// URLs (~90) fit in one cell
WIDE_ENOUGH = 120


def _click():
    """The click typer parses with (typer >= 0.2x vendors its own copy as typer._click)."""
    return getattr(typer.core, "_click", None) or __import__("click")


class CloudUnreachable(Exception):
    """localcloud or the cloud endpoint does not answer (exit code 3)."""


def _wide_console() -> bool:
    return console.is_terminal and console.width >= WIDE_ENOUGH


def emit(doc: dict, as_json: bool, title: str = "") -> None:
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n")
        sys.stdout.flush()
        return
    values = {
        str(key): json.dumps(value, ensure_ascii=False, default=str)
        if isinstance(value, dict | list)
        else str(value)
        for key, value in doc.items()
    }
    if not _wide_console():
        # pipes, CI and 80-column terminals: `field: value` lines, ids and URLs never cut
        if title:
            console.print(f"[bold]{escape(title)}[/]")
        for key, value in values.items():
            console.print(f"{key}: {value}", soft_wrap=True, highlight=False, markup=False)
        return
    table = Table(title=title or None, show_header=False, box=None)
    table.add_column("field", style="bold cyan", no_wrap=True)
    table.add_column("value", overflow="fold")  # long values wrap, never get cut
    for key, value in values.items():
        table.add_row(key, value)
    console.print(table)


def emit_lines(lines: list[str], title: str = "") -> None:
    """Whole lines for people (never cut, never styled): a titled block after a table."""
    if title:
        console.print(f"[bold]{escape(title)}[/]")
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False, markup=False)


def emit_rows(rows: list[dict], columns: list[str], as_json: bool, title: str = "") -> None:
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2, sort_keys=True, default=str) + "\n")
        return
    if not _wide_console():
        # pipes, CI and 80-column terminals: one block per row, every value whole
        if title:
            console.print(f"[bold]{escape(title)}[/] ({len(rows)})")
        for n, row in enumerate(rows):
            if n:
                console.print()
            for column in columns:
                line = f"{column}: {row.get(column, '')}"
                console.print(line, soft_wrap=True, highlight=False, markup=False)
        return
    table = Table(title=title or None)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    console.print(table)


def classify(exc: BaseException) -> tuple[str, str, int]:
    """(error kind, one-line detail, exit code) for any exception that reaches the CLI."""
    click = _click()

    from ossbatch.cloud import ConfigError
    from ossbatch.config import EnvironmentFileError

    if isinstance(exc, CloudUnreachable):
        return "unreachable", str(exc), EXIT_UNREACHABLE
    if isinstance(exc, ConfigError | EnvironmentFileError):
        return "usage", str(exc), EXIT_USAGE
    if isinstance(exc, click.exceptions.UsageError):
        where = f"{exc.ctx.command_path}: " if getattr(exc, "ctx", None) else ""
        return "usage", where + exc.format_message(), EXIT_USAGE
    if isinstance(exc, click.exceptions.ClickException):
        return "usage", exc.format_message(), exc.exit_code
    unreachable = _unreachable_detail(exc)
    if unreachable:
        return "unreachable", f"{unreachable}; {UNREACHABLE_HINT}", EXIT_UNREACHABLE
    if isinstance(exc, UnicodeDecodeError):
        return "usage", f"a file is not UTF-8 text ({exc.reason} at byte {exc.start})", EXIT_USAGE
    if isinstance(exc, OSError) and exc.filename:
        return "usage", f"{exc.filename}: {exc.strerror or exc}", EXIT_USAGE
    if isinstance(exc, TimeoutError):
        return "timeout", str(exc), EXIT_FAILED_ITEMS
    return (
        "internal",
        f"{type(exc).__name__}: {exc} (a bug: rerun with OSSBATCH_DEBUG=1 and report the traceback)",
        EXIT_INTERNAL,
    )


def _unreachable_detail(exc: BaseException) -> str:
    """`cannot connect to host:port` when exc (or its cause) is a connection failure, else ''."""
    import oss2
    import requests

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "inner_exception", None)
        if (
            isinstance(exc, oss2.exceptions.RequestError | requests.exceptions.ConnectionError)
            or isinstance(exc, ConnectionError)
            or type(exc).__name__ == "MNSClientNetworkException"
            or (
                type(exc).__name__ == "UnretryableException"
                and isinstance(inner, requests.exceptions.ConnectionError | ConnectionError)
            )
        ):
            return f"cannot connect to {_endpoint_in(exc)}"
        exc = exc.__cause__ or exc.__context__ or inner
    return ""


def _endpoint_in(exc: BaseException) -> str:
    """host:port named by a connection error (never the request URL: it carries signatures)."""
    import re

    text = str(getattr(exc, "body", "") or "") + " " + str(exc)
    found = re.search(r"host='([^']+)', port=(\d+)", text)
    if found:
        return f"{found.group(1)}:{found.group(2)}"
    return "the endpoint (" + type(exc).__name__ + ")"


def report_error(exc: BaseException, as_json: bool) -> int:
    """Print exc as one line on stderr (JSON with --json) and return its exit code."""
    kind, detail, code = classify(exc)
    detail = " ".join(detail.split("\n")) if kind != "usage" else "; ".join(detail.splitlines())
    if os.environ.get("OSSBATCH_DEBUG"):
        traceback.print_exception(exc, file=sys.stderr)
    if as_json:
        doc = {"error": kind, "detail": detail, "exit_code": code}
        sys.stderr.write(json.dumps(doc, sort_keys=True) + "\n")
    else:
        err_console.print("[red]error:[/] " + escape(detail), soft_wrap=True, highlight=False)
    sys.stderr.flush()
    return code


ROOT_VALUE_OPTIONS = ("--env", "--data-dir")


def json_after_command(args: list[str]) -> list[str]:
    """`ossbatch --json jobs list` means `ossbatch jobs list --json`: --json is every leaf
    command's option, so one given before the command is moved to its end (before `--`)."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        if args[i] == "--json":
            rest = args[:i] + args[i + 1 :]
            end = rest.index("--") if "--" in rest else len(rest)
            return rest[:end] + ["--json"] + rest[end:]
        i += 2 if args[i] in ROOT_VALUE_OPTIONS else 1
    return args


class OneLineErrors(typer.core.TyperGroup):
    """The root command: every error, click's usage errors included, is reported as one line."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        click = _click()
        args = json_after_command(list(sys.argv[1:] if args is None else args))
        as_json = "--json" in args[: args.index("--")] if "--" in args else "--json" in args
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            if exc.format_message():  # rich help printed itself while the error was made
                click.echo(exc.format_message())
            code = exc.exit_code
        except (typer.Abort, getattr(click.exceptions, "Abort", typer.Abort)):
            code = EXIT_FAILED_ITEMS
        except (typer.Exit, getattr(click.exceptions, "Exit", typer.Exit)) as exc:
            code = exc.exit_code
        except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
            code = report_error(exc, as_json)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


def handles_errors(fn):
    """Kept for the commands' signatures: errors are reported once, by OneLineErrors.main."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper
