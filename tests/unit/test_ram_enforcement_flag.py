"""`localcloud serve --no-enforce-ram` exists for debugging and nothing that proves the
project works (tests, the demo, benchmarks, the Makefile, CI) ever uses it. bench_ram
measures the evaluator's own cost by switching it off inside its process for half of its
blocks; it never runs a localcloud without enforcement."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import localcloud.server
from localcloud.cli import app

ROOT = Path(__file__).resolve().parents[2]
FLAG = "--no-" + "enforce-ram"  # spelled apart so the scan below does not find this file
THIS = Path(__file__).resolve()


def _serve_config(monkeypatch, tmp_path, *args):
    seen = {}
    monkeypatch.setattr(localcloud.server, "serve", lambda cfg: seen.setdefault("cfg", cfg) and 0)
    result = CliRunner().invoke(app, ["serve", "--data-dir", str(tmp_path), *args])
    assert result.exit_code == 0, result.output
    return seen["cfg"]


def test_enforcement_is_on_by_default_and_the_flag_turns_it_off(monkeypatch, tmp_path):
    assert _serve_config(monkeypatch, tmp_path).enforce_ram is True
    assert _serve_config(monkeypatch, tmp_path, FLAG).enforce_ram is False


def test_the_flag_is_documented(tmp_path):
    assert FLAG in (ROOT / "docs" / "localcloud.md").read_text()


def test_no_test_demo_benchmark_or_ci_script_turns_enforcement_off():
    places = [ROOT / "tests", ROOT / "bench", ROOT / "ossbatch", ROOT / ".ci", ROOT / "Makefile"]
    offenders = []
    for place in places:
        files = [place] if place.is_file() else [p for p in place.rglob("*") if p.is_file()]
        for path in files:
            if path.resolve() == THIS or path.suffix in (".pyc", ".zip", ".json"):
                continue
            try:
                text = path.read_text(errors="ignore")
            except OSError:
                continue
            if FLAG in text or "enforce_ram=False" in text or "enforce_ram = False" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], f"these turn RAM enforcement off: {offenders}"
