"""The peer suite's bookkeeping: documented exclusions, and how outcomes become rates."""

from __future__ import annotations

import json
from pathlib import Path

from peer.exclusions import EXCLUDED, PEER_FILES
from peer.results import FileResult, collect

DOCS = Path(__file__).resolve().parent.parent / "docs" / "localcloud.md"
ALLOWED_REASONS = (
    "KMS",
    "image processing",
    "live channels",
    "callback server",
    "network timeout",
    "real host",
)


def test_every_exclusion_is_listed_in_the_docs_with_its_reason():
    text = DOCS.read_text()
    for case, reason in EXCLUDED.items():
        assert f"| `{case}` | {reason} |" in text, case


def test_every_exclusion_names_a_service_localcloud_does_not_emulate():
    for case, reason in EXCLUDED.items():
        assert reason.startswith(ALLOWED_REASONS), case
        assert case.split("::", 1)[0] in PEER_FILES, case


def test_a_file_where_nothing_ran_counts_as_a_failure_not_a_pass(tmp_path):
    (tmp_path / "outcomes-gw0.json").write_text(
        json.dumps({"test_a.py::T::test_x": "passed", "test_a.py::T::test_y": "error"})
    )
    results = collect(tmp_path, ["test_a.py", "test_b.py"], {"test_a.py::T::test_z": "KMS"})
    a, b = results
    assert (a.passed, a.failed, a.excluded) == (1, 1, 1)
    assert a.rate == 0.5
    assert b.failed == 1 and b.rate == 0.0
    assert FileResult.total(results).rate == 1 / 3
