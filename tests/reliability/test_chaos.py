"""Chaos: with localcloud failing 5% of OSS requests (503 SlowDown, 500, connection resets)
and stalling 1% for two seconds, the demo's jobs still finish with every object and entry
correct (the demo compares bytes, storage class and readability itself)."""

from __future__ import annotations

import pytest

from ossbatch import demo

OBJECTS, ENTRIES = 1000, 500


@pytest.fixture(scope="module")
def chaos_run():
    lines = demo.run(OBJECTS, ENTRIES, chaos=True, keep=False)
    return {line.job: line for line in lines}


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_copy_and_restore_are_exact_under_faults_and_stalls(chaos_run):
    for job in ("copy", "restore"):
        line = chaos_run[job]
        assert line.ok, f"{job}: {line.detail}"
        assert line.items == OBJECTS and line.failed == 0


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_zip_uploaded_under_chaos_is_extracted_exactly(chaos_run):
    line = chaos_run["unzip"]
    assert line.ok, line.detail
    assert line.items == ENTRIES and line.failed == 0
