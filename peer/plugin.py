"""pytest plugin loaded into the peer run (`-p peer.plugin`): deselects the documented
exclusions, swaps the KMS-crypto bucket for the RSA one, and writes one outcome per case."""

from __future__ import annotations

import json
import os
import sys

import pytest

from peer.exclusions import EXCLUDED, KMS_SUBSTITUTED_FILES

_outcomes: dict[str, str] = {}


def _case_id(nodeid: str) -> str:
    return nodeid.removeprefix("tests/")


def pytest_collection_modifyitems(config, items):
    kept, dropped = [], []
    for item in items:
        (dropped if _case_id(item.nodeid) in EXCLUDED else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    common = sys.modules.get("tests.common")
    if common is not None and not getattr(common.OssTestCase, "_peer_kms_swapped", False):
        _swap_kms_bucket(common.OssTestCase)


def _swap_kms_bucket(case_class) -> None:
    original = case_class.setUp

    def setUp(self):  # noqa: N802 (unittest's name)
        original(self)
        if type(self).__module__.rsplit(".", 1)[-1] + ".py" in KMS_SUBSTITUTED_FILES:
            # localcloud does not emulate KMS: the random crypto-bucket choice falls on RSA
            self.kms_crypto_bucket = self.rsa_crypto_bucket

    case_class.setUp = setUp
    case_class._peer_kms_swapped = True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    case = _case_id(item.nodeid)
    if report.failed:
        _outcomes[case] = "failed" if report.when == "call" else "error"
    elif report.when == "call" and case not in _outcomes:
        _outcomes[case] = "skipped" if report.skipped else "passed"
    elif report.skipped and case not in _outcomes:
        _outcomes[case] = "skipped"


def pytest_sessionfinish(session):
    target = os.environ.get("PEER_OUTCOMES_DIR")
    if not target:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(os.path.join(target, f"outcomes-{worker}.json"), "w") as f:
        json.dump(_outcomes, f, indent=0, sort_keys=True)
