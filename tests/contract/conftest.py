"""Fixtures shared by the copy handler tests (other modules define their own ``env``)."""

from __future__ import annotations

import uuid

import oss2
import pytest


@pytest.fixture
def env(monkeypatch, localcloud):
    monkeypatch.setenv("OSSBATCH_OSS_ENDPOINT", localcloud.oss_endpoint)
    monkeypatch.setenv("OSSBATCH_REPORT_PREFIX", "reports/")
    monkeypatch.delenv("OSSBATCH_REPORT_BUCKET", raising=False)


@pytest.fixture
def dest(localcloud, oss_auth):
    b = oss2.Bucket(oss_auth, localcloud.oss_endpoint, f"d-{uuid.uuid4().hex[:20]}")
    b.create_bucket()
    return b
