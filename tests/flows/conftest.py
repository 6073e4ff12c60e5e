"""Fixtures for flow-engine tests: a FlowEngine in a fresh data dir, closed afterwards."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from localcloud.flow.engine import FlowEngine  # noqa: E402


@pytest.fixture
def make_engine(tmp_path):
    engines: list[FlowEngine] = []

    def make(**kwargs) -> FlowEngine:
        kwargs.setdefault("data_dir", tmp_path / "flow")
        engine = FlowEngine(**kwargs)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        try:
            engine.close()
        except Exception:
            pass


@pytest.fixture
def engine(make_engine):
    return make_engine()
