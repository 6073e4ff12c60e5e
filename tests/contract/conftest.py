"""Fixtures shared by the handler tests (modules without their own ``env`` get the copy one)."""

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


@pytest.fixture
def unzip_env(monkeypatch, localcloud):
    """The unzip and trigger handlers' environment (output/watch prefixes, no name encoding)."""
    monkeypatch.setenv("OSSBATCH_OSS_ENDPOINT", localcloud.oss_endpoint)
    monkeypatch.setenv("OSSBATCH_REPORT_PREFIX", "reports/")
    monkeypatch.setenv("OSSBATCH_OUTPUT_PREFIX", "out/")
    monkeypatch.setenv("OSSBATCH_WATCH_PREFIX", "in/")
    monkeypatch.delenv("OSSBATCH_NAME_ENCODING", raising=False)
    monkeypatch.delenv("OSSBATCH_UNZIP_PASSWORD", raising=False)


@pytest.fixture
def v2client(localcloud):
    """alibabacloud-oss-v2 as a new user builds it: defaults (V4), the endpoint, the region."""
    import alibabacloud_oss_v2 as oss

    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        localcloud.access_key_id, localcloud.access_key_secret
    )
    cfg.region = localcloud.region
    cfg.endpoint = localcloud.oss_endpoint
    return oss.Client(cfg)


@pytest.fixture
def v2bucket(v2client):
    """A fresh bucket made through alibabacloud-oss-v2; its name."""
    import alibabacloud_oss_v2 as oss

    name = f"v-{uuid.uuid4().hex[:20]}"
    v2client.put_bucket(oss.PutBucketRequest(bucket=name))
    return name
