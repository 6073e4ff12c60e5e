"""Shared fixtures: a real localcloud process on free loopback ports."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import settings

from localcloud import launcher

# Deadlines time this shared 2-core machine, not the code; correctness is what the tests check.
settings.register_profile("ossbatch", deadline=None)
settings.load_profile("ossbatch")


@pytest.fixture(scope="session")
def localcloud(tmp_path_factory):
    """One localcloud for the session (fast restore clock); stopped at session end."""
    cloud = launcher.start(
        tmp_path_factory.mktemp("localcloud"),
        "--restore-seconds",
        "Archive=1,ColdArchive=2,DeepColdArchive=3",
    )
    yield cloud
    cloud.stop()


@pytest.fixture
def localcloud_factory(tmp_path):
    """Start extra localclouds with custom options; each is stopped by the test that made it."""
    started: list[launcher.LocalCloud] = []

    def make(*args: str, data_dir=None) -> launcher.LocalCloud:
        cloud = launcher.start(data_dir or tmp_path / f"lc-{len(started)}", *args)
        started.append(cloud)
        return cloud

    yield make
    for cloud in started:
        cloud.stop()


@pytest.fixture
def oss_auth(localcloud):
    import oss2

    return oss2.Auth(localcloud.access_key_id, localcloud.access_key_secret)


@pytest.fixture
def bucket(localcloud, oss_auth):
    """A fresh private bucket per test (unique name), through unmodified oss2."""
    import oss2

    name = f"t-{uuid.uuid4().hex[:20]}"
    b = oss2.Bucket(oss_auth, localcloud.oss_endpoint, name)
    b.create_bucket(oss2.BUCKET_ACL_PRIVATE)
    return b
