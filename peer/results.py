"""Per-file outcome counts of a peer run, merged from the plugin's per-worker files."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class FileResult:
    file: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    excluded: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def counted(self) -> int:
        """Cases that ran and count toward the rate (skipped ones count as not passed)."""
        return self.passed + self.failed + self.skipped

    @property
    def rate(self) -> float:
        return self.passed / self.counted if self.counted else 1.0

    def as_dict(self) -> dict:
        return {**asdict(self), "rate": round(self.rate, 4)}

    @classmethod
    def total(cls, results: list[FileResult]) -> FileResult:
        out = cls("total")
        for r in results:
            out.passed += r.passed
            out.failed += r.failed
            out.skipped += r.skipped
            out.excluded += r.excluded
        return out


def collect(outcome_dir: Path, files: list[str], excluded: dict[str, str]) -> list[FileResult]:
    outcomes: dict[str, str] = {}
    for part in sorted(outcome_dir.glob("outcomes-*.json")):
        outcomes.update(json.loads(part.read_text()))
    by_file = {f: FileResult(f) for f in files}
    for case, outcome in sorted(outcomes.items()):
        result = by_file.get(case.split("::", 1)[0])
        if result is None:
            continue
        if outcome == "passed":
            result.passed += 1
        elif outcome == "skipped":
            result.skipped += 1
        else:
            result.failed += 1
            result.failures.append(case)
    for case in excluded:
        result = by_file.get(case.split("::", 1)[0])
        if result is not None:
            result.excluded += 1
    for result in by_file.values():
        if not result.counted and not result.excluded:
            # nothing ran: the file did not import, which is a failure, not a pass
            result.failed += 1
            result.failures.append(f"{result.file} (no case ran: see the pytest log)")
    return list(by_file.values())


def render_table(results: list[FileResult]) -> str:
    rows = [f"{'file':28} {'passed':>6} {'failed':>6} {'skipped':>7} {'excluded':>8} {'rate':>7}"]
    for r in [*results, FileResult.total(results)]:
        rows.append(
            f"{r.file:28} {r.passed:6d} {r.failed:6d} {r.skipped:7d} {r.excluded:8d} {r.rate:7.1%}"
        )
    failures = [case for r in results for case in r.failures]
    if failures:
        rows.append("not passing:")
        rows.extend(f"  {case}" for case in failures)
    return "\n".join(rows)
