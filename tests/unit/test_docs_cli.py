"""The docs say what the CLI does: exit codes, the concurrency limit, how to run the CLI
after `make demo`, and where the README's index comes from."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from ossbatch import output
from ossbatch.cli import app
from ossbatch.jobdocs import MAX_SHARDS

ROOT = Path(__file__).resolve().parents[2]


def test_operations_documents_every_exit_code():
    text = (ROOT / "docs" / "operations.md").read_text()
    for code in (
        output.EXIT_OK,
        output.EXIT_FAILED_ITEMS,
        output.EXIT_USAGE,
        output.EXIT_UNREACHABLE,
        output.EXIT_INTERNAL,
    ):
        assert re.search(rf"^\| {code} \|", text, re.M), f"exit code {code} not in the table"
    assert '{"error"' in text and '"exit_code"' in text


def test_concurrency_help_and_docs_agree_on_the_map_limit():
    help_text = CliRunner().invoke(app, ["copy", "start", "--help"], env={"COLUMNS": "200"})
    assert f"1..{MAX_SHARDS}" in help_text.output
    assert (
        f"`--concurrency` is the number of shards, 1..{MAX_SHARDS}"
        in (ROOT / "docs" / "operations.md").read_text()
    )


def test_readme_says_where_the_cli_is_and_creates_the_index_it_copies():
    readme = (ROOT / "README.md").read_text()
    assert ".venv/bin/ossbatch" in readme and "source .venv/bin/activate" in readme
    [index] = set(re.findall(r"--index oss://([\w-]+/[\w./-]+)", readme))
    bucket, key = index.split("/", 1)
    assert f"b = conn.oss_bucket('{bucket}')" in readme
    assert f"b.put_object('{key}'" in readme
